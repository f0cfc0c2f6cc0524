//! The public read model, declared once: for each public type, its fields with the column
//! each reads and the kind of its value (enum mappings included), the visibility rule, and
//! the order of lists. The general resolvers' queries (`content::query`, `content::links`)
//! and the compiled read path (`graphql::compiled`) both take their SQL from here, so
//! `'PUBLISHED'`, enum spellings and list orders exist in one place each (cursor shapes are
//! `content::pagination`'s).
//!
//! A field added to a public type is added to its [`View`] here: the compiled read path
//! then answers queries that ask for it when its kind is one it computes (text, numbers,
//! enums, stored HTML, lists of texts), and leaves them to the general executor otherwise.

use entity::ContentStatus;
use sea_orm::{ActiveEnum, Iterable};

/// What a field's value is, as far as reading it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An integer primary key, exposed as a GraphQL `ID` (a string).
    Id,
    /// Text as stored.
    Text,
    /// Nullable text as stored.
    OptionalText,
    /// An integer.
    Int,
    /// A JSON array of texts, stored as JSON.
    TextList,
    /// Sanitized HTML stored beside its Markdown (`source`): null until the server has
    /// rendered a row written without it, and then rendered on the fly.
    Html {
        /// The Markdown column.
        source: &'static str,
    },
    /// A string enum: the stored value and the GraphQL name of each variant.
    Enum(&'static EnumMap),
    /// A value the compiled path does not compute (timestamps, which the two paths format
    /// differently; structured JSON; a user): only the general executor answers it.
    Other,
}

/// A stored enum and how each stored value is spelt in the API.
#[derive(Debug, PartialEq, Eq)]
pub struct EnumMap {
    /// The GraphQL enum's name.
    pub name: &'static str,
    /// (stored value, GraphQL name) of every variant.
    pub values: &'static [(&'static str, &'static str)],
}

impl EnumMap {
    /// Whether every variant is stored as the API spells it (then the column is the answer).
    pub fn stored_as_named(&self) -> bool {
        self.values.iter().all(|(stored, named)| stored == named)
    }
}

/// `ContentStatus`.
pub static STATUS: EnumMap = EnumMap {
    name: "ContentStatus",
    values: &[
        ("DRAFT", "DRAFT"),
        ("IN_REVIEW", "IN_REVIEW"),
        ("APPROVED", "APPROVED"),
        ("PUBLISHED", "PUBLISHED"),
        ("ARCHIVED", "ARCHIVED"),
    ],
};
/// `Frequency`.
pub static FREQUENCY: EnumMap = EnumMap {
    name: "Frequency",
    values: &[
        ("COMMON", "COMMON"),
        ("UNCOMMON", "UNCOMMON"),
        ("RARE", "RARE"),
    ],
};
/// `Severity`.
pub static SEVERITY: EnumMap = EnumMap {
    name: "Severity",
    values: &[
        ("MILD", "MILD"),
        ("MODERATE", "MODERATE"),
        ("SEVERE", "SEVERE"),
    ],
};
/// `Duration`.
pub static DURATION: EnumMap = EnumMap {
    name: "Duration",
    values: &[("TEMPORARY", "TEMPORARY"), ("PERSISTENT", "PERSISTENT")],
};

/// One field of a public type.
#[derive(Debug, PartialEq, Eq)]
pub struct Field {
    /// The GraphQL field name.
    pub name: &'static str,
    /// The column it reads.
    pub column: &'static str,
    /// What its value is.
    pub kind: Kind,
}

/// A public type read from one table (or a link table).
#[derive(Debug, PartialEq, Eq)]
pub struct View {
    /// The GraphQL type name.
    pub type_name: &'static str,
    /// The table.
    pub table: &'static str,
    /// The column lists are ordered by (then the id); empty for link edges.
    pub label: &'static str,
    /// Its fields that read a column of the table.
    pub fields: &'static [Field],
}

impl View {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|field| field.name == name)
    }

    /// The key lists of this type sort by, rows named `row`: the label, case-insensitively
    /// (`lower`, which migration 15's expression indexes serve), so "acne" and "Acne" sort
    /// together. SQLite's `lower` folds ASCII letters only, PostgreSQL's all of Unicode.
    pub fn sort_key(&self, row: &str) -> String {
        format!("lower({row}.{})", self.label)
    }

    /// The default order of a list of this type, rows named `row`: label (see
    /// [`View::sort_key`]), then id.
    pub fn list_order(&self, row: &str) -> String {
        format!("ORDER BY {}, {row}.id", self.sort_key(row))
    }
}

const fn field(name: &'static str, column: &'static str, kind: Kind) -> Field {
    Field { name, column, kind }
}

/// The fields conditions and side effects share.
macro_rules! named_fields {
    () => {
        &[
            field("id", "id", Kind::Id),
            field("slug", "slug", Kind::Text),
            field("name", "name", Kind::Text),
            field("description", "description", Kind::Text),
            field(
                "descriptionHtml",
                "description_html",
                Kind::Html {
                    source: "description",
                },
            ),
            field("status", "status", Kind::Enum(&STATUS)),
            field("publishedAt", "published_at", Kind::Other),
            field("createdAt", "created_at", Kind::Other),
            field("updatedAt", "updated_at", Kind::Other),
            field("version", "version", Kind::Int),
        ]
    };
}

/// `Topic`.
pub static TOPIC: View = View {
    type_name: "Topic",
    table: "topics",
    label: "title",
    fields: &[
        field("id", "id", Kind::Id),
        field("slug", "slug", Kind::Text),
        field("title", "title", Kind::Text),
        field("summary", "summary", Kind::Text),
        field("body", "body", Kind::Text),
        field("bodyHtml", "body_html", Kind::Html { source: "body" }),
        field("features", "features", Kind::TextList),
        field("benefits", "benefits", Kind::TextList),
        field("references", "references", Kind::Other),
        field("status", "status", Kind::Enum(&STATUS)),
        field("publishedAt", "published_at", Kind::Other),
        field("reviewedAt", "reviewed_at", Kind::Other),
        field("reviewedBy", "reviewed_by", Kind::Other),
        field("reviewDueAt", "review_due_at", Kind::Other),
        field("approved", "approved", Kind::Other),
        field("reviewNote", "review_note", Kind::Other),
        field("createdAt", "created_at", Kind::Other),
        field("updatedAt", "updated_at", Kind::Other),
        field("version", "version", Kind::Int),
    ],
};

/// `Condition`.
pub static CONDITION: View = View {
    type_name: "Condition",
    table: "conditions",
    label: "name",
    fields: named_fields!(),
};

/// `SideEffect`.
pub static SIDE_EFFECT: View = View {
    type_name: "SideEffect",
    table: "side_effects",
    label: "name",
    fields: named_fields!(),
};

/// `TopicConditionEdge`: a topic's link to a condition (`topic_conditions`).
pub static CONDITION_LINK: View = View {
    type_name: "TopicConditionEdge",
    table: "topic_conditions",
    label: "",
    fields: &[
        field("position", "position", Kind::Int),
        field("note", "note", Kind::OptionalText),
    ],
};

/// `TopicSideEffectEdge`: a topic's link to a side effect (`topic_side_effects`).
pub static SIDE_EFFECT_LINK: View = View {
    type_name: "TopicSideEffectEdge",
    table: "topic_side_effects",
    label: "",
    fields: &[
        field("position", "position", Kind::Int),
        field("note", "note", Kind::OptionalText),
        field("frequency", "frequency", Kind::Enum(&FREQUENCY)),
        field("severity", "severity", Kind::Enum(&SEVERITY)),
        field("duration", "duration", Kind::Enum(&DURATION)),
    ],
};

/// The status anonymous callers see: the visibility rule.
pub const PUBLIC_STATUS: ContentStatus = ContentStatus::Published;

/// [`PUBLIC_STATUS`] as stored.
pub fn public_status() -> String {
    PUBLIC_STATUS.to_value()
}

/// The SQL condition that keeps the rows named `row` anonymous callers may see.
pub fn published(row: &str) -> String {
    format!("{row}.status = '{}'", public_status())
}

/// The stored values of an entity enum, in declaration order (for tests that hold a map
/// to its entity).
pub fn stored_values<E: ActiveEnum<Value = String> + Iterable>() -> Vec<String> {
    E::iter().map(|variant| variant.to_value()).collect()
}

#[cfg(test)]
mod tests {
    use entity::{Duration, Frequency, Severity};

    use super::*;

    #[test]
    fn enum_maps_list_every_stored_value() {
        for (map, stored) in [
            (&STATUS, stored_values::<ContentStatus>()),
            (&FREQUENCY, stored_values::<Frequency>()),
            (&SEVERITY, stored_values::<Severity>()),
            (&DURATION, stored_values::<Duration>()),
        ] {
            let listed: Vec<&str> = map.values.iter().map(|(s, _)| *s).collect();
            assert_eq!(listed, stored, "{}", map.name);
        }
    }

    #[test]
    fn visibility_and_order_are_spelt_once() {
        assert_eq!(published("t"), "t.status = 'PUBLISHED'");
        assert_eq!(TOPIC.list_order("t"), "ORDER BY lower(t.title), t.id");
        assert_eq!(
            CONDITION.field("descriptionHtml").map(|f| f.column),
            Some("description_html")
        );
    }
}
