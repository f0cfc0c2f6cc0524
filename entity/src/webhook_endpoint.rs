//! A URL that receives signed content events.

use sea_orm::entity::prelude::*;

/// A row of `webhook_endpoints`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(column_type = "Text")]
    pub url: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// Comma-separated event types; empty: every event.
    #[sea_orm(column_type = "Text")]
    pub event_types: String,
    /// `whsec_` + base64.
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTimeUtc>,
    pub enabled: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub disabled_reason: Option<String>,
    pub failing_since: Option<DateTimeUtc>,
    pub created_by: i32,
    pub created_at: DateTimeUtc,
}

/// Endpoints have no navigable relations here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
