//! Users: creation, changes, deactivation and passwords. Changing a password or
//! deactivating a user bumps `token_version`, which ends every session at once.

use std::net::IpAddr;

use entity::{Role, user};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use super::throttle::{self, Key};
use super::{Auth, password, sessions};
use crate::db::now;
use crate::errors::{ApiError, ApiResult};

/// Longest display name, in characters.
const MAX_NAME: usize = 200;

/// The email, trimmed and lower-cased, if it looks like one.
pub fn normalize_email(email: &str, field: &str) -> ApiResult<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 320
        && !email.contains(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if !valid {
        return Err(ApiError::bad_input(field, "enter a valid email address"));
    }
    Ok(email)
}

fn check_name(name: &str, field: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(ApiError::bad_input(
            field,
            format!("the display name must have 1 to {MAX_NAME} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// Every user, by email.
pub async fn list(db: &DatabaseConnection) -> ApiResult<Vec<user::Model>> {
    Ok(user::Entity::find()
        .order_by_asc(user::Column::Email)
        .all(db)
        .await?)
}

/// A user by id, or `NOT_FOUND`.
pub async fn get(db: &DatabaseConnection, id: i32) -> ApiResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no user with id {id}")))
}

/// A user by email (any case).
pub async fn by_email(db: &DatabaseConnection, email: &str) -> ApiResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await?)
}

/// The fields of a new user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Email (any case).
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Plain password (checked against the policy, then hashed).
    pub password: String,
}

/// Validates a new user and hashes the password; nothing is written.
pub async fn prepare(input: NewUser) -> ApiResult<user::ActiveModel> {
    let email = normalize_email(&input.email, "input.email")?;
    let display_name = check_name(&input.display_name, "input.displayName")?;
    password::check_policy(&input.password, "input.password")?;
    let hash = password::hash(input.password).await?;
    let at = now();
    Ok(user::ActiveModel {
        email: Set(email),
        display_name: Set(display_name),
        password_hash: Set(hash),
        role: Set(input.role),
        active: Set(true),
        token_version: Set(0),
        created_at: Set(at),
        updated_at: Set(at),
        last_login_at: Set(None),
        ..Default::default()
    })
}

fn email_taken(err: ApiError) -> ApiError {
    if err.is_unique_violation() {
        ApiError::bad_input("input.email", "a user with this email exists already")
    } else {
        err
    }
}

/// Creates a user.
pub async fn create(db: &DatabaseConnection, input: NewUser) -> ApiResult<user::Model> {
    let model = prepare(input).await?;
    model.insert(db).await.map_err(|e| email_taken(e.into()))
}

/// Changes a user's email, name or role, announced as a content write (the public sees a
/// reviewer's name).
pub async fn update(
    db: &DatabaseConnection,
    id: i32,
    email: Option<String>,
    display_name: Option<String>,
    role: Option<Role>,
) -> ApiResult<user::Model> {
    let current = get(db, id).await?;
    if role.is_some_and(|role| role != Role::Admin) && current.role == Role::Admin {
        ensure_other_admin(db, id).await?;
    }
    let mut model: user::ActiveModel = current.into();
    if let Some(email) = email {
        model.email = Set(normalize_email(&email, "input.email")?);
    }
    if let Some(name) = display_name {
        model.display_name = Set(check_name(&name, "input.displayName")?);
    }
    if let Some(role) = role {
        model.role = Set(role);
    }
    model.updated_at = Set(now());
    // A content write: the public sees a reviewer's name.
    let txn = crate::db::begin_content_write(db).await?;
    let model = model
        .update(&txn)
        .await
        .map_err(|e| email_taken(e.into()))?;
    txn.commit().await?;
    Ok(model)
}

/// Refuses when `id` is the last active admin.
async fn ensure_other_admin(db: &DatabaseConnection, id: i32) -> ApiResult<()> {
    let others = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Id.ne(id))
        .count(db)
        .await?;
    if others == 0 {
        return Err(ApiError::bad_input(
            "input.id",
            "this is the last active admin; make someone else admin first",
        ));
    }
    Ok(())
}

/// Deactivates a user and ends all of its sessions.
pub async fn deactivate(db: &DatabaseConnection, id: i32) -> ApiResult<user::Model> {
    let current = get(db, id).await?;
    if current.role == Role::Admin {
        ensure_other_admin(db, id).await?;
    }
    user::Entity::update_many()
        .col_expr(user::Column::Active, Expr::value(false))
        .col_expr(
            user::Column::TokenVersion,
            Expr::col(user::Column::TokenVersion).add(1),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(now()))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    get(db, id).await
}

/// Sets a new password and ends all of the user's sessions.
pub async fn set_password(
    db: &DatabaseConnection,
    id: i32,
    new_password: String,
    field: &str,
) -> ApiResult<user::Model> {
    password::check_policy(&new_password, field)?;
    let hash = password::hash(new_password).await?;
    let result = user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(
            user::Column::TokenVersion,
            Expr::col(user::Column::TokenVersion).add(1),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(now()))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(ApiError::NotFound(format!("no user with id {id}")));
    }
    get(db, id).await
}

/// Changes the caller's own password after checking the current one; every session ends
/// and a new one starts for the caller.
pub async fn change_own_password(
    db: &DatabaseConnection,
    auth: &Auth,
    id: i32,
    current_password: String,
    new_password: String,
    client: Option<IpAddr>,
) -> ApiResult<sessions::Issued> {
    let user = get(db, id).await?;
    // Checked before the current password is: a refusal costs no argon2.
    password::check_policy(&new_password, "input.newPassword")?;
    let own = Key::PasswordChange(id);
    let keys = throttle_keys(own.clone(), client);
    let attempt = throttle::reserve(db, &auth.settings.throttle, &keys).await?;
    if !password::verify(current_password, user.password_hash).await? {
        attempt.failed();
        return Err(ApiError::bad_input(
            "input.currentPassword",
            "the current password is not correct",
        ));
    }
    attempt.succeeded(db, &own).await?;
    let user = set_password(db, id, new_password, "input.newPassword").await?;
    sessions::start(db, auth, user).await
}

/// The throttle keys of an attempt: its own, and its client's when known.
fn throttle_keys(key: Key, client: Option<IpAddr>) -> Vec<Key> {
    std::iter::once(key)
        .chain(client.map(Key::Client))
        .collect()
}

/// Signs in: throttled per account and client address; the same answer, in about the same
/// time, for an unknown email, an inactive user and a wrong password.
pub async fn login(
    db: &DatabaseConnection,
    auth: &Auth,
    email: &str,
    password_attempt: String,
    client: Option<IpAddr>,
) -> ApiResult<sessions::Issued> {
    // Something that is not an email address cannot be an account: saying so reveals
    // nothing, and keeps megabytes of "email" out of the throttle table.
    let email = normalize_email(email, "input.email")?;
    let account = Key::Account(email.clone());
    let keys = throttle_keys(account.clone(), client);
    let attempt = throttle::reserve(db, &auth.settings.throttle, &keys).await?;
    let user = by_email(db, &email).await?.filter(|user| user.active);
    let hash = user.as_ref().map_or_else(
        || auth.dummy_hash.clone(),
        |user| user.password_hash.clone(),
    );
    let matches = password::verify(password_attempt, hash).await?;
    let Some(user) = user.filter(|_| matches) else {
        attempt.failed();
        return Err(ApiError::Unauthenticated("wrong email or password".into()));
    };
    attempt.succeeded(db, &account).await?;
    let mut model: user::ActiveModel = user.into();
    model.last_login_at = Set(Some(now()));
    let user = model.update(db).await?;
    sessions::start(db, auth, user).await
}
