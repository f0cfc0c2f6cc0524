//! A snapshot of a document taken by every write.

use sea_orm::entity::prelude::*;

/// A row of `revisions`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// `topic`, `condition` or `side_effect`.
    pub entity_type: String,
    pub entity_id: i32,
    /// The document's version this snapshot shows.
    pub version: i32,
    /// The whole document with its links, as JSON.
    #[sea_orm(column_type = "Json")]
    pub snapshot: Json,
    pub author_id: Option<i32>,
    /// The API token the write was made with, if any (`author_id` is then its creator).
    pub api_token_id: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub message: Option<String>,
    pub created_at: DateTimeUtc,
}

/// Revisions have no navigable relations here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
