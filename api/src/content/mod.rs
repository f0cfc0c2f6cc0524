//! Reads and writes of content documents, independent of GraphQL.

pub mod document;
pub mod edit;
pub mod fields;
pub mod links;
pub mod pagination;
pub mod query;
pub mod read_model;
pub mod rendered;
pub mod seed;
pub mod snapshot;
pub mod validate;
pub mod write;

/// What a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Anonymous callers: published documents, and only published documents through links.
    PublishedOnly,
    /// Editors: every document, drafts and archived included.
    All,
}

pub use crate::db::now;
