//! A document's editable fields, parsed once ("parse, don't validate", as zero2prod's
//! `SubscriberName`): a request, a seed file and a restored revision all become a
//! [`TopicFields`] or [`NamedFields`] before anything is written, and each value type can
//! only hold a value that passed its rules (`content::validate`). Writes take these types
//! and nothing else, so no path can store an unchecked value.

use entity::json::Reference;
use entity::{Duration, Frequency, Severity};

use super::validate::{self, FieldError, MAX_SUMMARY, MAX_TEXT, MAX_TITLE};

/// A title or name: one line, trimmed, 1 to [`MAX_TITLE`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label(String);

impl Label {
    /// Parses the value of input field `field`.
    pub fn parse(value: &str, field: &str) -> Result<Self, FieldError> {
        validate::required_line(value, field, MAX_TITLE).map(Self)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A URL name: lowercase letters, digits and single hyphens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    /// Parses `given`; when absent or empty, derives it from `label` (a title or name).
    pub fn parse(given: Option<&str>, label: &str, field: &str) -> Result<Self, FieldError> {
        validate::slug(given, label, field).map(Self)
    }

    /// The slug of a document labelled `label`.
    pub fn derive(label: &Label, field: &str) -> Result<Self, FieldError> {
        Self::parse(None, label.as_str(), field)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A topic's summary: one plain paragraph, trimmed, at most [`MAX_SUMMARY`] characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary(String);

impl Summary {
    /// Parses the value of input field `field`.
    pub fn parse(value: &str, field: &str) -> Result<Self, FieldError> {
        validate::max_chars(value, field, MAX_SUMMARY)?;
        Ok(Self(value.trim().to_owned()))
    }
}

/// Markdown text (a body or description), at most [`MAX_TEXT`] characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Markdown(String);

impl Markdown {
    /// Parses the value of input field `field`.
    pub fn parse(value: String, field: &str) -> Result<Self, FieldError> {
        validate::max_chars(&value, field, MAX_TEXT)?;
        Ok(Self(value))
    }

    /// The Markdown.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An ordered list of short texts (features, benefits): each one line, none empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Items(Vec<String>);

impl Items {
    /// Parses the value of input field `field`.
    pub fn parse(items: Vec<String>, field: &str) -> Result<Self, FieldError> {
        validate::text_list(items, field).map(Self)
    }
}

/// An ordered list of sources: a title each and an optional http(s) URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References(Vec<Reference>);

impl References {
    /// Parses the value of input field `field`.
    pub fn parse(items: Vec<Reference>, field: &str) -> Result<Self, FieldError> {
        validate::references(items, field).map(Self)
    }
}

macro_rules! into_inner {
    ($($ty:ident: $inner:ty),*) => {
        $(impl From<$ty> for $inner {
            fn from(value: $ty) -> Self {
                value.0
            }
        })*
    };
}

into_inner!(Label: String, Slug: String, Summary: String, Markdown: String, Items: Vec<String>, References: Vec<Reference>);

/// A topic's link to a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionLink {
    /// The condition.
    pub condition_id: i32,
    /// A remark on this pairing (trimmed; none when empty).
    pub note: Option<String>,
}

/// A topic's link to a side effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideEffectLink {
    /// The side effect.
    pub side_effect_id: i32,
    /// How common.
    pub frequency: Frequency,
    /// How severe.
    pub severity: Severity,
    /// How lasting.
    pub duration: Duration,
    /// A remark on this pairing (trimmed; none when empty).
    pub note: Option<String>,
}

impl ConditionLink {
    /// A link with its note checked (input field `field`).
    pub fn parse(condition_id: i32, note: Option<String>, field: &str) -> Result<Self, FieldError> {
        Ok(Self {
            condition_id,
            note: validate::note(note, field)?,
        })
    }
}

impl SideEffectLink {
    /// A link with its note checked (input field `field`).
    pub fn parse(
        side_effect_id: i32,
        (frequency, severity, duration): (Frequency, Severity, Duration),
        note: Option<String>,
        field: &str,
    ) -> Result<Self, FieldError> {
        Ok(Self {
            side_effect_id,
            frequency,
            severity,
            duration,
            note: validate::note(note, field)?,
        })
    }
}

/// A topic's editable fields, each `None` when not given: an update leaves such a field as
/// it is; a create takes its default (empty text, no items, no links; the slug from the
/// title).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicFields {
    /// Title.
    pub title: Option<Label>,
    /// URL name.
    pub slug: Option<Slug>,
    /// One plain paragraph.
    pub summary: Option<Summary>,
    /// Markdown body.
    pub body: Option<Markdown>,
    /// Features, in order.
    pub features: Option<Items>,
    /// Benefits, in order.
    pub benefits: Option<Items>,
    /// Sources, in order.
    pub references: Option<References>,
    /// The conditions it treats, in order (replaces all).
    pub conditions: Option<Vec<ConditionLink>>,
    /// The side effects it may cause, in order (replaces all).
    pub side_effects: Option<Vec<SideEffectLink>>,
    /// The hero image: `Some(None)` removes it.
    pub image: Option<Option<i32>>,
}

/// A condition's or side effect's editable fields, each `None` when not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamedFields {
    /// Name.
    pub name: Option<Label>,
    /// URL name.
    pub slug: Option<Slug>,
    /// Markdown description.
    pub description: Option<Markdown>,
}
