//! Enumerations stored as short strings, readable in any SQL client.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Publication state of a content document.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ContentStatus {
    /// Work in progress, visible to editors only.
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    /// Submitted for medical review (topics).
    #[sea_orm(string_value = "IN_REVIEW")]
    InReview,
    /// Approved by a reviewer, ready to publish (topics).
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    /// Visible to everyone.
    #[sea_orm(string_value = "PUBLISHED")]
    Published,
    /// Withdrawn, kept for history.
    #[sea_orm(string_value = "ARCHIVED")]
    Archived,
}

/// How often a side effect occurs after a procedure.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Frequency {
    /// Most people experience it.
    #[sea_orm(string_value = "COMMON")]
    Common,
    /// Some people experience it.
    #[sea_orm(string_value = "UNCOMMON")]
    Uncommon,
    /// Few people experience it.
    #[sea_orm(string_value = "RARE")]
    Rare,
}

/// How severe a side effect is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    /// Minor discomfort.
    #[sea_orm(string_value = "MILD")]
    Mild,
    /// Noticeable, may need care.
    #[sea_orm(string_value = "MODERATE")]
    Moderate,
    /// Needs medical attention.
    #[sea_orm(string_value = "SEVERE")]
    Severe,
}

/// How long a side effect lasts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Duration {
    /// Goes away by itself.
    #[sea_orm(string_value = "TEMPORARY")]
    Temporary,
    /// May last.
    #[sea_orm(string_value = "PERSISTENT")]
    Persistent,
}

/// What a user may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// Everything, users included.
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    /// All content work.
    #[sea_orm(string_value = "EDITOR")]
    Editor,
    /// A clinician: all content work, and approving it for publication.
    #[sea_orm(string_value = "REVIEWER")]
    Reviewer,
}

/// What a schedule does when it runs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScheduleAction {
    /// Publish the document.
    #[sea_orm(string_value = "PUBLISH")]
    Publish,
    /// Take the document back from the public.
    #[sea_orm(string_value = "UNPUBLISH")]
    Unpublish,
}

/// Where a schedule stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScheduleState {
    /// Waiting for its time.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Ran: the document was published or unpublished.
    #[sea_orm(string_value = "DONE")]
    Done,
    /// Ran and was refused; the outcome says why.
    #[sea_orm(string_value = "FAILED")]
    Failed,
    /// Cancelled before its time (or its document was deleted).
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}
