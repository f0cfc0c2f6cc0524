//! One HTTP attempt of a webhook delivery.

use sea_orm::entity::prelude::*;

/// A row of `webhook_attempts`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub delivery_id: i32,
    pub attempted_at: DateTimeUtc,
    /// Null when no answer came.
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    /// The first KiB of the answer, or why there was none.
    #[sea_orm(column_type = "Text")]
    pub response: String,
}

/// Attempts have no navigable relations here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
