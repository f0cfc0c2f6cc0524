//! The single JSON document that `dermis export` wrote before the archive (format versions
//! 1 and 2): read whole, then handed on as the same [`Item`]s an archive yields. Such a
//! document holds no media; a topic's hero image is left out rather than pointing at an
//! item the new database does not have.

use std::io::Read;

use serde::{Deserialize, Serialize};

use super::{BackupError, Counts, FORMAT, Item, LinkRow, RevisionRow, Rows, UserRow};
use crate::content::snapshot::{
    ConditionLinkState, NamedState, SideEffectLinkState, Snapshot, TopicState,
};

/// The last format version written as one JSON document.
pub const FORMAT_VERSION: u64 = 2;
/// The oldest layout version this build reads.
const OLDEST_FORMAT_VERSION: u64 = 1;
/// Rows per [`Item::Rows`] handed on.
const CHUNK: usize = 1000;

/// A format 1 or 2 export: the export's own types, not the entities, so that a column
/// added later leaves older exports importable.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u64,
    /// When it was written.
    pub exported_at: chrono::DateTime<chrono::Utc>,
    /// The `dermis` version that wrote it.
    pub dermis_version: String,
    /// Accounts, with password hashes.
    pub users: Vec<UserRow>,
    /// Conditions.
    pub conditions: Vec<NamedState>,
    /// Side effects.
    pub side_effects: Vec<NamedState>,
    /// Topics.
    pub topics: Vec<TopicState>,
    /// Topic-condition links.
    pub topic_conditions: Vec<LinkRow<ConditionLinkState>>,
    /// Topic-side-effect links.
    pub topic_side_effects: Vec<LinkRow<SideEffectLinkState>>,
    /// Every revision of every document.
    pub revisions: Vec<RevisionRow>,
}

impl Export {
    /// Parses an export of any format version this build reads, bringing every revision's
    /// snapshot to the current snapshot format.
    pub fn parse(json: &str) -> Result<Self, BackupError> {
        let header: serde_json::Value =
            serde_json::from_str(json).map_err(|e| BackupError::Format(e.to_string()))?;
        if header["format"] != FORMAT {
            return Err(BackupError::Format(format!("`format` must be {FORMAT:?}")));
        }
        let version = header["formatVersion"].as_u64();
        if !version.is_some_and(|v| (OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&v)) {
            return Err(BackupError::Format(format!(
                "format version {} is not one this build reads ({OLDEST_FORMAT_VERSION} to \
                 {FORMAT_VERSION})",
                header["formatVersion"]
            )));
        }
        let mut export: Self =
            serde_json::from_value(header).map_err(|e| BackupError::Format(e.to_string()))?;
        for revision in &mut export.revisions {
            revision.snapshot = Snapshot::read(&revision.entity_type, &revision.snapshot)
                .map_err(|e| BackupError::Format(format!("revision {}: {e}", revision.id)))?
                .to_json();
        }
        export.format_version = FORMAT_VERSION;
        Ok(export)
    }
}

/// Reads a whole legacy document from `input` and hands its rows to `emit`, in chunks.
pub fn read(
    mut input: impl Read,
    emit: &mut dyn FnMut(Item) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    let mut json = String::new();
    input
        .read_to_string(&mut json)
        .map_err(|e| BackupError::Format(e.to_string()))?;
    let export = Export::parse(&json)?;
    drop(json);
    let mut counts = Counts::default();
    let mut send = |rows: Rows| {
        counts.add(rows.table(), rows.len());
        emit(Item::Rows(rows))
    };
    chunked(export.users, &mut |c| send(Rows::Users(c)))?;
    chunked(export.conditions, &mut |c| send(Rows::Conditions(c)))?;
    chunked(export.side_effects, &mut |c| send(Rows::SideEffects(c)))?;
    let topics = export.topics.into_iter().map(|mut topic| {
        topic.image_id = None;
        topic
    });
    chunked(topics, &mut |c| send(Rows::Topics(c)))?;
    chunked(export.topic_conditions, &mut |c| {
        send(Rows::TopicConditions(c))
    })?;
    chunked(export.topic_side_effects, &mut |c| {
        send(Rows::TopicSideEffects(c))
    })?;
    chunked(export.revisions, &mut |c| send(Rows::Revisions(c)))?;
    emit(Item::End(counts))
}

/// Hands `rows` to `send` in chunks of [`CHUNK`].
fn chunked<T>(
    rows: impl IntoIterator<Item = T>,
    send: &mut dyn FnMut(Vec<T>) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        send(rows.by_ref().take(CHUNK).collect())?;
    }
    Ok(())
}
