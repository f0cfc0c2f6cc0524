//! GraphQL object types of the content model.

mod account;
mod named;
mod revision;
mod topic;

pub use account::{AuthPayload, Role, SetupStatus, User};
pub use named::{Condition, ConditionTopicEdge, SideEffect, SideEffectTopicEdge};
pub use revision::{DocumentType, Revision, RevisionConnection, RevisionEdge};
pub use topic::{Reference, Topic, TopicConditionEdge, TopicSideEffectEdge};
