//! Revisions: the history of a document.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::revision;

use super::User;
use crate::content::snapshot::Snapshot;
use crate::errors::{ApiError, ApiResult};
use crate::graphql::context::request;

/// A kind of document.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum DocumentType {
    /// A topic (procedure).
    Topic,
    /// A condition.
    Condition,
    /// A side effect.
    SideEffect,
}

impl DocumentType {
    /// The name stored in `revisions.entity_type`.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Topic => "topic",
            Self::Condition => "condition",
            Self::SideEffect => "side_effect",
        }
    }

    /// The type of a stored document kind (`topic`, `condition`, `side_effect`).
    pub fn from_kind(kind: &str) -> Self {
        match kind {
            "topic" => Self::Topic,
            "condition" => Self::Condition,
            _ => Self::SideEffect,
        }
    }
}

/// One saved state of a document. Every write appends one; restoring appends one too.
pub struct Revision(pub revision::Model);

/// One saved state of a document. Every write appends one; restoring appends one too.
#[Object]
impl Revision {
    /// Stable identifier of the revision (pass it to `restoreRevision`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The kind of document.
    async fn document_type(&self) -> DocumentType {
        DocumentType::from_kind(&self.0.entity_type)
    }

    /// The document's id.
    async fn document_id(&self) -> ID {
        ID(self.0.entity_id.to_string())
    }

    /// The document's version this revision records.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When it was saved.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// What happened, when it was not a plain save: `published`, `restored version 3`, ...
    async fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }

    /// Who saved it; null for the sample content or a deleted user.
    async fn author(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        User::account_by_id(ctx, self.0.author_id).await
    }

    /// The API token the write was made with (`author` is then the admin who created the
    /// token); null for a user's own write.
    async fn api_token(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<crate::graphql::api_tokens::ApiToken>> {
        let Some(id) = self.0.api_token_id else {
            return Ok(None);
        };
        let (request, _) = request(ctx)?;
        Ok(request
            .links
            .load_one(crate::graphql::loaders::ApiTokenById(id))
            .await?
            .map(crate::graphql::api_tokens::ApiToken))
    }

    /// The whole document as it was, links included, as JSON in the API's names
    /// (camelCase): a topic is `{ topic, conditions, sideEffects }`, a condition or side
    /// effect its own fields; `snapshotVersion` names the format. Older revisions are
    /// upgraded to the current format when read.
    async fn snapshot(&self) -> ApiResult<async_graphql::Json<serde_json::Value>> {
        let snapshot = Snapshot::read(&self.0.entity_type, &self.0.snapshot)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(async_graphql::Json(snapshot.to_json()))
    }
}

/// A revision with its cursor.
#[derive(SimpleObject)]
pub struct RevisionEdge {
    /// Opaque position; pass it as `after`.
    pub cursor: String,
    /// The revision.
    pub node: Revision,
}

/// A page of a document's history, newest first.
#[derive(SimpleObject)]
pub struct RevisionConnection {
    /// The revisions of this page.
    pub edges: Vec<RevisionEdge>,
    /// Where this page sits.
    pub page_info: crate::graphql::connection::PageInfo,
}
