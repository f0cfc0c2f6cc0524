//! Users, sessions and setup.

use async_graphql::{Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::user;

use crate::auth::sessions::Issued;
use crate::errors::{ApiError, ApiResult};

/// What a user may do.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::Role")]
pub enum Role {
    /// Everything, managing users included.
    Admin,
    /// All content work: write, submit for review, publish approved content, restore.
    Editor,
    /// A clinician: all content work, and approving topics for publication (not users).
    Reviewer,
}

/// A person who signs in to the CMS.
pub struct User {
    model: user::Model,
    /// Whether the account's details (email, role, activity) may be shown: to signed-in
    /// callers and to the user themselves (`login`'s payload), not to the public, which
    /// meets users as the reviewers of topics.
    details: bool,
}

impl User {
    /// The fields only signed-in callers (and the user signing in) see.
    pub const DETAILS: [&'static str; 5] = ["email", "role", "active", "createdAt", "lastLoginAt"];

    /// A user with every field, for signed-in callers and for the user's own sign-in.
    pub fn account(model: user::Model) -> Self {
        Self {
            model,
            details: true,
        }
    }

    /// The account of user `id` (batched with the request's other lookups), for signed-in
    /// callers: `None` when there is no id or the account was deleted.
    pub async fn account_by_id(
        ctx: &async_graphql::Context<'_>,
        id: Option<i32>,
    ) -> ApiResult<Option<Self>> {
        let Some(id) = id else {
            return Ok(None);
        };
        let (request, _) = crate::graphql::context::request(ctx)?;
        Ok(request
            .links
            .load_one(crate::graphql::loaders::UserById(id))
            .await?
            .map(Self::account))
    }

    /// A user as `viewer` may see them: anonymous callers see the id and the name only.
    pub fn seen_by(model: user::Model, viewer: &crate::auth::Viewer) -> Self {
        Self {
            model,
            details: viewer.is_editor(),
        }
    }

    /// `value` when the caller may see the account's details.
    fn detail<T>(&self, value: T) -> ApiResult<T> {
        if self.details {
            Ok(value)
        } else {
            Err(ApiError::Unauthenticated(
                "sign in to see a user's account details; anonymous callers see `id` and `displayName`"
                    .into(),
            ))
        }
    }
}

/// A person who signs in to the CMS. Anonymous callers meet users as the reviewers of
/// topics and see their `id` and `displayName` only; the other fields are
/// `UNAUTHENTICATED` for them.
#[Object]
impl User {
    /// Stable identifier of the user.
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    /// Email address (lower-cased); the sign-in name.
    async fn email(&self) -> ApiResult<&str> {
        self.detail(&self.model.email)
    }

    /// Name shown to colleagues.
    async fn display_name(&self) -> &str {
        &self.model.display_name
    }

    /// What the user may do.
    async fn role(&self) -> ApiResult<Role> {
        self.detail(self.model.role.into())
    }

    /// False once deactivated: the user can no longer sign in.
    async fn active(&self) -> ApiResult<bool> {
        self.detail(self.model.active)
    }

    /// When the account was created.
    async fn created_at(&self) -> ApiResult<DateTime<Utc>> {
        self.detail(self.model.created_at)
    }

    /// When the user last signed in; null when never.
    async fn last_login_at(&self) -> ApiResult<Option<DateTime<Utc>>> {
        self.detail(self.model.last_login_at)
    }
}

/// The tokens of a session. Send `accessToken` as `Authorization: Bearer <token>`; before
/// it expires, exchange `refreshToken` with `refreshSession` for new tokens.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Short-lived access token (a JWT).
    pub access_token: String,
    /// When the access token stops working.
    pub access_token_expires_at: DateTime<Utc>,
    /// Single-use token for `refreshSession`; keep it secret.
    pub refresh_token: String,
    /// When the refresh token stops working.
    pub refresh_token_expires_at: DateTime<Utc>,
    /// The signed-in user.
    pub user: User,
}

impl From<Issued> for AuthPayload {
    fn from(issued: Issued) -> Self {
        Self {
            access_token: issued.access_token,
            access_token_expires_at: issued.access_expires_at,
            refresh_token: issued.refresh_token,
            refresh_token_expires_at: issued.refresh_expires_at,
            user: User::account(issued.user),
        }
    }
}

/// Whether the server still waits for its first admin.
#[derive(SimpleObject)]
pub struct SetupStatus {
    /// True while no user exists: create the first admin with `createFirstAdmin` and the
    /// setup code from the server's log.
    pub needs_setup: bool,
}
