//! The one mapping of domain errors ([`ApiError`]) to GraphQL errors: message, and the code,
//! field, conflict details or retry time in `extensions`.

use async_graphql::ErrorExtensions;

use crate::db::availability::RETRY_AFTER;
use crate::errors::ApiError;

/// What a client is told when the database cannot be reached (the cause is logged).
pub const UNAVAILABLE_MESSAGE: &str = "the server cannot reach its database; try again shortly";

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        let code = self.code();
        let message = match self {
            Self::Database(_) | Self::Internal(_) => {
                tracing::error!(error = %self, "internal error while resolving a field");
                "Internal server error".to_owned()
            }
            Self::Unavailable(_) => {
                tracing::warn!(error = %self, "database unavailable while resolving a field");
                UNAVAILABLE_MESSAGE.to_owned()
            }
            other => other.to_string(),
        };
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code);
            match self {
                Self::BadUserInput { field, .. } => ext.set("field", field.as_str()),
                Self::Conflict {
                    reason,
                    current_version,
                    documents,
                    ..
                } => {
                    ext.set("reason", reason.as_str());
                    if let Some(version) = current_version {
                        ext.set("currentVersion", *version);
                    }
                    if !documents.is_empty()
                        && let Ok(value) = async_graphql::to_value(documents)
                    {
                        ext.set("documents", value);
                    }
                }
                Self::RateLimited { retry_after_secs } => ext.set("retryAfter", *retry_after_secs),
                Self::Unavailable(_) => ext.set("retryAfter", RETRY_AFTER.as_secs()),
                Self::EventsMissed(missed) => ext.set("missed", *missed),
                _ => {}
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.extend()
    }
}
