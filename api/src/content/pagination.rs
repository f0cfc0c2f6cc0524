//! Relay-style keyset pagination: opaque cursors that encode the sort value and id of an
//! edge, so pages stay stable while documents are added, and no `OFFSET` scan is needed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::document::{SortField, SortValue};
use crate::errors::{ApiError, ApiResult};

/// The largest page a caller may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;

/// A plain list's `first` (1 to [`MAX_PAGE_SIZE`]) as a row limit, or `BAD_USER_INPUT`.
pub fn list_limit(first: i32) -> crate::errors::ApiResult<u64> {
    if !(1..=MAX_PAGE_SIZE).contains(&first) {
        return Err(crate::errors::ApiError::bad_input(
            "first",
            format!("`first` must be between 1 and {MAX_PAGE_SIZE}"),
        ));
    }
    Ok(u64::try_from(first).unwrap_or(1))
}
/// The page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: i32 = 20;

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// How a list is ordered (ties are broken by id in the same direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ordering {
    /// The field.
    pub field: SortField,
    /// The direction.
    pub direction: Direction,
}

/// The Relay pagination arguments as the caller sent them.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    /// Forward page size.
    pub first: Option<i32>,
    /// Start after this cursor.
    pub after: Option<String>,
    /// Backward page size.
    pub last: Option<i32>,
    /// End before this cursor.
    pub before: Option<String>,
}

/// Validated pagination: which way to read, how many rows and between which cursors.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// True for `first`, false for `last`.
    pub forward: bool,
    /// Rows wanted.
    pub limit: u64,
    /// Lower bound (exclusive).
    pub after: Option<Cursor>,
    /// Upper bound (exclusive).
    pub before: Option<Cursor>,
}

impl PageArgs {
    /// Checks the arguments against the cap and the ordering the cursors were issued for.
    pub fn validate(&self, ordering: Ordering) -> ApiResult<PageRequest> {
        let size = |name: &str, value: i32| -> ApiResult<u64> {
            if !(0..=MAX_PAGE_SIZE).contains(&value) {
                return Err(ApiError::bad_input(
                    name,
                    format!("`{name}` must be between 0 and {MAX_PAGE_SIZE}, got {value}"),
                ));
            }
            Ok(value as u64)
        };
        let (forward, limit) = match (self.first, self.last) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_input(
                    "last",
                    "pass either `first` or `last`, not both",
                ));
            }
            (Some(first), None) => (true, size("first", first)?),
            (None, Some(last)) => (false, size("last", last)?),
            (None, None) => (true, DEFAULT_PAGE_SIZE as u64),
        };
        let decode = |name: &str, raw: &Option<String>| -> ApiResult<Option<Cursor>> {
            raw.as_deref()
                .map(|raw| Cursor::decode(raw, name, ordering.field))
                .transpose()
        };
        Ok(PageRequest {
            forward,
            limit,
            after: decode("after", &self.after)?,
            before: decode("before", &self.before)?,
        })
    }
}

/// The position of an edge in an ordered list.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// The ordering it belongs to.
    pub field: SortField,
    /// The sort value of the edge.
    pub value: SortValue,
    /// The id of the edge's document (the tie breaker).
    pub id: i32,
}

#[derive(Serialize, Deserialize)]
struct RawCursor {
    /// Field: `l` label, `u` updated, `p` published.
    f: char,
    /// Text value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<String>,
    /// Time value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<DateTime<Utc>>,
    /// Id.
    i: i32,
}

/// The JSON of a cursor of a list ordered by title ([`SortField::Label`]) around its
/// JSON-quoted title and its id: `{before_title}"Title"{before_id}7{end}`, exactly what
/// [`Cursor::encode`] serialises (the compiled read path builds it in SQL; a unit test
/// holds the two together).
pub const LABEL_CURSOR: (&str, &str, &str) = ("{\"f\":\"l\",\"s\":", ",\"i\":", "}");

/// The opaque form of a cursor's JSON.
pub fn encode_json(json: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(json)
}

impl Cursor {
    /// The opaque string handed to clients.
    pub fn encode(&self) -> String {
        let (s, t) = match &self.value {
            SortValue::Text(text) => (Some(text.clone()), None),
            SortValue::Time(time) => (None, Some(*time)),
        };
        let raw = RawCursor {
            f: field_code(self.field),
            s,
            t,
            i: self.id,
        };
        // Serializing a struct of strings and numbers cannot fail.
        let json = serde_json::to_vec(&raw).unwrap_or_default();
        encode_json(&json)
    }

    /// Parses a cursor sent in argument `name` for a list ordered by `expected`.
    pub fn decode(raw: &str, name: &str, expected: SortField) -> ApiResult<Self> {
        let malformed = || ApiError::bad_input(name, format!("`{name}` is not a valid cursor"));
        let bytes = URL_SAFE_NO_PAD
            .decode(raw.trim_end_matches('='))
            .map_err(|_| malformed())?;
        let raw: RawCursor = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
        let field = match raw.f {
            'l' => SortField::Label,
            'u' => SortField::UpdatedAt,
            'p' => SortField::PublishedAt,
            _ => return Err(malformed()),
        };
        if field != expected {
            return Err(ApiError::bad_input(
                name,
                format!("`{name}` was issued for another `orderBy`; start again without it"),
            ));
        }
        let value = match (field, raw.s, raw.t) {
            // No stored title or name holds a NUL (input refuses it), and PostgreSQL
            // cannot compare with one: such a cursor was made up.
            (SortField::Label, Some(text), None) if !text.contains('\0') => SortValue::Text(text),
            (SortField::UpdatedAt | SortField::PublishedAt, None, Some(time)) => {
                SortValue::Time(time)
            }
            _ => return Err(malformed()),
        };
        Ok(Self {
            field,
            value,
            id: raw.i,
        })
    }
}

fn field_code(field: SortField) -> char {
    match field {
        SortField::Label => 'l',
        SortField::UpdatedAt => 'u',
        SortField::PublishedAt => 'p',
    }
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<M> {
    /// Rows with their cursors, in list order.
    pub edges: Vec<(String, M)>,
    /// More rows follow the last edge.
    pub has_next_page: bool,
    /// More rows precede the first edge.
    pub has_previous_page: bool,
    /// Rows in the whole filtered list, when it was asked for.
    pub total_count: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() {
        let cursor = Cursor {
            field: SortField::Label,
            value: SortValue::Text("Acné".into()),
            id: 7,
        };
        let decoded = Cursor::decode(&cursor.encode(), "after", SortField::Label).expect("valid");
        assert_eq!(decoded, cursor);
    }

    #[test]
    fn label_cursors_have_the_layout_the_compiled_path_writes() {
        let title = "Acné \"x\" \\ \t 日本";
        let cursor = Cursor {
            field: SortField::Label,
            value: SortValue::Text(title.into()),
            id: 42,
        };
        let (before_title, before_id, end) = LABEL_CURSOR;
        let quoted = serde_json::to_string(title).expect("a string");
        let json = format!("{before_title}{quoted}{before_id}42{end}");
        assert_eq!(cursor.encode(), encode_json(json.as_bytes()));
    }

    #[test]
    fn foreign_cursor_is_bad_input() {
        let cursor = Cursor {
            field: SortField::Label,
            value: SortValue::Text("x".into()),
            id: 1,
        };
        let err = Cursor::decode(&cursor.encode(), "after", SortField::UpdatedAt)
            .expect_err("other ordering");
        assert_eq!(err.code(), "BAD_USER_INPUT");
        assert!(Cursor::decode("%%%", "after", SortField::Label).is_err());
        assert!(Cursor::decode("bm9wZQ", "after", SortField::Label).is_err());
    }

    #[test]
    fn page_size_is_capped() {
        let ordering = Ordering {
            field: SortField::Label,
            direction: Direction::Asc,
        };
        let args = |first| PageArgs {
            first: Some(first),
            ..PageArgs::default()
        };
        assert!(args(MAX_PAGE_SIZE).validate(ordering).is_ok());
        assert!(args(MAX_PAGE_SIZE + 1).validate(ordering).is_err());
        assert!(args(-1).validate(ordering).is_err());
    }
}
