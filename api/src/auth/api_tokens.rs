//! API tokens: long-lived credentials an admin gives an integration (a build server, a
//! partner, a preview frontend), each limited to its scopes. The secret is shown once, has a
//! recognisable prefix (secret scanners find leaked ones) and is stored only as a SHA-256
//! hash. A token works while it is neither revoked nor expired and its creator is an active
//! admin; every request checks that in the database, so a revocation holds at once on every
//! node. A token never manages users.

use chrono::{DateTime, Utc};
use entity::{Role, api_token, user};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use sha2::{Digest, Sha256};

use super::Viewer;
use crate::db::now;
use crate::errors::{ApiError, ApiResult};

/// How every token secret begins ("dermis token").
pub const SECRET_PREFIX: &str = "dmt_";

/// Characters of the secret kept (and shown) to tell tokens apart: the prefix and four more.
const SHOWN: usize = SECRET_PREFIX.len() + 4;

/// Longest token name, in characters.
const MAX_NAME: usize = 200;

/// `last_used_at` is written at most this often per token (it is not a request log).
const LAST_USED_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Read drafts: what `preview: true` and the revision history give an editor.
    Preview,
    /// The content mutations (create, update, publish, archive, delete, restore), drafts
    /// included.
    ContentWrite,
    /// Webhook endpoints and their deliveries.
    WebhooksManage,
}

impl Scope {
    /// Every scope, in the order they are listed.
    pub const ALL: [Scope; 3] = [Scope::Preview, Scope::ContentWrite, Scope::WebhooksManage];

    /// The stored (and GraphQL) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Preview => "PREVIEW",
            Self::ContentWrite => "CONTENT_WRITE",
            Self::WebhooksManage => "WEBHOOKS_MANAGE",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Self::Preview => 1,
            Self::ContentWrite => 2,
            Self::WebhooksManage => 4,
        }
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// Whether `scope` is in the set.
    pub fn has(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The scopes, in [`Scope::ALL`] order.
    pub fn list(self) -> Vec<Scope> {
        Scope::ALL.into_iter().filter(|s| self.has(*s)).collect()
    }

    /// As stored: names joined by commas.
    fn stored(self) -> String {
        let names: Vec<&str> = self.list().into_iter().map(Scope::as_str).collect();
        names.join(",")
    }

    /// From the stored form; unknown names are ignored (a scope removed later grants nothing).
    pub fn parse(stored: &str) -> Self {
        Self(
            stored
                .split(',')
                .filter_map(|name| Scope::ALL.into_iter().find(|s| s.as_str() == name.trim()))
                .fold(0, |bits, scope| bits | scope.bit()),
        )
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |bits, scope| bits | scope.bit()))
    }
}

/// What an admin asks for.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// What it is for.
    pub name: String,
    /// What it may do: at least one scope, each once.
    pub scopes: Vec<Scope>,
    /// When it stops working; never when `None`.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token just made: its secret, shown once, and its row.
#[derive(Debug, Clone)]
pub struct Created {
    /// The secret to send as `Authorization: Bearer`.
    pub secret: String,
    /// The stored token.
    pub token: api_token::Model,
}

fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a bearer credential is (meant as) an API token rather than an access token.
pub fn is_api_token(credential: &str) -> bool {
    credential.starts_with(SECRET_PREFIX)
}

/// Creates a token for the active admin `creator`.
pub async fn create(db: &DatabaseConnection, creator: i32, input: NewToken) -> ApiResult<Created> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(ApiError::bad_input(
            "input.name",
            format!("the name must have 1 to {MAX_NAME} characters"),
        ));
    }
    let scopes: Scopes = input.scopes.iter().copied().collect();
    if scopes == Scopes::default() {
        return Err(ApiError::bad_input(
            "input.scopes",
            "give the token at least one scope",
        ));
    }
    if scopes.list().len() != input.scopes.len() {
        return Err(ApiError::bad_input("input.scopes", "list each scope once"));
    }
    if input.expires_at.is_some_and(|at| at <= now()) {
        return Err(ApiError::bad_input(
            "input.expiresAt",
            "the expiry must be in the future",
        ));
    }
    let secret = format!("{SECRET_PREFIX}{}", super::sessions::random_token());
    let token = api_token::ActiveModel {
        name: Set(name.to_owned()),
        prefix: Set(secret.chars().take(SHOWN).collect()),
        token_hash: Set(hash(&secret)),
        scopes: Set(scopes.stored()),
        created_by: Set(creator),
        created_at: Set(now()),
        expires_at: Set(input.expires_at),
        revoked_at: Set(None),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Created { secret, token })
}

/// Every token, newest first.
pub async fn list(db: &DatabaseConnection) -> ApiResult<Vec<api_token::Model>> {
    Ok(api_token::Entity::find()
        .order_by_desc(api_token::Column::Id)
        .all(db)
        .await?)
}

/// A token by id, or `NOT_FOUND`.
pub async fn get(db: &DatabaseConnection, id: i32) -> ApiResult<api_token::Model> {
    api_token::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no API token with id {id}")))
}

/// Revokes a token (at once, on every node); revoking a revoked token changes nothing.
pub async fn revoke(db: &DatabaseConnection, id: i32) -> ApiResult<api_token::Model> {
    api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now()))
        .filter(api_token::Column::Id.eq(id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    get(db, id).await
}

/// Whether a token works now (for lists: revocation, expiry).
pub fn is_active(token: &api_token::Model) -> bool {
    token.revoked_at.is_none() && token.expires_at.is_none_or(|at| at > now())
}

/// The viewer an API token secret stands for: a live token of an active admin, read from
/// the database in one statement; `UNAUTHENTICATED` otherwise.
pub async fn authenticate(db: &DatabaseConnection, secret: &str) -> ApiResult<Viewer> {
    let refused =
        || ApiError::Unauthenticated("the API token is invalid, expired or revoked".into());
    if secret.len() > 128 {
        return Err(refused());
    }
    let active_admin = Query::select()
        .expr(Expr::val(1))
        .from(user::Entity)
        .and_where(
            Expr::col((user::Entity, user::Column::Id))
                .equals((api_token::Entity, api_token::Column::CreatedBy)),
        )
        .and_where(user::Column::Active.eq(true))
        .and_where(user::Column::Role.eq(Role::Admin))
        .to_owned();
    let live = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash(secret)))
        .filter(api_token::Column::RevokedAt.is_null())
        .filter(
            Condition::any()
                .add(api_token::Column::ExpiresAt.is_null())
                .add(api_token::Column::ExpiresAt.gt(now())),
        )
        .filter(Expr::exists(active_admin));
    let token = crate::db::unique(live, db).await?.ok_or_else(refused)?;
    if token
        .last_used_at
        .is_none_or(|at| now() - at >= LAST_USED_EVERY)
    {
        // Off the request's path: a lost update only makes `lastUsedAt` a minute older.
        let db = db.clone();
        tokio::spawn(async move {
            let _ = api_token::Entity::update_many()
                .col_expr(api_token::Column::LastUsedAt, Expr::value(now()))
                .filter(api_token::Column::Id.eq(token.id))
                .exec(&db)
                .await;
        });
    }
    Ok(Viewer::Token {
        id: token.id,
        creator: token.created_by,
        scopes: Scopes::parse(&token.scopes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_survive_storage_and_unknown_names_grant_nothing() {
        let scopes: Scopes = [Scope::ContentWrite, Scope::Preview].into_iter().collect();
        assert_eq!(scopes.stored(), "PREVIEW,CONTENT_WRITE");
        assert_eq!(Scopes::parse(&scopes.stored()), scopes);
        assert_eq!(Scopes::parse("ADMIN,USERS_MANAGE"), Scopes::default());
    }
}
