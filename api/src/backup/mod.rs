//! `dermis export` and `dermis import`: the whole content database and its media files as
//! one streaming archive, for backups and for moving between SQLite and PostgreSQL.
//!
//! An archive is a tar file (gzip-compressed when its name ends in `.gz`), read and written
//! front to back, so neither command holds more than a few chunks in memory, whatever the
//! size of the database:
//!
//! - `dermis-export.json`: the header (format, version, writer, time);
//! - `<table>/NNNNNN.jsonl`: the rows of each [`Table`], one JSON document per line, in
//!   chunks of about [`archive::CHUNK_BYTES`], tables in the order they load in;
//! - `objects/originals/<sha256>.<ext>` and `objects/variants/<sha256>/<width>.webp`: every
//!   media item's bytes, under the names the media store uses;
//! - `dermis-export-end.json`: how many rows and objects came before, so that an archive cut
//!   short is refused rather than half loaded.
//!
//! The rows are users (with password hashes, never passwords), conditions, side effects,
//! media items, topics, both link tables, every revision and where media are shown, with
//! their ids, so history, authorship and images survive the move. Sessions, login-failure
//! counters, API tokens, webhooks and the generated token secret stay behind: after a move
//! everybody signs in again, nothing else changes. Import loads into an empty database
//! only, in one transaction: all or nothing. It also reads the single JSON document that
//! earlier versions wrote ([`legacy`]).

pub mod archive;
pub mod export;
pub mod import;
pub mod legacy;
pub mod rows;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::content::snapshot::{ConditionLinkState, NamedState, SideEffectLinkState, TopicState};
pub use export::export;
pub use import::import;
pub use rows::{LinkRow, MediaRow, MediaUseRow, RevisionRow, UserRow};

/// The `format` every export carries.
pub const FORMAT: &str = "dermis-export";
/// The layout version this build writes: 3, the streaming archive. Versions 1 and 2 were
/// single JSON documents ([`legacy`]); this build reads them too.
pub const FORMAT_VERSION: u64 = 3;

/// An export or import that failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The file is not a Dermis export this build can read, or is damaged.
    #[error("not a Dermis export: {0}")]
    Format(String),
    /// The target already holds data.
    #[error(
        "the target database is not empty ({0}): import loads into an empty database only; \
         create a new one and import there"
    )]
    NotEmpty(String),
    /// Reading or writing the archive failed.
    #[error("{0}")]
    Io(String),
    /// The media store failed.
    #[error("media storage failed: {0}")]
    Media(#[from] crate::media::MediaError),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

/// The tables of an archive, in the order they are written and loaded: each after the
/// rows it refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Table {
    /// Accounts.
    Users,
    /// Conditions.
    Conditions,
    /// Side effects.
    SideEffects,
    /// Media items (their bytes are objects).
    Media,
    /// Topics.
    Topics,
    /// Topic-condition links.
    TopicConditions,
    /// Topic-side-effect links.
    TopicSideEffects,
    /// Every revision of every document.
    Revisions,
    /// Which documents show which media items.
    MediaUses,
}

impl Table {
    /// Every table, in loading order.
    pub const ALL: [Self; 9] = [
        Self::Users,
        Self::Conditions,
        Self::SideEffects,
        Self::Media,
        Self::Topics,
        Self::TopicConditions,
        Self::TopicSideEffects,
        Self::Revisions,
        Self::MediaUses,
    ];

    /// The table's name in archives (the folder of its chunks).
    pub fn name(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Conditions => "conditions",
            Self::SideEffects => "sideEffects",
            Self::Media => "media",
            Self::Topics => "topics",
            Self::TopicConditions => "topicConditions",
            Self::TopicSideEffects => "topicSideEffects",
            Self::Revisions => "revisions",
            Self::MediaUses => "mediaUses",
        }
    }

    /// The table named `name` in an archive.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Rows of one table, as read from an archive.
#[derive(Debug)]
pub enum Rows {
    /// Accounts.
    Users(Vec<UserRow>),
    /// Conditions.
    Conditions(Vec<NamedState>),
    /// Side effects.
    SideEffects(Vec<NamedState>),
    /// Media items.
    Media(Vec<MediaRow>),
    /// Topics.
    Topics(Vec<TopicState>),
    /// Topic-condition links.
    TopicConditions(Vec<LinkRow<ConditionLinkState>>),
    /// Topic-side-effect links.
    TopicSideEffects(Vec<LinkRow<SideEffectLinkState>>),
    /// Revisions, their snapshots in the current format.
    Revisions(Vec<RevisionRow>),
    /// Media uses.
    MediaUses(Vec<MediaUseRow>),
}

impl Rows {
    /// The table they belong to.
    pub fn table(&self) -> Table {
        match self {
            Self::Users(_) => Table::Users,
            Self::Conditions(_) => Table::Conditions,
            Self::SideEffects(_) => Table::SideEffects,
            Self::Media(_) => Table::Media,
            Self::Topics(_) => Table::Topics,
            Self::TopicConditions(_) => Table::TopicConditions,
            Self::TopicSideEffects(_) => Table::TopicSideEffects,
            Self::Revisions(_) => Table::Revisions,
            Self::MediaUses(_) => Table::MediaUses,
        }
    }

    /// How many.
    pub fn len(&self) -> usize {
        match self {
            Self::Users(r) => r.len(),
            Self::Conditions(r) | Self::SideEffects(r) => r.len(),
            Self::Media(r) => r.len(),
            Self::Topics(r) => r.len(),
            Self::TopicConditions(r) => r.len(),
            Self::TopicSideEffects(r) => r.len(),
            Self::Revisions(r) => r.len(),
            Self::MediaUses(r) => r.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What an archive yields, in order: rows, then objects, then its end.
#[derive(Debug)]
pub enum Item {
    /// A chunk of rows.
    Rows(Rows),
    /// A media object: its store name and bytes.
    Object {
        /// The name in the media store.
        name: String,
        /// Its bytes.
        bytes: Vec<u8>,
    },
    /// The end, with what came before it.
    End(Counts),
}

/// How many rows of each table, and how many objects, an archive holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Rows by table name.
    pub rows: BTreeMap<String, u64>,
    /// Media objects.
    pub objects: u64,
}

impl Counts {
    /// Rows of `table`.
    pub fn of(&self, table: Table) -> u64 {
        self.rows.get(table.name()).copied().unwrap_or(0)
    }

    /// Counts `n` more rows of `table`.
    pub fn add(&mut self, table: Table, n: usize) {
        *self.rows.entry(table.name().to_owned()).or_default() += n as u64;
    }

    /// The summary line's words: "2 users, 2 topics, ...".
    pub fn summary(&self) -> String {
        format!(
            "{} users, {} topics, {} conditions, {} side effects, {} links, {} revisions, \
             {} media items ({} files)",
            self.of(Table::Users),
            self.of(Table::Topics),
            self.of(Table::Conditions),
            self.of(Table::SideEffects),
            self.of(Table::TopicConditions) + self.of(Table::TopicSideEffects),
            self.of(Table::Revisions),
            self.of(Table::Media),
            self.objects
        )
    }
}
