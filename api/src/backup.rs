//! `dermis export` and `dermis import`: the whole database as one JSON document, for
//! backups and for moving between SQLite and PostgreSQL.
//!
//! The document holds users (with password hashes, never passwords), conditions, side
//! effects, topics, both link tables and every revision, with their ids, so history and
//! authorship survive the move. Sessions, login-failure counters and the generated token
//! secret stay behind: after a move everybody signs in again, nothing else changes.
//! Import loads into an empty database only, in one transaction: all or nothing.

use entity::{condition, revision, side_effect, topic, topic_condition, topic_side_effect, user};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryOrder, TransactionTrait,
};
use serde::{Deserialize, Serialize};

/// The `format` every export carries.
pub const FORMAT: &str = "dermis-export";
/// The layout version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Rows per `INSERT` (well under both databases' bind-parameter limits).
const CHUNK: usize = 200;

/// An export or import that failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The file is not a Dermis export this build can read.
    #[error("not a Dermis export: {0}")]
    Format(String),
    /// The target already holds data.
    #[error(
        "the target database is not empty ({0}): import loads into an empty database only; \
         create a new one and import there"
    )]
    NotEmpty(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

/// Everything `dermis export` writes.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// When it was written.
    pub exported_at: chrono::DateTime<chrono::Utc>,
    /// The `dermis` version that wrote it.
    pub dermis_version: String,
    /// Accounts, with password hashes.
    pub users: Vec<user::Model>,
    /// Conditions.
    pub conditions: Vec<condition::Model>,
    /// Side effects.
    pub side_effects: Vec<side_effect::Model>,
    /// Topics.
    pub topics: Vec<topic::Model>,
    /// Topic-condition links.
    pub topic_conditions: Vec<topic_condition::Model>,
    /// Topic-side-effect links.
    pub topic_side_effects: Vec<topic_side_effect::Model>,
    /// Every revision of every document.
    pub revisions: Vec<revision::Model>,
}

impl Export {
    /// Row counts, for the command's summary line.
    pub fn summary(&self) -> String {
        format!(
            "{} users, {} topics, {} conditions, {} side effects, {} links, {} revisions",
            self.users.len(),
            self.topics.len(),
            self.conditions.len(),
            self.side_effects.len(),
            self.topic_conditions.len() + self.topic_side_effects.len(),
            self.revisions.len()
        )
    }

    /// Parses an export, checking its format and version.
    pub fn parse(json: &str) -> Result<Self, BackupError> {
        let header: serde_json::Value =
            serde_json::from_str(json).map_err(|e| BackupError::Format(e.to_string()))?;
        if header["format"] != FORMAT {
            return Err(BackupError::Format(format!("`format` must be {FORMAT:?}")));
        }
        if header["formatVersion"] != FORMAT_VERSION {
            return Err(BackupError::Format(format!(
                "format version {} is not {FORMAT_VERSION}, the one this build reads",
                header["formatVersion"]
            )));
        }
        serde_json::from_value(header).map_err(|e| BackupError::Format(e.to_string()))
    }
}

/// Reads the whole database in one read transaction, so the export is consistent.
pub async fn export(db: &DatabaseConnection) -> Result<Export, BackupError> {
    let txn = db.begin().await?;
    let export = Export {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        exported_at: crate::content::now(),
        dermis_version: env!("CARGO_PKG_VERSION").to_owned(),
        users: user::Entity::find()
            .order_by_asc(user::Column::Id)
            .all(&txn)
            .await?,
        conditions: condition::Entity::find()
            .order_by_asc(condition::Column::Id)
            .all(&txn)
            .await?,
        side_effects: side_effect::Entity::find()
            .order_by_asc(side_effect::Column::Id)
            .all(&txn)
            .await?,
        topics: topic::Entity::find()
            .order_by_asc(topic::Column::Id)
            .all(&txn)
            .await?,
        topic_conditions: topic_condition::Entity::find()
            .order_by_asc(topic_condition::Column::TopicId)
            .order_by_asc(topic_condition::Column::Position)
            .all(&txn)
            .await?,
        topic_side_effects: topic_side_effect::Entity::find()
            .order_by_asc(topic_side_effect::Column::TopicId)
            .order_by_asc(topic_side_effect::Column::Position)
            .all(&txn)
            .await?,
        revisions: revision::Entity::find()
            .order_by_asc(revision::Column::Id)
            .all(&txn)
            .await?,
    };
    txn.commit().await?;
    Ok(export)
}

/// Inserts `rows` in chunks.
async fn insert_all<E, C>(txn: &C, rows: Vec<E::Model>) -> Result<(), BackupError>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel>,
    C: ConnectionTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<E::ActiveModel> = rows
            .by_ref()
            .take(CHUNK)
            .map(IntoActiveModel::into_active_model)
            .collect();
        E::insert_many(chunk).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// Loads an export into an empty (migrated) database, in one transaction.
pub async fn import(db: &DatabaseConnection, export: Export) -> Result<(), BackupError> {
    let txn = crate::db::begin_write(db).await?;
    let present = [
        ("users", user::Entity::find().count(&txn).await?),
        ("topics", topic::Entity::find().count(&txn).await?),
        ("conditions", condition::Entity::find().count(&txn).await?),
        (
            "side effects",
            side_effect::Entity::find().count(&txn).await?,
        ),
        ("revisions", revision::Entity::find().count(&txn).await?),
    ];
    let held: Vec<String> = present
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{n} {what}"))
        .collect();
    if !held.is_empty() {
        return Err(BackupError::NotEmpty(held.join(", ")));
    }
    insert_all::<user::Entity, _>(&txn, export.users).await?;
    insert_all::<condition::Entity, _>(&txn, export.conditions).await?;
    insert_all::<side_effect::Entity, _>(&txn, export.side_effects).await?;
    insert_all::<topic::Entity, _>(&txn, export.topics).await?;
    insert_all::<topic_condition::Entity, _>(&txn, export.topic_conditions).await?;
    insert_all::<topic_side_effect::Entity, _>(&txn, export.topic_side_effects).await?;
    insert_all::<revision::Entity, _>(&txn, export.revisions).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        // Rows came with their ids: move each sequence past the largest.
        for table in ["users", "conditions", "side_effects", "topics", "revisions"] {
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            ))
            .await?;
        }
    }
    txn.commit().await?;
    Ok(())
}
