//! Validation of editor input. Every check names the input field at fault; nothing is
//! written until every check passed.

use entity::json::Reference;

use crate::errors::ApiError;

/// Why an input value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Empty.
    #[error("this field is required")]
    Required,
    /// Holds a line break.
    #[error("this field is one line")]
    OneLine,
    /// Too many characters.
    #[error("at most {max} characters, got {got}")]
    TooLong {
        /// The limit.
        max: usize,
        /// What was sent.
        got: usize,
    },
    /// Not a slug.
    #[error(
        "a slug is lowercase letters a-z, digits and single hyphens, at most {MAX_SLUG} characters"
    )]
    BadSlug,
    /// No slug given, and none can be made of the title.
    #[error("cannot derive a slug from the title; give one")]
    NoSlug,
    /// Too many list items.
    #[error("at most {0} items")]
    TooManyItems(usize),
    /// Too many links of one kind.
    #[error("at most {0} links")]
    TooManyLinks(usize),
    /// One document linked twice.
    #[error("this document is linked twice")]
    LinkedTwice,
    /// Not an http(s) URL.
    #[error("enter an http or https address")]
    NotHttpUrl,
    /// Not a positive integer id.
    #[error("`{0}` is not a valid id")]
    NotAnId(String),
}

/// An input error at a field: `input.title`, `input.features[2]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {error}")]
pub struct FieldError {
    /// The input field at fault.
    pub field: String,
    /// Why.
    pub error: InputError,
}

impl FieldError {
    /// `error` at input field `field`.
    pub fn new(field: impl Into<String>, error: InputError) -> Self {
        Self {
            field: field.into(),
            error,
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        ApiError::bad_input(error.field, error.error.to_string())
    }
}

/// The result of a check.
type Checked<T> = Result<T, FieldError>;

/// Longest slug.
pub const MAX_SLUG: usize = 120;
/// Longest title or name.
pub const MAX_TITLE: usize = 200;
/// Longest summary.
pub const MAX_SUMMARY: usize = 2_000;
/// Longest Markdown body or description.
pub const MAX_TEXT: usize = 100_000;
/// Most items in a features, benefits or references list, or links of one kind.
pub const MAX_ITEMS: usize = 100;
/// Longest list item or reference title.
pub const MAX_ITEM: usize = 500;
/// Longest link note.
pub const MAX_NOTE: usize = 1_000;

/// A numeric id, as sent in an `ID`.
pub fn id(value: &str, field: &str) -> Checked<i32> {
    value
        .parse::<i32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| FieldError::new(field, InputError::NotAnId(value.to_owned())))
}

/// A required single-line text, trimmed, of 1 to `max` characters.
pub fn required_line(value: &str, field: &str, max: usize) -> Checked<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, InputError::Required));
    }
    if value.contains(['\n', '\r']) {
        return Err(FieldError::new(field, InputError::OneLine));
    }
    max_chars(value, field, max)?;
    Ok(value.to_owned())
}

/// Refuses text over `max` characters.
pub fn max_chars(value: &str, field: &str, max: usize) -> Checked<()> {
    let got = value.chars().count();
    if got > max {
        return Err(FieldError::new(field, InputError::TooLong { max, got }));
    }
    Ok(())
}

/// A given slug, checked; or the title turned into one.
pub fn slug(given: Option<&str>, title: &str, field: &str) -> Checked<String> {
    match given.map(str::trim) {
        Some(slug) if !slug.is_empty() => {
            if is_valid_slug(slug) {
                Ok(slug.to_owned())
            } else {
                Err(FieldError::new(field, InputError::BadSlug))
            }
        }
        _ => {
            let mut generated = slug::slugify(title);
            if generated.len() > MAX_SLUG {
                generated.truncate(MAX_SLUG);
                generated = generated.trim_end_matches('-').to_owned();
            }
            if generated.is_empty() {
                return Err(FieldError::new(field, InputError::NoSlug));
            }
            Ok(generated)
        }
    }
}

/// An ordered list of short texts: items trimmed, none empty.
pub fn text_list(items: Vec<String>, field: &str) -> Checked<Vec<String>> {
    if items.len() > MAX_ITEMS {
        return Err(FieldError::new(field, InputError::TooManyItems(MAX_ITEMS)));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| required_line(&item, &format!("{field}[{i}]"), MAX_ITEM))
        .collect()
}

/// References: a title each, and an optional http(s) URL.
pub fn references(items: Vec<Reference>, field: &str) -> Checked<Vec<Reference>> {
    if items.len() > MAX_ITEMS {
        return Err(FieldError::new(field, InputError::TooManyItems(MAX_ITEMS)));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let title = required_line(&item.title, &format!("{field}[{i}].title"), MAX_ITEM)?;
            let url = match item.url.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(url) => {
                    let ok = url::Url::parse(url)
                        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
                    if !ok || url.len() > 2_000 {
                        let at = format!("{field}[{i}].url");
                        return Err(FieldError::new(at, InputError::NotHttpUrl));
                    }
                    Some(url.to_owned())
                }
            };
            Ok(Reference { title, url })
        })
        .collect()
}

/// An optional note: trimmed, empty means none.
pub fn note(value: Option<String>, field: &str) -> Checked<Option<String>> {
    let Some(value) = value else { return Ok(None) };
    let value = value.trim();
    max_chars(value, field, MAX_NOTE)?;
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

/// Refuses the same target twice in one list of links.
pub fn distinct_ids(ids: &[i32], field: &str) -> Checked<()> {
    if ids.len() > MAX_ITEMS {
        return Err(FieldError::new(field, InputError::TooManyLinks(MAX_ITEMS)));
    }
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            return Err(FieldError::new(
                format!("{field}[{i}]"),
                InputError::LinkedTwice,
            ));
        }
    }
    Ok(())
}

/// Is `slug` lowercase `a-z0-9` words joined by single hyphens?
pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 120
        && slug.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_derived_or_checked() {
        assert_eq!(
            slug(None, "Chemical Peel – Ärzte", "s").ok(),
            Some("chemical-peel-arzte".into())
        );
        assert_eq!(slug(Some("ok-1"), "x", "s").ok(), Some("ok-1".into()));
        assert!(slug(Some("Not OK"), "x", "s").is_err());
        assert!(slug(None, "!!!", "s").is_err());
    }

    #[test]
    fn references_need_http_urls() {
        let r = |url: &str| Reference {
            title: "t".into(),
            url: Some(url.into()),
        };
        assert!(references(vec![r("https://example.org/x")], "f").is_ok());
        assert!(references(vec![r("javascript:alert(1)")], "f").is_err());
    }
}
