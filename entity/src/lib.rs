//! Dermis sea-orm entities: the content documents, their links, users, revisions and settings.
//!
//! This crate holds table mappings only; rules live in the `dermis-api` crate.

pub mod api_token;
pub mod condition;
pub mod content_event;
pub mod enums;
pub mod json;
pub mod login_failure;
pub mod media;
pub mod media_use;
pub mod revision;
pub mod schedule;
pub mod session;
pub mod setting;
pub mod side_effect;
pub mod topic;
pub mod topic_condition;
pub mod topic_side_effect;
pub mod user;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_endpoint;

pub use enums::{
    ContentStatus, Duration, Frequency, Role, ScheduleAction, ScheduleState, Severity,
};
