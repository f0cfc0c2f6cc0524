//! A change of a document's state, in the outbox (written with the change).

use sea_orm::entity::prelude::*;

/// A row of `content_events`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "content_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// `topic.published`, `condition.updated`, `revision.restored`, ...
    pub event_type: String,
    /// `topic`, `condition` or `side_effect`.
    pub document_type: String,
    pub document_id: i32,
    pub slug: String,
    /// The document's version after the change.
    pub version: i32,
    /// Before the change; null for a new document.
    pub old_status: Option<String>,
    /// After the change; null for a deleted document.
    pub new_status: Option<String>,
    /// Slugs of the published topic pages the change affects, as a JSON list.
    #[sea_orm(column_type = "Json")]
    pub affected_topics: Json,
    pub author_id: Option<i32>,
    pub api_token_id: Option<i32>,
    pub created_at: DateTimeUtc,
    /// When webhook deliveries were made for it; null until then.
    pub dispatched_at: Option<DateTimeUtc>,
}

/// Content events have no navigable relations here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
