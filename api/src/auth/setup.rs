//! First-admin setup: while no user exists, the server prints a one-time setup code to its
//! log, and `createFirstAdmin` accepts it exactly once.

use entity::{Role, setting, user};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, PaginatorTrait, Set};
use subtle::ConstantTimeEq;

use super::users::{self, NewUser};
use super::{Auth, sessions};
use crate::db::now;
use crate::errors::{ApiError, ApiResult};

const CODE_KEY: &str = "setup_code";
const CLAIM_KEY: &str = "setup_claimed";

/// True while no user exists.
pub async fn needs_setup(db: &DatabaseConnection) -> ApiResult<bool> {
    Ok(user::Entity::find().count(db).await? == 0)
}

/// The setup code while setup is needed (created once and shared by every node), or None.
pub async fn code(db: &DatabaseConnection) -> ApiResult<Option<String>> {
    if !needs_setup(db).await? {
        return Ok(None);
    }
    let candidate = sessions::random_token()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect::<String>()
        .to_uppercase();
    setting::Entity::insert(setting::ActiveModel {
        key: Set(CODE_KEY.to_owned()),
        value: Set(candidate),
        updated_at: Set(now()),
    })
    .on_conflict_do_nothing_on([setting::Column::Key])
    .exec(db)
    .await?;
    Ok(setting::Entity::find_by_id(CODE_KEY.to_owned())
        .one(db)
        .await?
        .map(|row| row.value))
}

/// Creates the first admin; works only while no user exists and with the setup code.
/// Of concurrent calls exactly one succeeds: each must insert the same settings key.
pub async fn create_first_admin(
    db: &DatabaseConnection,
    auth: &Auth,
    setup_code: &str,
    input: NewUser,
) -> ApiResult<sessions::Issued> {
    let done = || ApiError::Forbidden("setup is done: an admin exists already".into());
    if !needs_setup(db).await? {
        return Err(done());
    }
    // Read the code, never create one here: a missing code means a concurrent call has
    // just claimed the setup (it deletes the code with the same commit that adds the admin).
    let Some(expected) = setting::Entity::find_by_id(CODE_KEY.to_owned())
        .one(db)
        .await?
        .map(|row| row.value)
    else {
        return Err(done());
    };
    if !bool::from(
        expected
            .as_bytes()
            .ct_eq(setup_code.trim().to_uppercase().as_bytes()),
    ) {
        return Err(ApiError::bad_input(
            "input.setupCode",
            "the setup code is not correct (the server prints it to its log at start)",
        ));
    }
    let admin = users::prepare(NewUser {
        role: Role::Admin,
        ..input
    })
    .await?;
    let txn = crate::db::begin_content_write(db).await?;
    let claimed = setting::ActiveModel {
        key: Set(CLAIM_KEY.to_owned()),
        value: Set("1".to_owned()),
        updated_at: Set(now()),
    }
    .insert(&txn)
    .await;
    if claimed.is_err() || user::Entity::find().count(&txn).await? != 0 {
        return Err(done());
    }
    let admin = admin.insert(&txn).await?;
    setting::Entity::delete_by_id(CODE_KEY.to_owned())
        .exec(&txn)
        .await?;
    txn.commit().await.map_err(|_| done())?;
    tracing::info!(user = admin.id, "first admin created");
    sessions::start(db, auth, admin).await
}
