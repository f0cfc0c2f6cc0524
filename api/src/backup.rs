//! `dermis export` and `dermis import`: the whole database as one JSON document, for
//! backups and for moving between SQLite and PostgreSQL.
//!
//! The document holds users (with password hashes, never passwords), conditions, side
//! effects, topics, both link tables and every revision, with their ids, so history and
//! authorship survive the move. Sessions, login-failure counters and the generated token
//! secret stay behind: after a move everybody signs in again, nothing else changes.
//! Import loads into an empty database only, in one transaction: all or nothing.

use entity::Role;
use entity::{condition, revision, side_effect, topic, topic_condition, topic_side_effect, user};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryOrder, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::content::snapshot::{
    ConditionLinkState, NamedState, SideEffectLinkState, Snapshot, TopicState,
};

/// The `format` every export carries.
pub const FORMAT: &str = "dermis-export";
/// The layout version this build writes. Format 1 (written until 2026-12-03) used column
/// names and stored revision snapshots in their first format; this build reads it too.
pub const FORMAT_VERSION: u64 = 2;
/// The oldest layout version this build reads.
const OLDEST_FORMAT_VERSION: u64 = 1;
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

/// An account as exported, with its password hash. Fields added later get
/// `#[serde(default)]` (see [`crate::content::snapshot`] for the rules).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRow {
    /// Row id.
    pub id: i32,
    /// Lower-cased email.
    pub email: String,
    /// Name shown to colleagues.
    #[serde(alias = "display_name")]
    pub display_name: String,
    /// Argon2id PHC string.
    #[serde(alias = "password_hash")]
    pub password_hash: String,
    /// `ADMIN` or `EDITOR`.
    pub role: Role,
    /// Whether the account may sign in.
    pub active: bool,
    /// Session generation.
    #[serde(default, alias = "token_version")]
    pub token_version: i32,
    /// Creation time.
    #[serde(alias = "created_at")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last change.
    #[serde(alias = "updated_at")]
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// Last sign-in.
    #[serde(default, alias = "last_login_at")]
    pub last_login_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A link row: its topic and the link's own fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkRow<L> {
    /// The topic's id.
    #[serde(alias = "topic_id")]
    pub topic_id: i32,
    /// The link.
    #[serde(flatten)]
    pub link: L,
}

/// A revision as exported: its snapshot in the current snapshot format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionRow {
    /// Row id.
    pub id: i32,
    /// `topic`, `condition` or `side_effect`.
    #[serde(alias = "entity_type")]
    pub entity_type: String,
    /// The document's id.
    #[serde(alias = "entity_id")]
    pub entity_id: i32,
    /// The version it records.
    pub version: i32,
    /// The document's state (see [`Snapshot`]).
    pub snapshot: serde_json::Value,
    /// Who saved it.
    #[serde(default, alias = "author_id")]
    pub author_id: Option<i32>,
    /// What happened.
    #[serde(default)]
    pub message: Option<String>,
    /// When.
    #[serde(alias = "created_at")]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Everything `dermis export` writes: the export's own types, not the entities, so that a
/// column added later leaves older exports importable.
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

impl From<user::Model> for UserRow {
    fn from(m: user::Model) -> Self {
        Self {
            id: m.id,
            email: m.email,
            display_name: m.display_name,
            password_hash: m.password_hash,
            role: m.role,
            active: m.active,
            token_version: m.token_version,
            created_at: m.created_at,
            updated_at: m.updated_at,
            last_login_at: m.last_login_at,
        }
    }
}

impl From<UserRow> for user::Model {
    fn from(r: UserRow) -> Self {
        Self {
            id: r.id,
            email: r.email,
            display_name: r.display_name,
            password_hash: r.password_hash,
            role: r.role,
            active: r.active,
            token_version: r.token_version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_login_at: r.last_login_at,
        }
    }
}

impl RevisionRow {
    /// The row, its snapshot brought to the current format.
    fn export(m: revision::Model) -> Result<Self, BackupError> {
        let snapshot = Snapshot::read(&m.entity_type, &m.snapshot)
            .map_err(|e| BackupError::Format(format!("revision {}: {e}", m.id)))?;
        Ok(Self {
            id: m.id,
            entity_type: m.entity_type,
            entity_id: m.entity_id,
            version: m.version,
            snapshot: snapshot.to_json(),
            author_id: m.author_id,
            message: m.message,
            created_at: m.created_at,
        })
    }
}

impl From<RevisionRow> for revision::Model {
    fn from(r: RevisionRow) -> Self {
        Self {
            id: r.id,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            version: r.version,
            snapshot: r.snapshot,
            author_id: r.author_id,
            // API tokens are credentials of one installation and are not exported.
            api_token_id: None,
            message: r.message,
            created_at: r.created_at,
        }
    }
}

/// Reads the whole database in one read transaction, so the export is consistent.
pub async fn export(db: &DatabaseConnection) -> Result<Export, BackupError> {
    let txn = db.begin().await?;
    let users = user::Entity::find()
        .order_by_asc(user::Column::Id)
        .all(&txn)
        .await?;
    let conditions = condition::Entity::find()
        .order_by_asc(condition::Column::Id)
        .all(&txn)
        .await?;
    let side_effects = side_effect::Entity::find()
        .order_by_asc(side_effect::Column::Id)
        .all(&txn)
        .await?;
    let topics = topic::Entity::find()
        .order_by_asc(topic::Column::Id)
        .all(&txn)
        .await?;
    let topic_conditions = topic_condition::Entity::find()
        .order_by_asc(topic_condition::Column::TopicId)
        .order_by_asc(topic_condition::Column::Position)
        .all(&txn)
        .await?;
    let topic_side_effects = topic_side_effect::Entity::find()
        .order_by_asc(topic_side_effect::Column::TopicId)
        .order_by_asc(topic_side_effect::Column::Position)
        .all(&txn)
        .await?;
    let revisions = revision::Entity::find()
        .order_by_asc(revision::Column::Id)
        .all(&txn)
        .await?;
    txn.commit().await?;
    Ok(Export {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        exported_at: crate::content::now(),
        dermis_version: env!("CARGO_PKG_VERSION").to_owned(),
        users: users.into_iter().map(Into::into).collect(),
        conditions: conditions.iter().map(Into::into).collect(),
        side_effects: side_effects.iter().map(Into::into).collect(),
        topics: topics.iter().map(Into::into).collect(),
        topic_conditions: topic_conditions
            .iter()
            .map(|l| LinkRow {
                topic_id: l.topic_id,
                link: l.into(),
            })
            .collect(),
        topic_side_effects: topic_side_effects
            .iter()
            .map(|l| LinkRow {
                topic_id: l.topic_id,
                link: l.into(),
            })
            .collect(),
        revisions: revisions
            .into_iter()
            .map(RevisionRow::export)
            .collect::<Result<_, _>>()?,
    })
}

/// Inserts `rows` in chunks.
async fn insert_all<E, C, R>(txn: &C, rows: impl IntoIterator<Item = R>) -> Result<(), BackupError>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel>,
    R: Into<E::Model>,
    C: ConnectionTrait,
{
    let mut rows = rows.into_iter().map(Into::into).peekable();
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
    let txn = crate::db::begin_content_write(db).await?;
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
    insert_all::<user::Entity, _, _>(&txn, export.users).await?;
    insert_all::<condition::Entity, _, _>(&txn, export.conditions).await?;
    insert_all::<side_effect::Entity, _, _>(&txn, export.side_effects).await?;
    // Archives do not carry media yet: a hero image is left out rather than pointing at
    // an item the new database does not have.
    let topics = export.topics.into_iter().map(|mut topic| {
        topic.image_id = None;
        topic.into_model()
    });
    insert_all::<topic::Entity, _, _>(&txn, topics).await?;
    let links = export.topic_conditions.into_iter();
    let links = links.map(|row| row.link.into_model(row.topic_id));
    insert_all::<topic_condition::Entity, _, _>(&txn, links).await?;
    let links = export.topic_side_effects.into_iter();
    let links = links.map(|row| row.link.into_model(row.topic_id));
    insert_all::<topic_side_effect::Entity, _, _>(&txn, links).await?;
    insert_all::<revision::Entity, _, _>(&txn, export.revisions).await?;
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
