//! Validation of editor input. Every check names the input field at fault; nothing is
//! written until every check passed.

use entity::json::Reference;

use crate::errors::{ApiError, ApiResult};

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
pub fn id(value: &str, field: &str) -> ApiResult<i32> {
    value
        .parse::<i32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::bad_input(field, format!("`{}` is not a valid id", value)))
}

/// A required single-line text, trimmed, of 1 to `max` characters.
pub fn required_line(value: &str, field: &str, max: usize) -> ApiResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::bad_input(field, "this field is required"));
    }
    if value.contains(['\n', '\r']) {
        return Err(ApiError::bad_input(field, "this field is one line"));
    }
    max_chars(value, field, max)?;
    Ok(value.to_owned())
}

/// Refuses text over `max` characters.
pub fn max_chars(value: &str, field: &str, max: usize) -> ApiResult<()> {
    if value.chars().count() > max {
        return Err(ApiError::bad_input(
            field,
            format!("at most {max} characters, got {}", value.chars().count()),
        ));
    }
    Ok(())
}

/// A given slug, checked; or the title turned into one.
pub fn slug(given: Option<&str>, title: &str, field: &str) -> ApiResult<String> {
    match given.map(str::trim) {
        Some(slug) if !slug.is_empty() => {
            if is_valid_slug(slug) {
                Ok(slug.to_owned())
            } else {
                Err(ApiError::bad_input(
                    field,
                    format!(
                        "a slug is lowercase letters a-z, digits and single hyphens, at most {MAX_SLUG} characters"
                    ),
                ))
            }
        }
        _ => {
            let mut generated = slug::slugify(title);
            if generated.len() > MAX_SLUG {
                generated.truncate(MAX_SLUG);
                generated = generated.trim_end_matches('-').to_owned();
            }
            if generated.is_empty() {
                return Err(ApiError::bad_input(
                    field,
                    "cannot derive a slug from the title; give one",
                ));
            }
            Ok(generated)
        }
    }
}

/// An ordered list of short texts: items trimmed, none empty.
pub fn text_list(items: Vec<String>, field: &str) -> ApiResult<Vec<String>> {
    if items.len() > MAX_ITEMS {
        return Err(ApiError::bad_input(
            field,
            format!("at most {MAX_ITEMS} items"),
        ));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| required_line(&item, &format!("{field}[{i}]"), MAX_ITEM))
        .collect()
}

/// References: a title each, and an optional http(s) URL.
pub fn references(items: Vec<Reference>, field: &str) -> ApiResult<Vec<Reference>> {
    if items.len() > MAX_ITEMS {
        return Err(ApiError::bad_input(
            field,
            format!("at most {MAX_ITEMS} items"),
        ));
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
                        return Err(ApiError::bad_input(
                            format!("{field}[{i}].url"),
                            "enter an http or https address",
                        ));
                    }
                    Some(url.to_owned())
                }
            };
            Ok(Reference { title, url })
        })
        .collect()
}

/// An optional note: trimmed, empty means none.
pub fn note(value: Option<String>, field: &str) -> ApiResult<Option<String>> {
    let Some(value) = value else { return Ok(None) };
    let value = value.trim();
    max_chars(value, field, MAX_NOTE)?;
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

/// Refuses the same target twice in one list of links.
pub fn distinct_ids(ids: &[i32], field: &str) -> ApiResult<()> {
    if ids.len() > MAX_ITEMS {
        return Err(ApiError::bad_input(
            field,
            format!("at most {MAX_ITEMS} links"),
        ));
    }
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            return Err(ApiError::bad_input(
                format!("{field}[{i}]"),
                "this document is linked twice",
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
