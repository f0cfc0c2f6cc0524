//! The saved state of a document, in a format of its own: what a revision keeps and what
//! an export carries, read back by every later release.
//!
//! Neither is the entity `Model`: a column added to a table must not make an older revision
//! unrestorable or an older export unimportable. The rules that keep them readable:
//! - a field added later gets `#[serde(default)]` (older states lack it);
//! - unknown fields are ignored (a state written by a newer release that only added fields
//!   still reads);
//! - names are the API's (camelCase); format 1 (written before 2026-12-04) used the column
//!   names, read through `alias`;
//! - a change that is not an addition raises [`SNAPSHOT_VERSION`], and [`Snapshot::read`]
//!   upgrades every older version.

use chrono::{DateTime, Utc};
use entity::json::{Reference, ReferenceList, TextList};
use entity::{
    ContentStatus, Duration, Frequency, Severity, condition, side_effect, topic, topic_condition,
    topic_side_effect,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The snapshot format this build writes (format 1 had no `snapshotVersion` and used column
/// names).
pub const SNAPSHOT_VERSION: u64 = 2;

/// A snapshot this build cannot read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Written by a newer release in a format this one does not know.
    #[error("snapshot format {0} is newer than {SNAPSHOT_VERSION}, the newest this release reads")]
    Newer(u64),
    /// Not a snapshot of this kind of document.
    #[error("unreadable {kind} snapshot: {reason}")]
    Unreadable {
        /// The document type.
        kind: String,
        /// What serde found.
        reason: String,
    },
}

/// A topic's own fields at one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicState {
    /// Row id.
    pub id: i32,
    /// URL name.
    pub slug: String,
    /// Title.
    pub title: String,
    /// One plain paragraph.
    pub summary: String,
    /// Markdown.
    pub body: String,
    /// Short feature lines.
    pub features: Vec<String>,
    /// Short benefit lines.
    pub benefits: Vec<String>,
    /// Cited sources.
    pub references: Vec<Reference>,
    /// Last medical review.
    #[serde(default, alias = "reviewed_at")]
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Who did it (a user id).
    #[serde(default, alias = "reviewed_by")]
    pub reviewed_by: Option<i32>,
    /// When the next review is due.
    #[serde(default)]
    pub review_due_at: Option<DateTime<Utc>>,
    /// The reviewer's last note.
    #[serde(default)]
    pub review_note: Option<String>,
    /// Whether this content is the approved one.
    #[serde(default)]
    pub approved: bool,
    /// The hero image (a media item's id).
    #[serde(default)]
    pub image_id: Option<i32>,
    /// Workflow state.
    pub status: ContentStatus,
    /// First publication.
    #[serde(default, alias = "published_at")]
    pub published_at: Option<DateTime<Utc>>,
    /// Optimistic-lock version.
    pub version: i32,
    /// Creation time.
    #[serde(alias = "created_at")]
    pub created_at: DateTime<Utc>,
    /// Last change.
    #[serde(alias = "updated_at")]
    pub updated_at: DateTime<Utc>,
    /// Creator (a user id).
    #[serde(default, alias = "created_by")]
    pub created_by: Option<i32>,
    /// Last editor (a user id).
    #[serde(default, alias = "updated_by")]
    pub updated_by: Option<i32>,
}

/// A condition's or side effect's own fields at one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedState {
    /// Row id.
    pub id: i32,
    /// URL name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Markdown.
    pub description: String,
    /// Workflow state.
    pub status: ContentStatus,
    /// First publication.
    #[serde(default, alias = "published_at")]
    pub published_at: Option<DateTime<Utc>>,
    /// Optimistic-lock version.
    pub version: i32,
    /// Creation time.
    #[serde(alias = "created_at")]
    pub created_at: DateTime<Utc>,
    /// Last change.
    #[serde(alias = "updated_at")]
    pub updated_at: DateTime<Utc>,
    /// Creator (a user id).
    #[serde(default, alias = "created_by")]
    pub created_by: Option<i32>,
    /// Last editor (a user id).
    #[serde(default, alias = "updated_by")]
    pub updated_by: Option<i32>,
}

/// A topic's link to a condition it treats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionLinkState {
    /// The condition's id.
    #[serde(alias = "condition_id")]
    pub condition_id: i32,
    /// Place in the topic's list, from 0.
    pub position: i32,
    /// What the topic says about it.
    #[serde(default)]
    pub note: Option<String>,
}

/// A topic's link to a side effect it may cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SideEffectLinkState {
    /// The side effect's id.
    #[serde(alias = "side_effect_id")]
    pub side_effect_id: i32,
    /// Place in the topic's list, from 0.
    pub position: i32,
    /// What the topic says about it.
    #[serde(default)]
    pub note: Option<String>,
    /// How common it is with this topic.
    pub frequency: Frequency,
    /// How severe.
    pub severity: Severity,
    /// How lasting.
    pub duration: Duration,
}

/// A topic with its ordered links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicSnapshot {
    /// The topic's own fields.
    pub topic: TopicState,
    /// Conditions it treats, in order.
    #[serde(default)]
    pub conditions: Vec<ConditionLinkState>,
    /// Side effects it may cause, in order.
    #[serde(default)]
    pub side_effects: Vec<SideEffectLinkState>,
}

/// A document's whole state at one version.
#[expect(
    clippy::large_enum_variant,
    reason = "a snapshot lives for one write or one comparison; boxing would only add an allocation"
)]
#[derive(Debug, Clone, PartialEq)]
pub enum Snapshot {
    /// A topic with its links.
    Topic(TopicSnapshot),
    /// A condition.
    Condition(NamedState),
    /// A side effect.
    SideEffect(NamedState),
}

impl Snapshot {
    /// The document's slug.
    pub fn slug(&self) -> &str {
        match self {
            Snapshot::Topic(topic) => &topic.topic.slug,
            Snapshot::Condition(named) | Snapshot::SideEffect(named) => &named.slug,
        }
    }

    /// The document's status.
    pub fn status(&self) -> ContentStatus {
        match self {
            Snapshot::Topic(topic) => topic.topic.status,
            Snapshot::Condition(named) | Snapshot::SideEffect(named) => named.status,
        }
    }

    /// Whether two snapshots hold the same content: everything but the bookkeeping a save
    /// itself changes (version, last change and last editor, and the withdrawal of an
    /// approval).
    pub fn same_content(&self, other: &Self) -> bool {
        fn plain(snapshot: &Snapshot) -> Snapshot {
            let mut snapshot = snapshot.clone();
            match &mut snapshot {
                Snapshot::Topic(topic) => {
                    topic.topic.version = 0;
                    topic.topic.updated_at = DateTime::<Utc>::MIN_UTC;
                    topic.topic.updated_by = None;
                    // A save withdraws the approval of the content it replaces; one that
                    // replaces nothing withdraws nothing.
                    topic.topic.approved = false;
                    if matches!(
                        topic.topic.status,
                        ContentStatus::InReview | ContentStatus::Approved
                    ) {
                        topic.topic.status = ContentStatus::Draft;
                    }
                }
                Snapshot::Condition(named) | Snapshot::SideEffect(named) => {
                    named.version = 0;
                    named.updated_at = DateTime::<Utc>::MIN_UTC;
                    named.updated_by = None;
                }
            }
            snapshot
        }
        plain(self) == plain(other)
    }

    /// Reads a stored snapshot of a document of `kind` (`topic`, `condition`,
    /// `side_effect`), of any format up to [`SNAPSHOT_VERSION`].
    pub fn read(kind: &str, value: &Value) -> Result<Self, SnapshotError> {
        let version = value
            .get("snapshotVersion")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        if version > SNAPSHOT_VERSION {
            return Err(SnapshotError::Newer(version));
        }
        let unreadable = |e: serde_json::Error| SnapshotError::Unreadable {
            kind: kind.to_owned(),
            reason: e.to_string(),
        };
        let named = || NamedState::deserialize(value).map_err(unreadable);
        match kind {
            "topic" => Ok(Self::Topic(
                TopicSnapshot::deserialize(value).map_err(unreadable)?,
            )),
            "condition" => Ok(Self::Condition(named()?)),
            "side_effect" => Ok(Self::SideEffect(named()?)),
            other => Err(SnapshotError::Unreadable {
                kind: other.to_owned(),
                reason: "not a document type".into(),
            }),
        }
    }

    /// The snapshot as stored, exported and shown by `Revision.snapshot`: API names, with
    /// `snapshotVersion`.
    pub fn to_json(&self) -> Value {
        let value = match self {
            Self::Topic(topic) => serde_json::to_value(topic),
            Self::Condition(named) | Self::SideEffect(named) => serde_json::to_value(named),
        };
        let mut value = value.unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            map.insert("snapshotVersion".into(), SNAPSHOT_VERSION.into());
        }
        value
    }
}

impl From<&topic::Model> for TopicState {
    fn from(model: &topic::Model) -> Self {
        Self {
            id: model.id,
            slug: model.slug.clone(),
            title: model.title.clone(),
            summary: model.summary.clone(),
            body: model.body.clone(),
            features: model.features.0.clone(),
            benefits: model.benefits.0.clone(),
            references: model.references.0.clone(),
            reviewed_at: model.reviewed_at,
            reviewed_by: model.reviewed_by,
            review_due_at: model.review_due_at,
            review_note: model.review_note.clone(),
            approved: model.approved,
            image_id: model.image_id,
            status: model.status,
            published_at: model.published_at,
            version: model.version,
            created_at: model.created_at,
            updated_at: model.updated_at,
            created_by: model.created_by,
            updated_by: model.updated_by,
        }
    }
}

impl TopicState {
    /// The row this state describes (`body_html` is derived: rendered when served).
    pub fn into_model(self) -> topic::Model {
        topic::Model {
            id: self.id,
            slug: self.slug,
            title: self.title,
            summary: self.summary,
            body: self.body,
            body_html: None,
            features: TextList(self.features),
            benefits: TextList(self.benefits),
            references: ReferenceList(self.references),
            reviewed_at: self.reviewed_at,
            reviewed_by: self.reviewed_by,
            review_due_at: self.review_due_at,
            review_note: self.review_note,
            approved: self.approved,
            image_id: self.image_id,
            status: self.status,
            published_at: self.published_at,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            created_by: self.created_by,
            updated_by: self.updated_by,
        }
    }
}

macro_rules! named_state {
    ($module:ident) => {
        impl From<&$module::Model> for NamedState {
            fn from(model: &$module::Model) -> Self {
                Self {
                    id: model.id,
                    slug: model.slug.clone(),
                    name: model.name.clone(),
                    description: model.description.clone(),
                    status: model.status,
                    published_at: model.published_at,
                    version: model.version,
                    created_at: model.created_at,
                    updated_at: model.updated_at,
                    created_by: model.created_by,
                    updated_by: model.updated_by,
                }
            }
        }

        impl From<NamedState> for $module::Model {
            fn from(state: NamedState) -> Self {
                Self {
                    id: state.id,
                    slug: state.slug,
                    name: state.name,
                    description: state.description,
                    description_html: None,
                    status: state.status,
                    published_at: state.published_at,
                    version: state.version,
                    created_at: state.created_at,
                    updated_at: state.updated_at,
                    created_by: state.created_by,
                    updated_by: state.updated_by,
                }
            }
        }
    };
}

named_state!(condition);

/// A topic without its links (the caller adds them).
impl From<&topic::Model> for Snapshot {
    fn from(model: &topic::Model) -> Self {
        Self::Topic(TopicSnapshot {
            topic: model.into(),
            conditions: Vec::new(),
            side_effects: Vec::new(),
        })
    }
}

impl From<&condition::Model> for Snapshot {
    fn from(model: &condition::Model) -> Self {
        Self::Condition(model.into())
    }
}

impl From<&side_effect::Model> for Snapshot {
    fn from(model: &side_effect::Model) -> Self {
        Self::SideEffect(model.into())
    }
}
named_state!(side_effect);

impl From<&topic_condition::Model> for ConditionLinkState {
    fn from(link: &topic_condition::Model) -> Self {
        Self {
            condition_id: link.condition_id,
            position: link.position,
            note: link.note.clone(),
        }
    }
}

impl ConditionLinkState {
    /// The link row of topic `topic_id`.
    pub fn into_model(self, topic_id: i32) -> topic_condition::Model {
        topic_condition::Model {
            topic_id,
            condition_id: self.condition_id,
            position: self.position,
            note: self.note,
        }
    }
}

impl From<&topic_side_effect::Model> for SideEffectLinkState {
    fn from(link: &topic_side_effect::Model) -> Self {
        Self {
            side_effect_id: link.side_effect_id,
            position: link.position,
            note: link.note.clone(),
            frequency: link.frequency,
            severity: link.severity,
            duration: link.duration,
        }
    }
}

impl SideEffectLinkState {
    /// The link row of topic `topic_id`.
    pub fn into_model(self, topic_id: i32) -> topic_side_effect::Model {
        topic_side_effect::Model {
            topic_id,
            side_effect_id: self.side_effect_id,
            position: self.position,
            note: self.note,
            frequency: self.frequency,
            severity: self.severity,
            duration: self.duration,
        }
    }
}

impl TopicSnapshot {
    /// A topic with its links (each list in the order it is shown).
    pub fn new(
        topic: &topic::Model,
        conditions: &[topic_condition::Model],
        side_effects: &[topic_side_effect::Model],
    ) -> Self {
        Self {
            topic: topic.into(),
            conditions: conditions.iter().map(Into::into).collect(),
            side_effects: side_effects.iter().map(Into::into).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn format_one_reads_and_comes_back_in_api_names() {
        let v1 = json!({
            "topic": { "id": 1, "slug": "s", "title": "T", "summary": "", "body": "b",
                "features": [], "benefits": ["x"], "references": [{"title": "r"}],
                "reviewed_at": null, "reviewed_by": null, "status": "PUBLISHED",
                "published_at": "2026-12-03T11:50:59.494011Z", "version": 3,
                "created_at": "2026-12-03T11:50:59.493761Z",
                "updated_at": "2026-12-03T11:50:59.493761Z",
                "created_by": null, "updated_by": 2 },
            "conditions": [{ "topic_id": 1, "condition_id": 4, "position": 0, "note": null }],
            "sideEffects": [{ "topic_id": 1, "side_effect_id": 5, "position": 0, "note": "n",
                "frequency": "RARE", "severity": "MILD", "duration": "TEMPORARY" }]
        });
        let Ok(Snapshot::Topic(read)) = Snapshot::read("topic", &v1) else {
            panic!("format 1 must read");
        };
        assert_eq!(read.topic.updated_by, Some(2));
        assert_eq!(read.conditions[0].condition_id, 4);
        let now = Snapshot::Topic(read.clone()).to_json();
        assert_eq!(now["snapshotVersion"], 2);
        assert_eq!(now["topic"]["updatedBy"], 2);
        assert_eq!(now["conditions"][0]["conditionId"], 4);
        assert_eq!(now["sideEffects"][0]["sideEffectId"], 5);
        assert!(now["topic"].get("updated_by").is_none());
        assert_eq!(
            Snapshot::read("topic", &now).ok(),
            Some(Snapshot::Topic(read))
        );
    }

    #[test]
    fn added_fields_are_ignored_and_newer_formats_refused() {
        let named = json!({ "id": 1, "slug": "s", "name": "N", "description": "d",
            "status": "DRAFT", "version": 1, "createdAt": "2026-12-03T11:50:59Z",
            "updatedAt": "2026-12-03T11:50:59Z", "aFieldFromTheFuture": [1, 2] });
        assert!(matches!(
            Snapshot::read("condition", &named),
            Ok(Snapshot::Condition(_))
        ));
        let mut newer = named;
        newer["snapshotVersion"] = json!(SNAPSHOT_VERSION + 1);
        assert!(matches!(
            Snapshot::read("condition", &newer),
            Err(SnapshotError::Newer(_))
        ));
        assert!(Snapshot::read("topic", &json!({"title": 1})).is_err());
    }
}
