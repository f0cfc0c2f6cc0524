//! Reads and writes of content documents, independent of GraphQL.

pub mod document;
pub mod edit;
pub mod embeds;
pub mod events;
pub mod feed;
pub mod fields;
pub mod links;
pub mod media;
pub mod pagination;
pub mod query;
pub mod read_model;
pub mod rendered;
pub mod review;
pub mod schedule;
pub mod seed;
pub mod snapshot;
pub mod validate;
pub mod watch;
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

/// Who writes: a signed-in user, or an API token (then `user` is the admin who created it,
/// accountable for it, and `token` the token, which revisions name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Author {
    /// The user the write is attributed to.
    pub user: i32,
    /// The API token it was made with.
    pub token: Option<i32>,
}

impl Author {
    /// A write by a signed-in user.
    pub fn user(id: i32) -> Self {
        Self {
            user: id,
            token: None,
        }
    }
}
