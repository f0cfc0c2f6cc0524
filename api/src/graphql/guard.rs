//! GraphQL guards: every mutation but login, refresh and setup declares one, and a test
//! introspects the schema to prove it.

use async_graphql::{Context, Guard};
use entity::Role;

use super::context::request;

/// Who may call a field.
#[derive(Debug, Clone, Copy)]
pub enum RoleGuard {
    /// Any signed-in user (not an API token).
    SignedIn,
    /// Editors and admins (not an API token).
    Editor,
    /// Reviewers and admins (not an API token).
    Reviewer,
    /// Admins only (not an API token).
    Admin,
    /// Whoever may read drafts: users, and tokens with `PREVIEW` or `CONTENT_WRITE`.
    Drafts,
    /// Whoever may write content: users, and tokens with `CONTENT_WRITE`.
    ContentWrite,
    /// Admins, and tokens with `WEBHOOKS_MANAGE`.
    Webhooks,
}

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let (request, _) = request(ctx)?;
        match self {
            Self::SignedIn => request.viewer.user_id().map(|_| ()),
            Self::Editor => request.viewer.require(Role::Editor).map(|_| ()),
            Self::Reviewer => request.viewer.require(Role::Reviewer).map(|_| ()),
            Self::Admin => request.viewer.require(Role::Admin).map(|_| ()),
            Self::Drafts => request.viewer.require_drafts(),
            Self::ContentWrite => request.viewer.author().map(|_| ()),
            Self::Webhooks => request.viewer.require_webhooks(),
        }
        .map_err(Into::into)
    }
}
