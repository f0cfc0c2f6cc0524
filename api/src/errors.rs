//! Domain errors, with the stable code each is known by; `graphql::error` maps them, once,
//! to GraphQL errors with that code in `extensions.code`.

use std::sync::Arc;

use entity::ContentStatus;
use sea_orm::{DbErr, SqlErr};
use serde::Serialize;

/// A document named in an error (a draft that blocks publishing, a topic that links here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentRef {
    /// `TOPIC`, `CONDITION` or `SIDE_EFFECT`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Its id.
    pub id: String,
    /// Its slug.
    pub slug: String,
    /// Its status.
    pub status: ContentStatus,
}

/// Why a write conflicts with the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictReason {
    /// `expectedVersion` is not the current version: someone saved in between.
    StaleVersion,
    /// Publishing would link to conditions or side effects that are not published.
    UnpublishedLinks,
    /// Published topics link to this document.
    LinkedFromPublished,
    /// Publishing content that did not pass the medical review.
    NotApproved,
    /// The document's status does not allow this step.
    WrongStatus,
    /// The document already has a pending schedule of this kind.
    AlreadyScheduled,
    /// Published content uses the media item.
    InUse,
}

impl ConflictReason {
    /// The name clients see in `extensions.reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StaleVersion => "STALE_VERSION",
            Self::UnpublishedLinks => "UNPUBLISHED_LINKS",
            Self::LinkedFromPublished => "LINKED_FROM_PUBLISHED",
            Self::NotApproved => "NOT_APPROVED",
            Self::WrongStatus => "WRONG_STATUS",
            Self::AlreadyScheduled => "ALREADY_SCHEDULED",
            Self::InUse => "IN_USE",
        }
    }
}

/// The code of an error that says the database could not be reached.
pub const UNAVAILABLE_CODE: &str = "DATABASE_UNAVAILABLE";

/// Everything that can go wrong while answering a GraphQL field.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The caller sent a value the API refuses; `field` names the argument or input field.
    #[error("{message}")]
    BadUserInput {
        /// The argument or input field at fault (`first`, `after`, `input.slug`, ...).
        field: String,
        /// What is wrong, for a human.
        message: String,
    },
    /// No valid credentials for something that needs them.
    #[error("{0}")]
    Unauthenticated(String),
    /// Signed in, but the role does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// The addressed document or user does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The write conflicts with the current state; nothing was written.
    #[error("{message}")]
    Conflict {
        /// Why.
        reason: ConflictReason,
        /// For a human.
        message: String,
        /// The current version, for a stale `expectedVersion`.
        current_version: Option<i32>,
        /// The documents involved.
        documents: Vec<DocumentRef>,
    },
    /// An upload of a type the media library does not take (judged from its bytes).
    #[error("{0}")]
    UnsupportedFileType(String),
    /// An upload over the byte or pixel limit.
    #[error("{0}")]
    MediaTooLarge(String),
    /// Too many attempts; try again after `retry_after_secs`.
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until an attempt may succeed.
        retry_after_secs: u64,
    },
    /// A subscriber fell behind the live feed by this many events, which it did not get
    /// (`contentEvents(after:)` has them); the subscription goes on.
    #[error(
        "this subscription fell behind and missed {0} events; read them with `contentEvents(after:)`"
    )]
    EventsMissed(u64),
    /// The database cannot be reached (down, restarting, out of connections, locked):
    /// nothing was written, and the same request may succeed after `Retry-After`.
    #[error("the server cannot reach its database; try again shortly ({0})")]
    Unavailable(Arc<DbErr>),
    /// The database failed; details go to the log only.
    #[error("database error: {0}")]
    Database(Arc<DbErr>),
    /// Any other unexpected failure; details go to the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A `BAD_USER_INPUT` error about `field`.
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A stale `expectedVersion`.
    pub fn stale(what: &str, current_version: i32) -> Self {
        Self::Conflict {
            reason: ConflictReason::StaleVersion,
            message: format!(
                "the {what} was changed by someone else (now at version {current_version}); reload it before saving"
            ),
            current_version: Some(current_version),
            documents: Vec::new(),
        }
    }

    /// The stable code integrators match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUserInput { .. } => "BAD_USER_INPUT",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Conflict { .. } => "CONFLICT",
            Self::UnsupportedFileType(_) => "UNSUPPORTED_FILE_TYPE",
            Self::MediaTooLarge(_) => "MEDIA_TOO_LARGE",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::EventsMissed(_) => "EVENTS_MISSED",
            Self::Unavailable(_) => UNAVAILABLE_CODE,
            Self::Database(_) | Self::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    /// A unique-constraint violation, if this is one (a taken slug or email).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Database(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))))
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        if crate::db::availability::observe(&err) {
            Self::Unavailable(Arc::new(err))
        } else {
            Self::Database(Arc::new(err))
        }
    }
}

impl From<crate::media::MediaError> for ApiError {
    fn from(err: crate::media::MediaError) -> Self {
        use crate::media::MediaError;
        match err {
            MediaError::Unsupported(message) => Self::UnsupportedFileType(message),
            MediaError::TooLarge(message) => Self::MediaTooLarge(message),
            MediaError::Damaged(_) => Self::bad_input("input.file", err.to_string()),
            MediaError::Storage(message) => Self::Internal(message),
        }
    }
}

/// Result of a resolver or a content operation.
pub type ApiResult<T> = Result<T, ApiError>;
