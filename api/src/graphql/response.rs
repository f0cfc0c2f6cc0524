//! A GraphQL response as bytes: every error with a code, in one order, and the body in the
//! spec's shape.
//!
//! Dermis's own errors carry their code from their type ([`crate::errors::ApiError`] through
//! [`super::error`]). async-graphql raises a few errors of its own that carry neither a code
//! nor a type, only a message; they are recognised here and nowhere else, and the tests
//! below run the real schema so that an upgrade that rewords one fails here, not in
//! production.

use crate::errors::UNAVAILABLE_CODE;
use serde_json::{Map, Value, json};

use crate::metrics::Outcome;

/// The message of async-graphql's own complexity refusal (`Schema::limit_complexity`).
const COMPLEXITY_REFUSAL: &str = "Query is too complex.";

/// How async-graphql words the errors it raises while coercing an argument at execution
/// time (values its validation lets through, such as a string for an input object). Every
/// resolver error of Dermis carries a code, so an uncoded error with one of these messages is
/// the caller's input, not a fault.
const INPUT_COERCION_PREFIXES: [&str; 3] = [
    "Failed to parse \"",
    "Invalid value for argument",
    "Expected input type \"",
];

/// Whether `response` is async-graphql's own complexity refusal (see
/// [`super::build_schema`]).
pub fn is_complexity_refusal(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && matches!(response.errors.as_slice(), [error]
            if error.message == COMPLEXITY_REFUSAL && error.extensions.is_none())
}

/// Whether an uncoded error is async-graphql's refusal of an argument's value.
fn is_input_coercion(message: &str) -> bool {
    INPUT_COERCION_PREFIXES
        .iter()
        .any(|p| message.starts_with(p))
        || message.contains("(occurred while parsing \"")
}

/// The errors of an answer as JSON, each with a code ([`normalize_error`]), in one order:
/// by where they are in the document, then by path, then by message. async-graphql's
/// validation reports in an order that varies between identical requests (its rules keep
/// state in hash maps); equal requests must give equal bytes.
pub fn coded_errors(errors: &[async_graphql::ServerError], default_code: &str) -> Vec<Value> {
    let mut errors: Vec<Value> = errors
        .iter()
        .map(|e| normalize_error(serde_json::to_value(e).unwrap_or(Value::Null), default_code))
        .collect();
    errors.sort_by_cached_key(|error| {
        let locations: Vec<(u64, u64)> = error["locations"]
            .as_array()
            .map(|locations| {
                locations
                    .iter()
                    .map(|l| {
                        let at = |key: &str| l[key].as_u64().unwrap_or(0);
                        (at("line"), at("column"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        (
            locations,
            error["path"].to_string(),
            error["message"].as_str().unwrap_or_default().to_owned(),
        )
    });
    errors
}

/// Gives an error without a code `default_code`, or `BAD_USER_INPUT` when it is an argument
/// that failed to coerce; an unexpected resolver error also gets its message masked (the
/// original goes to the log).
fn normalize_error(mut error: Value, default_code: &str) -> Value {
    let Some(object) = error.as_object_mut() else {
        return json!({ "message": "Internal server error", "extensions": { "code": "INTERNAL_SERVER_ERROR" } });
    };
    let coercion = object
        .get("message")
        .and_then(Value::as_str)
        .is_some_and(is_input_coercion);
    let extensions = object
        .entry("extensions")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(extensions) = extensions.as_object_mut()
        && !extensions.contains_key("code")
    {
        let code = if coercion && default_code == "INTERNAL_SERVER_ERROR" {
            "BAD_USER_INPUT"
        } else {
            default_code
        };
        extensions.insert("code".into(), Value::String(code.to_owned()));
        if code == "INTERNAL_SERVER_ERROR" {
            let original = object.insert("message".into(), json!("Internal server error"));
            tracing::error!(error = ?original, "unexpected GraphQL field error");
        }
    }
    error
}

/// How an executed request ended, from its (normalised) errors.
pub fn outcome(request_error: bool, errors: &[Value]) -> Outcome {
    let internal = errors.iter().any(|e| {
        let code = &e["extensions"]["code"];
        code == "INTERNAL_SERVER_ERROR" || code == UNAVAILABLE_CODE
    });
    if internal {
        Outcome::Failed
    } else if request_error {
        Outcome::Refused
    } else if errors.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Partial
    }
}

/// Whether a coded error says the database could not be reached.
pub fn is_unavailable(error: &Value) -> bool {
    error["extensions"]["code"] == UNAVAILABLE_CODE
}

/// The response body: `errors` (when any), `data` (when present), `extensions` (when any).
/// `data` is serialised straight from the executor's value, in the selection set's order
/// (the spec's SHOULD), without first copying it into a `serde_json::Value` tree.
#[derive(serde::Serialize)]
struct Body<'a, D: serde::Serialize> {
    #[serde(skip_serializing_if = "<[Value]>::is_empty")]
    errors: &'a [Value],
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a D>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extensions: Option<&'a Value>,
}

/// The JSON body of a GraphQL response.
pub fn body<D: serde::Serialize>(
    data: Option<&D>,
    errors: &[Value],
    extensions: Option<&Value>,
) -> Vec<u8> {
    serde_json::to_vec(&Body {
        errors,
        data,
        extensions,
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::graphql::{QueryLimits, build_schema};

    /// The schema with a database that is never reached (the requests fail before).
    async fn schema_with(limits: &QueryLimits) -> crate::graphql::AppSchema {
        let db = sea_orm::Database::connect("sqlite::memory:")
            .await
            .expect("in-memory SQLite");
        let settings = crate::config::settings::AuthSettings {
            refresh_reuse_interval: std::time::Duration::from_secs(30),
            access_ttl: std::time::Duration::from_secs(60),
            refresh_ttl: std::time::Duration::from_secs(60),
            preview_ttl: std::time::Duration::from_secs(60),
            review_interval_days: 365,
            preview_url: None,
            throttle: crate::config::settings::ThrottleSettings {
                per_account: 5,
                per_client: 5,
                window: std::time::Duration::from_secs(60),
            },
        };
        let auth = crate::auth::Auth::new(&[7; 32], settings)
            .await
            .expect("auth");
        let folder = std::env::temp_dir().join("dermis-unit-media");
        let media = crate::media::MediaLibrary {
            store: crate::media::MediaStore::open(&crate::config::settings::MediaLocation::Folder(
                folder,
            ))
            .expect("media folder"),
            limits: crate::media::Limits {
                max_bytes: 1024,
                max_pixels: 1024,
            },
            addresses: crate::media::Addresses::default(),
        };
        build_schema(db, Arc::new(auth), Arc::default(), Arc::new(media), limits)
    }

    #[tokio::test]
    async fn async_graphqls_own_errors_are_recognised() {
        let limits = QueryLimits {
            max_complexity: 5,
            ..QueryLimits::default()
        };
        let schema = schema_with(&limits).await;
        let complex = schema
            .execute("{ topics(first: 50) { edges { node { title } } } }")
            .await;
        assert!(is_complexity_refusal(&complex), "{:?}", complex.errors);

        let schema = schema_with(&QueryLimits::default()).await;
        let coercion = schema
            .execute(r#"mutation { login(input: "not an object") { accessToken } }"#)
            .await;
        let errors = coded_errors(&coercion.errors, "INTERNAL_SERVER_ERROR");
        assert!(!errors.is_empty());
        let codes: Vec<&Value> = errors.iter().map(|e| &e["extensions"]["code"]).collect();
        assert!(
            codes
                .iter()
                .all(|c| *c == "BAD_USER_INPUT" || *c == "GRAPHQL_VALIDATION_FAILED"),
            "{errors:?}"
        );
    }
}
