//! Users, sessions and setup.

use async_graphql::{Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::user;

use crate::auth::sessions::Issued;

/// What a user may do.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::Role")]
pub enum Role {
    /// Everything, managing users included.
    Admin,
    /// All content work: write, review, publish, restore.
    Editor,
}

/// A person who signs in to the CMS.
pub struct User(pub user::Model);

/// A person who signs in to the CMS.
#[Object]
impl User {
    /// Stable identifier of the user.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Email address (lower-cased); the sign-in name.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// Name shown to colleagues.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }

    /// What the user may do.
    async fn role(&self) -> Role {
        self.0.role.into()
    }

    /// False once deactivated: the user can no longer sign in.
    async fn active(&self) -> bool {
        self.0.active
    }

    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the user last signed in; null when never.
    async fn last_login_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_login_at
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
            user: User(issued.user),
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
