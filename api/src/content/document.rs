//! What topics, conditions and side effects have in common, so one implementation of
//! lookup, filtering, ordering and pagination serves all three.

use chrono::{DateTime, Utc};
use entity::{ContentStatus, condition, side_effect, topic};
use sea_orm::EntityTrait;

use super::read_model::{self, View};
use super::snapshot::Snapshot;

/// The fields a list can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    /// Title (topics) or name (conditions, side effects).
    Label,
    /// Last change.
    UpdatedAt,
    /// Publication time (drafts sort as the oldest).
    PublishedAt,
}

/// A value of a [`SortField`], as stored in a cursor.
#[derive(Debug, Clone, PartialEq)]
pub enum SortValue {
    /// A title or name.
    Text(String),
    /// A timestamp (publication time of a draft is the epoch).
    Time(DateTime<Utc>),
}

/// A content table.
pub trait Document: EntityTrait<Model: Sync> {
    /// The id column.
    const ID: Self::Column;
    /// The slug column.
    const SLUG: Self::Column;
    /// The status column.
    const STATUS: Self::Column;
    /// Title or name.
    const LABEL: Self::Column;
    /// Last change.
    const UPDATED_AT: Self::Column;
    /// Publication time.
    const PUBLISHED_AT: Self::Column;
    /// Optimistic-lock version.
    const VERSION: Self::Column;
    /// Who changed it last.
    const UPDATED_BY: Self::Column;
    /// The Markdown text: body (topics) or description.
    const TEXT: Self::Column;
    /// [`Document::TEXT`] rendered to sanitized HTML, stored with it.
    const HTML: Self::Column;
    /// Entity type name used in revisions.
    const KIND: &'static str;
    /// Its public read model (a unit test holds [`Document::LABEL`] and the table to it).
    const VIEW: &'static View;
    /// Whether the content as it stands passed the medical review, for types that go
    /// through it (topics); `None` for the others, which publish without one.
    const APPROVED: Option<Self::Column>;

    /// The row's id.
    fn id(model: &Self::Model) -> i32;
    /// The row's status.
    fn status(model: &Self::Model) -> ContentStatus;
    /// The row's version.
    fn version(model: &Self::Model) -> i32;
    /// The row's slug.
    fn slug(model: &Self::Model) -> &str;
    /// Whether it may be published without an override: its content is the approved one,
    /// or its type needs no review.
    fn approved(model: &Self::Model) -> bool;
    /// The row's value of `field`.
    fn sort_value(model: &Self::Model, field: SortField) -> SortValue;
    /// The row's state as a revision keeps it (a topic's links are added by the caller).
    fn snapshot(model: &Self::Model) -> Snapshot;
}

/// The publication time used for ordering: drafts (no publication time) sort as the epoch.
pub fn published_sort_value(at: Option<DateTime<Utc>>) -> SortValue {
    SortValue::Time(at.unwrap_or(DateTime::UNIX_EPOCH))
}

macro_rules! document {
    ($module:ident, $kind:literal, $view:ident, $label:ident, $text:ident, $html:ident, $approved:expr) => {
        impl Document for $module::Entity {
            const ID: Self::Column = $module::Column::Id;
            const SLUG: Self::Column = $module::Column::Slug;
            const STATUS: Self::Column = $module::Column::Status;
            const LABEL: Self::Column = $module::Column::$label;
            const UPDATED_AT: Self::Column = $module::Column::UpdatedAt;
            const PUBLISHED_AT: Self::Column = $module::Column::PublishedAt;
            const VERSION: Self::Column = $module::Column::Version;
            const UPDATED_BY: Self::Column = $module::Column::UpdatedBy;
            const TEXT: Self::Column = $module::Column::$text;
            const HTML: Self::Column = $module::Column::$html;
            const KIND: &'static str = $kind;
            const VIEW: &'static View = &read_model::$view;
            const APPROVED: Option<Self::Column> = $approved;

            fn id(model: &Self::Model) -> i32 {
                model.id
            }

            fn status(model: &Self::Model) -> ContentStatus {
                model.status
            }

            fn version(model: &Self::Model) -> i32 {
                model.version
            }

            fn slug(model: &Self::Model) -> &str {
                &model.slug
            }

            fn approved(model: &Self::Model) -> bool {
                Approval::approved(model)
            }

            fn snapshot(model: &Self::Model) -> Snapshot {
                Snapshot::from(model)
            }

            fn sort_value(model: &Self::Model, field: SortField) -> SortValue {
                match field {
                    SortField::Label => SortValue::Text(Labelled::label(model).to_owned()),
                    SortField::UpdatedAt => SortValue::Time(model.updated_at),
                    SortField::PublishedAt => published_sort_value(model.published_at),
                }
            }
        }
    };
}

/// Whether a row's content is approved for publication.
trait Approval {
    fn approved(&self) -> bool;
}

impl Approval for topic::Model {
    fn approved(&self) -> bool {
        self.approved
    }
}

impl Approval for condition::Model {
    fn approved(&self) -> bool {
        true
    }
}

impl Approval for side_effect::Model {
    fn approved(&self) -> bool {
        true
    }
}

/// Access to the label field under one name.
trait Labelled {
    fn label(&self) -> &str;
}

impl Labelled for topic::Model {
    fn label(&self) -> &str {
        &self.title
    }
}

impl Labelled for condition::Model {
    fn label(&self) -> &str {
        &self.name
    }
}

impl Labelled for side_effect::Model {
    fn label(&self) -> &str {
        &self.name
    }
}

// The columns a search looks in are the migrations' (`m20261125_000006_search`: FTS5 tables
// on SQLite, `m20261125_000008_pg_search_column` on PostgreSQL), not listed here.
document!(
    topic,
    "topic",
    TOPIC,
    Title,
    Body,
    BodyHtml,
    Some(topic::Column::Approved)
);
document!(
    condition,
    "condition",
    CONDITION,
    Name,
    Description,
    DescriptionHtml,
    None
);
document!(
    side_effect,
    "side_effect",
    SIDE_EFFECT,
    Name,
    Description,
    DescriptionHtml,
    None
);

/// Is this status visible under `visibility`?
pub fn visible(status: ContentStatus, visibility: super::Visibility) -> bool {
    visibility == super::Visibility::All || status == super::read_model::PUBLIC_STATUS
}

/// The GraphQL name of a document type (`TOPIC`, `CONDITION`, `SIDE_EFFECT`).
pub fn type_name(kind: &str) -> &'static str {
    match kind {
        "topic" => "TOPIC",
        "condition" => "CONDITION",
        _ => "SIDE_EFFECT",
    }
}

/// A document type for people (`topic`, `condition`, `side effect`).
pub fn human_name(kind: &str) -> &'static str {
    match kind {
        "topic" => "topic",
        "condition" => "condition",
        _ => "side effect",
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::IdenStatic;

    use super::*;

    fn agrees<E: Document>() {
        assert_eq!(E::default().table_name(), E::VIEW.table);
        assert_eq!(E::LABEL.as_str(), E::VIEW.label, "{}", E::VIEW.type_name);
        for (column, kind) in [(E::HTML, "html"), (E::TEXT, "text"), (E::SLUG, "slug")] {
            assert!(
                E::VIEW.fields.iter().any(|f| f.column == column.as_str()),
                "{} {kind}",
                E::VIEW.type_name
            );
        }
    }

    #[test]
    fn each_documents_columns_are_its_read_models() {
        agrees::<topic::Entity>();
        agrees::<condition::Entity>();
        agrees::<side_effect::Entity>();
    }
}
