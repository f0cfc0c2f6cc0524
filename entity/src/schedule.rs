//! A publication or unpublication planned for a time.

use sea_orm::entity::prelude::*;

use crate::{ScheduleAction, ScheduleState};

/// A row of `schedules`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "schedules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// `topic`, `condition` or `side_effect` (as revisions name them).
    pub document_type: String,
    pub document_id: i32,
    pub action: ScheduleAction,
    pub run_at: DateTimeUtc,
    /// For publishing a topic: publish its unpublished links with it.
    pub include_linked: bool,
    pub state: ScheduleState,
    /// Who planned it; the write is attributed to them.
    pub created_by: Option<i32>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    /// The error code of a refusal.
    pub outcome_code: Option<String>,
    /// What happened, in words.
    #[sea_orm(column_type = "Text", nullable)]
    pub outcome: Option<String>,
}

/// Schedules have no navigable relations here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
