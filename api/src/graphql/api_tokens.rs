//! API tokens in the schema: the `ApiToken` type, the admins' `apiTokens` list and the
//! `createApiToken` / `revokeApiToken` mutations.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::api_token;

use super::context::request;
use super::guard::RoleGuard;
use super::types::User;
use crate::auth::api_tokens::{self, NewToken, Scope};
use crate::auth::users;
use crate::content::validate;
use crate::errors::ApiResult;

/// What an API token may do.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum ApiTokenScope {
    /// Read drafts: `preview: true`, draft statuses in lists, and revision history.
    Preview,
    /// Create, update, publish, unpublish, archive, delete and restore content (drafts can
    /// be read too). Writes are attributed to the token and the admin who created it.
    ContentWrite,
    /// Manage webhook endpoints and see, redeliver and test their deliveries.
    WebhooksManage,
}

impl From<ApiTokenScope> for Scope {
    fn from(value: ApiTokenScope) -> Self {
        match value {
            ApiTokenScope::Preview => Self::Preview,
            ApiTokenScope::ContentWrite => Self::ContentWrite,
            ApiTokenScope::WebhooksManage => Self::WebhooksManage,
        }
    }
}

impl From<Scope> for ApiTokenScope {
    fn from(value: Scope) -> Self {
        match value {
            Scope::Preview => Self::Preview,
            Scope::ContentWrite => Self::ContentWrite,
            Scope::WebhooksManage => Self::WebhooksManage,
        }
    }
}

/// A credential for an integration (a build server, a partner, a preview frontend). Its
/// secret is shown once, when it is created.
pub struct ApiToken(pub api_token::Model);

/// A credential for an integration, sent as `Authorization: Bearer dmt_...`.
#[Object]
impl ApiToken {
    /// Stable identifier (pass it to `revokeApiToken`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// What it is for.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The secret's first characters, to recognise it (the secret itself is not stored).
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }

    /// What it may do.
    async fn scopes(&self) -> Vec<ApiTokenScope> {
        api_tokens::Scopes::parse(&self.0.scopes)
            .list()
            .into_iter()
            .map(Into::into)
            .collect()
    }

    /// The admin who created it; the token works only while they are an active admin.
    async fn created_by(&self, ctx: &Context<'_>) -> ApiResult<User> {
        let (_, db) = request(ctx)?;
        Ok(User::account(users::get(db, self.0.created_by).await?))
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it stops working; null: never.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }

    /// When it was revoked; null: not revoked.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }

    /// When it last authenticated a request (at most a minute behind); null: never used.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }

    /// Whether it works now: neither revoked nor expired.
    async fn active(&self) -> bool {
        api_tokens::is_active(&self.0)
    }
}

/// A new API token.
#[derive(InputObject)]
pub struct CreateApiTokenInput {
    /// What it is for (1 to 200 characters).
    pub name: String,
    /// What it may do; at least one.
    pub scopes: Vec<ApiTokenScope>,
    /// When it stops working; omit for never.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The token to revoke.
#[derive(InputObject)]
pub struct RevokeApiTokenInput {
    /// Its id.
    pub id: ID,
}

/// A token just created, with its secret.
#[derive(SimpleObject)]
pub struct CreateApiTokenPayload {
    /// The secret, shown this once: send it as `Authorization: Bearer <secret>`.
    pub secret: String,
    /// The token.
    pub api_token: ApiToken,
}

/// A token as it is now.
#[derive(SimpleObject)]
pub struct ApiTokenPayload {
    /// The token.
    pub api_token: ApiToken,
}

/// Admins' list of API tokens.
#[derive(Default)]
pub struct ApiTokenQueries;

/// Admins' list of API tokens.
#[Object]
impl ApiTokenQueries {
    /// Admins only: every API token, newest first, revoked and expired ones included.
    #[graphql(
        guard = "RoleGuard::Admin",
        complexity = "crate::graphql::limits::list_cost(child_complexity)"
    )]
    async fn api_tokens(&self, ctx: &Context<'_>) -> ApiResult<Vec<ApiToken>> {
        let (_, db) = request(ctx)?;
        Ok(api_tokens::list(db)
            .await?
            .into_iter()
            .map(ApiToken)
            .collect())
    }
}

/// API token management; admins only (signed in as users: a token cannot make tokens).
#[derive(Default)]
pub struct ApiTokenMutations;

/// API token management; admins only.
#[Object]
impl ApiTokenMutations {
    /// Creates an API token and answers its secret, this once.
    #[graphql(guard = "RoleGuard::Admin")]
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new token.")] input: CreateApiTokenInput,
    ) -> ApiResult<CreateApiTokenPayload> {
        let (request, db) = request(ctx)?;
        let creator = request.viewer.user_id()?;
        let created = api_tokens::create(
            db,
            creator,
            NewToken {
                name: input.name,
                scopes: input.scopes.into_iter().map(Scope::from).collect(),
                expires_at: input.expires_at,
            },
        )
        .await?;
        Ok(CreateApiTokenPayload {
            secret: created.secret,
            api_token: ApiToken(created.token),
        })
    }

    /// Revokes an API token: it is refused from the next request on, on every node.
    #[graphql(guard = "RoleGuard::Admin")]
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token.")] input: RevokeApiTokenInput,
    ) -> ApiResult<ApiTokenPayload> {
        let (_, db) = request(ctx)?;
        let id = validate::id(&input.id, "input.id")?;
        Ok(ApiTokenPayload {
            api_token: ApiToken(api_tokens::revoke(db, id).await?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_has_its_graphql_name() {
        for scope in Scope::ALL {
            let graphql: ApiTokenScope = scope.into();
            assert_eq!(Scope::from(graphql), scope);
            use async_graphql::InputType;
            assert_eq!(
                graphql.to_value(),
                async_graphql::Value::Enum(async_graphql::Name::new(scope.as_str()))
            );
        }
    }
}
