//! The rows an archive holds, in the archive's own types rather than the entities, so that
//! a column added later leaves older archives loadable. Fields added later get
//! `#[serde(default)]` (see [`crate::content::snapshot`] for the rules).

use entity::Role;
use entity::{media, media_use, revision, user};
use serde::{Deserialize, Serialize};

use super::BackupError;
use crate::content::snapshot::Snapshot;

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
    pub(super) fn export(m: revision::Model) -> Result<Self, BackupError> {
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

impl RevisionRow {
    /// The same row, its snapshot read (and so checked) and written in the current format.
    pub(super) fn current(mut self) -> Result<Self, BackupError> {
        self.snapshot = Snapshot::read(&self.entity_type, &self.snapshot)
            .map_err(|e| BackupError::Format(format!("revision {}: {e}", self.id)))?
            .to_json();
        Ok(self)
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

/// A media item as exported: its row; its bytes travel as objects of the archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaRow {
    /// Row id.
    pub id: i32,
    /// SHA-256 of the stored bytes (the objects' names).
    pub content_hash: String,
    /// MIME type, as sniffed at upload.
    pub mime_type: String,
    /// File extension of the original.
    pub extension: String,
    /// The name it was uploaded under.
    pub filename: String,
    /// Size of the stored original.
    pub byte_size: i64,
    /// Pixel width (images).
    #[serde(default)]
    pub width: Option<i32>,
    /// Pixel height (images).
    #[serde(default)]
    pub height: Option<i32>,
    /// `#rrggbb` (images).
    #[serde(default)]
    pub dominant_color: Option<String>,
    /// Alternative text.
    pub alt: String,
    /// Caption.
    pub caption: String,
    /// Edit version.
    pub version: i32,
    /// Who uploaded it.
    #[serde(default)]
    pub created_by: Option<i32>,
    /// Upload time.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl MediaRow {
    /// The object names of this item's bytes: the original, then each variant.
    pub fn objects(&self) -> Vec<String> {
        let dimensions = self
            .width
            .zip(self.height)
            .and_then(|(w, h)| Some((u32::try_from(w).ok()?, u32::try_from(h).ok()?)));
        crate::media::store::objects(&self.content_hash, &self.extension, dimensions)
    }
}

impl From<media::Model> for MediaRow {
    fn from(m: media::Model) -> Self {
        Self {
            id: m.id,
            content_hash: m.content_hash,
            mime_type: m.mime_type,
            extension: m.extension,
            filename: m.filename,
            byte_size: m.byte_size,
            width: m.width,
            height: m.height,
            dominant_color: m.dominant_color,
            alt: m.alt,
            caption: m.caption,
            version: m.version,
            created_by: m.created_by,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

impl From<MediaRow> for media::Model {
    fn from(r: MediaRow) -> Self {
        Self {
            id: r.id,
            content_hash: r.content_hash,
            mime_type: r.mime_type,
            extension: r.extension,
            filename: r.filename,
            byte_size: r.byte_size,
            width: r.width,
            height: r.height,
            dominant_color: r.dominant_color,
            alt: r.alt,
            caption: r.caption,
            version: r.version,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// That a document shows a media item (hero image or Markdown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaUseRow {
    /// The item.
    pub media_id: i32,
    /// `topic`, `condition` or `side_effect`.
    pub document_type: String,
    /// The document's id.
    pub document_id: i32,
}

impl From<media_use::Model> for MediaUseRow {
    fn from(m: media_use::Model) -> Self {
        Self {
            media_id: m.media_id,
            document_type: m.document_type,
            document_id: m.document_id,
        }
    }
}

impl From<MediaUseRow> for media_use::Model {
    fn from(r: MediaUseRow) -> Self {
        Self {
            media_id: r.media_id,
            document_type: r.document_type,
            document_id: r.document_id,
        }
    }
}
