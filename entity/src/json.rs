//! Typed JSON columns.

use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

/// An ordered list of short texts (a topic's features or benefits).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct TextList(pub Vec<String>);

/// A source a topic cites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// Title of the source.
    pub title: String,
    /// Where to read it, when it is online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// An ordered list of references.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct ReferenceList(pub Vec<Reference>);
