//! Every HTTP-level refusal of a GraphQL request (`400`, `401`, `405`, `406`, `413`, `415`,
//! `503`),
//! mapped to its status, code and headers in one place, and written in the GraphQL error
//! shape in the negotiated media type.

use std::borrow::Cow;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use super::negotiate::ResponseType;
use super::observe::OperationInfo;
use crate::graphql::executor::Refused;
use crate::metrics::Outcome;

/// Why a request was refused before, or instead of, execution.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refusal {
    /// `Accept` names neither JSON type.
    #[error("accept application/graphql-response+json or application/json")]
    NotAcceptable,
    /// The body is not declared `application/json`.
    #[error(
        "send the request as Content-Type: application/json (or multipart/form-data for uploads)"
    )]
    UnsupportedMediaType,
    /// The body is over the configured size.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// The request's parameters are malformed.
    #[error("{0}")]
    BadRequest(Cow<'static, str>),
    /// A JSON array of operations.
    #[error("batched requests are not supported: send one operation per request")]
    Batching,
    /// A method other than `GET` and `POST`.
    #[error("use GET or POST")]
    MethodNotAllowed,
    /// A bearer token that is missing its token, invalid, expired or revoked.
    #[error("{0}")]
    Unauthenticated(String),
    /// The credentials could not be checked because the database cannot be reached.
    #[error("{}", crate::graphql::error::UNAVAILABLE_MESSAGE)]
    Unavailable,
    /// The credentials could not be checked (an unexpected failure); the cause is logged.
    #[error("Internal server error")]
    Internal,
    /// A client, or the node, has as many WebSocket connections open as it may.
    #[error("too many WebSocket connections open (at most {0}): close one first")]
    TooManySockets(usize),
    /// Refused by the executor (persisted queries, a mutation over `GET`).
    #[error(transparent)]
    Executor(#[from] Refused),
}

impl Refusal {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed | Self::Executor(Refused::MutationOverGet) => {
                StatusCode::METHOD_NOT_ALLOWED
            }
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManySockets(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::BadRequest(_) | Self::Batching | Self::Executor(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// The stable code in `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAcceptable => "NOT_ACCEPTABLE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::TooLarge(_) => "REQUEST_TOO_LARGE",
            Self::BadRequest(_) => "BAD_REQUEST",
            Self::Batching => "BATCHING_NOT_SUPPORTED",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Unavailable => crate::errors::UNAVAILABLE_CODE,
            Self::TooManySockets(_) => "TOO_MANY_SOCKETS",
            Self::Internal => "INTERNAL_SERVER_ERROR",
            Self::Executor(refused) => refused.code(),
        }
    }

    /// The answer, in `response_type` (a `406` is always `application/json`: the client
    /// accepts nothing better), marked refused for logs and metrics under `operation`.
    pub fn respond(&self, response_type: ResponseType, operation: Option<String>) -> HttpResponse {
        let response_type = match self {
            Self::NotAcceptable => ResponseType::Json,
            _ => response_type,
        };
        let mut response = HttpResponse::build(self.status());
        match self {
            Self::MethodNotAllowed => {
                response.insert_header((header::ALLOW, "GET, POST"));
            }
            Self::Executor(Refused::MutationOverGet) => {
                response.insert_header((header::ALLOW, "POST"));
            }
            Self::Unauthenticated(_) => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""));
            }
            Self::Unavailable => {
                response.insert_header(retry_after());
            }
            _ => {}
        }
        let mut response = response
            .content_type(response_type.content_type())
            .json(json!({ "errors": [{ "message": self.to_string(), "extensions": { "code": self.code() } }] }));
        response.extensions_mut().insert(OperationInfo {
            name: operation,
            outcome: Outcome::Refused,
        });
        response
    }
}

/// `Retry-After` for an answer given while the database cannot be reached.
pub fn retry_after() -> (header::HeaderName, String) {
    let seconds = crate::db::availability::RETRY_AFTER.as_secs();
    (header::RETRY_AFTER, seconds.to_string())
}

/// A refusal with the media type to write it in: what extractors fail with.
#[derive(Debug, thiserror::Error)]
#[error("{refusal}")]
pub struct Rejection {
    /// Why.
    pub refusal: Refusal,
    /// In what.
    pub response_type: ResponseType,
}

impl ResponseError for Rejection {
    fn status_code(&self) -> StatusCode {
        self.refusal.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.refusal.respond(self.response_type, None)
    }
}
