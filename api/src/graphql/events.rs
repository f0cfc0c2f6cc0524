//! The content-events feed in the schema: `contentEvents(after, first)`, oldest first, for
//! integrators that poll for changes (webhooks deliver the same events).

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::content_event;
use sea_orm::ActiveEnum;

use super::context::request;
use super::enums::ContentStatus;
use super::guard::RoleGuard;
use super::types::DocumentType;
use crate::content::events;
use crate::content::pagination::list_limit;
use crate::content::validate;
use crate::errors::ApiResult;

/// A change of a document's state, recorded with the change itself.
pub struct ContentEvent(pub content_event::Model);

fn status(stored: Option<&String>) -> Option<ContentStatus> {
    stored
        .and_then(|value| entity::ContentStatus::try_from_value(value).ok())
        .map(Into::into)
}

/// A change of a document's state, recorded in the transaction of the change: every
/// committed change has exactly one, in commit order per writer.
#[Object]
impl ContentEvent {
    /// Increasing identifier; pass the last one seen as `after`.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// `topic.created`, `topic.updated`, `topic.published`, `topic.unpublished`,
    /// `topic.archived`, `topic.deleted`, the same for `condition` and `side_effect`, and
    /// `revision.restored`.
    async fn r#type(&self) -> &str {
        &self.0.event_type
    }

    /// The kind of document.
    async fn document_type(&self) -> DocumentType {
        DocumentType::from_kind(&self.0.document_type)
    }

    /// The document's id.
    async fn document_id(&self) -> ID {
        ID(self.0.document_id.to_string())
    }

    /// The document's slug after the change (its last one, when deleted).
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// The document's version after the change.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// The status before the change; null for a new document.
    async fn old_status(&self) -> Option<ContentStatus> {
        status(self.0.old_status.as_ref())
    }

    /// The status after the change; null for a deleted document.
    async fn new_status(&self) -> Option<ContentStatus> {
        status(self.0.new_status.as_ref())
    }

    /// Slugs of the published topic pages whose content changed with it (a topic's own
    /// page, its old address when renamed; every published topic that links to a changed
    /// condition or side effect): what a frontend revalidates.
    async fn affected_topics(&self) -> Vec<String> {
        events::affected_topics(&self.0)
    }

    /// When it happened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The content-events feed.
#[derive(Default)]
pub struct ContentEventQueries;

/// The content-events feed.
#[Object]
impl ContentEventQueries {
    /// Whoever may read drafts (editors, tokens with `PREVIEW` or `CONTENT_WRITE`): the
    /// content events after `after`, oldest first.
    #[graphql(
        guard = "RoleGuard::Drafts",
        complexity = "crate::graphql::limits::page_cost(Some(first), None, child_complexity)"
    )]
    async fn content_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the last event seen; omit to start at the first.")]
        after: Option<ID>,
        #[graphql(desc = "How many events, at most 100.", default = 50)] first: i32,
    ) -> ApiResult<Vec<ContentEvent>> {
        let (_, db) = request(ctx)?;
        let limit = list_limit(first)?;
        let after = after.map(|id| validate::id(&id, "after")).transpose()?;
        Ok(events::since(db, after, limit)
            .await?
            .into_iter()
            .map(ContentEvent)
            .collect())
    }
}
