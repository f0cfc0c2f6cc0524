//! Authentication and authorization: passwords (argon2id), access tokens (HS256 JWT),
//! rotating refresh-token sessions, the login throttle, first-admin setup, user
//! management and the GraphQL guards.

pub mod api_tokens;
pub mod media_links;
pub mod password;
pub mod preview;
pub mod sessions;
pub mod setup;
pub mod throttle;
pub mod tokens;
pub mod users;

use entity::{Role, session, user};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

pub use crate::config::settings::AuthSettings;
use crate::errors::{ApiError, ApiResult};
pub use throttle::ThrottleSettings;
pub use tokens::Keys;

/// Who is making a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// No credentials: published content only.
    Anonymous,
    /// A signed-in, active user.
    User {
        /// The user's id.
        id: i32,
        /// The user's current role (read from the database, not from the token).
        role: Role,
    },
    /// A preview link's token: reads one document's draft, nothing more.
    Preview(preview::Previewed),
    /// An integration with a live API token.
    Token {
        /// The token's id.
        id: i32,
        /// The admin who created it (writes are attributed to them and the token).
        creator: i32,
        /// What it may do.
        scopes: api_tokens::Scopes,
    },
}

impl Viewer {
    /// The signed-in user's id, or `UNAUTHENTICATED` (`FORBIDDEN` for an API token: what
    /// needs a person, such as accounts and passwords, is not for tokens).
    pub fn user_id(&self) -> ApiResult<i32> {
        match self {
            Self::User { id, .. } => Ok(*id),
            Self::Token { .. } => Err(ApiError::Forbidden(
                "an API token cannot do this: sign in as a user".into(),
            )),
            Self::Preview(_) => Err(ApiError::Forbidden(
                "a preview link only reads its own document".into(),
            )),
            Self::Anonymous => Err(ApiError::Unauthenticated(
                "sign in to do this (send `Authorization: Bearer <access token>`)".into(),
            )),
        }
    }

    /// Is this a signed-in user (who may see other users' account details)?
    pub fn is_editor(&self) -> bool {
        matches!(self, Self::User { .. })
    }

    /// May this viewer read drafts: a user, or a token with `PREVIEW` or `CONTENT_WRITE`?
    pub fn sees_drafts(&self) -> bool {
        match self {
            Self::User { .. } => true,
            Self::Token { scopes, .. } => {
                scopes.has(api_tokens::Scope::Preview)
                    || scopes.has(api_tokens::Scope::ContentWrite)
            }
            Self::Anonymous | Self::Preview(_) => false,
        }
    }

    /// Whom a content write is attributed to: a user, or a token with `CONTENT_WRITE`
    /// (and its creator); `UNAUTHENTICATED` or `FORBIDDEN` otherwise.
    pub fn author(&self) -> ApiResult<crate::content::Author> {
        match self {
            Self::User { id, .. } => Ok(crate::content::Author::user(*id)),
            Self::Token {
                id,
                creator,
                scopes,
            } if scopes.has(api_tokens::Scope::ContentWrite) => Ok(crate::content::Author {
                user: *creator,
                token: Some(*id),
            }),
            Self::Token { .. } => Err(ApiError::Forbidden(
                "this API token lacks the CONTENT_WRITE scope".into(),
            )),
            Self::Anonymous | Self::Preview(_) => self.user_id().map(crate::content::Author::user),
        }
    }

    /// Whether the viewer may manage webhooks: an admin, or a token with `WEBHOOKS_MANAGE`.
    pub fn require_webhooks(&self) -> ApiResult<()> {
        match self {
            Self::Token { scopes, .. } if scopes.has(api_tokens::Scope::WebhooksManage) => Ok(()),
            Self::Token { .. } => Err(ApiError::Forbidden(
                "this API token lacks the WEBHOOKS_MANAGE scope".into(),
            )),
            _ => self.require(Role::Admin).map(|_| ()),
        }
    }

    /// Whether the viewer may read drafts, or the error that says why not.
    pub fn require_drafts(&self) -> ApiResult<()> {
        match self {
            _ if self.sees_drafts() => Ok(()),
            Self::Token { .. } => Err(ApiError::Forbidden(
                "this API token lacks the PREVIEW scope".into(),
            )),
            _ => self.user_id().map(|_| ()),
        }
    }

    /// The user's id when the role is at least `needed`; `UNAUTHENTICATED` or `FORBIDDEN` otherwise.
    /// Roles rank `EDITOR` < `REVIEWER` < `ADMIN`: a reviewer does all an editor does and
    /// approves content; only admins manage users and override a review.
    pub fn require(&self, needed: Role) -> ApiResult<i32> {
        let id = self.user_id()?;
        let Self::User { role, .. } = self else {
            return Err(ApiError::Forbidden("this needs a signed-in user".into()));
        };
        if rank(*role) >= rank(needed) {
            return Ok(id);
        }
        Err(ApiError::Forbidden(match needed {
            Role::Admin => "this needs the ADMIN role".into(),
            Role::Reviewer => "only a REVIEWER or an ADMIN approves content".into(),
            Role::Editor => "this needs the EDITOR role".into(),
        }))
    }
}

/// The rank of a role: each does all that those below it do.
fn rank(role: Role) -> u8 {
    match role {
        Role::Editor => 0,
        Role::Reviewer => 1,
        Role::Admin => 2,
    }
}

impl Auth {
    /// A preview link's token for `document`, minted by `editor`; when it expires.
    pub fn preview_token(
        &self,
        editor: i32,
        document: preview::Previewed,
    ) -> ApiResult<(String, chrono::DateTime<chrono::Utc>)> {
        preview::issue(
            self.keys.secret(),
            editor,
            document,
            self.settings.preview_ttl,
        )
    }

    /// The query of a signed address of media object `name` (`expires=...&signature=...`).
    pub fn media_link_query(&self, name: &str) -> String {
        let expires = media_links::expiry(crate::db::now().timestamp());
        let signature = media_links::sign(self.keys.secret(), name, expires);
        format!("expires={expires}&signature={signature}")
    }

    /// Whether `signature` is this server's for media object `name` until `expires`, and
    /// that time has not come.
    pub fn media_link_valid(&self, name: &str, expires: i64, signature: &str) -> bool {
        media_links::verify(
            self.keys.secret(),
            name,
            expires,
            signature,
            crate::db::now().timestamp(),
        )
    }
}

/// Everything authentication needs at run time, shared by all requests.
pub struct Auth {
    /// Signing keys.
    pub keys: Keys,
    /// Lifetimes and limits.
    pub settings: AuthSettings,
    /// A hash to verify against when the email is unknown, so that both failures take
    /// the same time.
    dummy_hash: String,
}

impl Auth {
    /// Prepares authentication with the signing `secret`.
    pub async fn new(secret: &[u8], settings: AuthSettings) -> ApiResult<Self> {
        let dummy_hash = password::hash("dermis-timing-equalizer".to_owned()).await?;
        Ok(Self {
            keys: Keys::new(secret),
            settings,
            dummy_hash,
        })
    }

    /// The viewer a bearer token stands for: the token must be valid, the user active, the
    /// token's `token_version` current and its session not ended (by logout, or reuse of a
    /// rotated refresh token). Read from the database on every request, by one statement:
    /// no node keeps a copy that a revocation on another node would first have to reach.
    pub async fn authenticate(&self, db: &DatabaseConnection, token: &str) -> ApiResult<Viewer> {
        if api_tokens::is_api_token(token) {
            return api_tokens::authenticate(db, token).await;
        }
        if preview::is_preview_token(token) {
            return preview::authenticate(db, self.keys.secret(), token).await;
        }
        let claims = self.keys.decode(token)?;
        let user_id = claims.user_id()?;
        let live_session = Query::select()
            .expr(Expr::val(1))
            .from(session::Entity)
            .and_where(session::Column::FamilyId.eq(claims.sid.as_str()))
            .and_where(session::Column::UserId.eq(user_id))
            .and_where(session::Column::RevokedAt.is_null())
            .to_owned();
        let current = user::Entity::find_by_id(user_id)
            .filter(user::Column::Active.eq(true))
            .filter(user::Column::TokenVersion.eq(claims.tv))
            .filter(Expr::exists(live_session));
        let user = crate::db::unique(current, db)
            .await?
            .ok_or_else(|| ApiError::Unauthenticated("the access token was revoked".into()))?;
        Ok(Viewer::User {
            id: user.id,
            role: user.role,
        })
    }
}
