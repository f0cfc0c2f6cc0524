//! The caller, as an actix extractor (realworld-axum-sqlx's `MaybeAuthUser`): anonymous
//! without `Authorization`, a user with a valid bearer token, and a `401` for anything else.

use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use super::AppState;
use super::negotiate::{ResponseType, negotiate};
use super::refusal::{Refusal, Rejection};
use crate::auth::Viewer;
use crate::errors::ApiError;

/// Who sent the request.
#[derive(Debug, Clone, Copy)]
pub struct MaybeViewer(pub Viewer);

/// The bearer token of `Authorization`, when it has the `Bearer` scheme and a token.
fn bearer(value: &header::HeaderValue) -> Option<&str> {
    value
        .to_str()
        .ok()
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

impl FromRequest for MaybeViewer {
    type Error = Rejection;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Rejection>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(value) = req.headers().get(header::AUTHORIZATION) else {
            return Box::pin(async { Ok(Self(Viewer::Anonymous)) });
        };
        let response_type = negotiate(req).unwrap_or(ResponseType::Json);
        let reject = move |refusal| Rejection {
            refusal,
            response_type,
        };
        let token = bearer(value).map(str::to_owned);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let Some(state) = state else {
                return Err(reject(Refusal::Internal));
            };
            let Some(token) = token else {
                return Err(reject(Refusal::Unauthenticated(
                    "send `Authorization: Bearer <access token>`".into(),
                )));
            };
            match state.auth.authenticate(&state.db, &token).await {
                Ok(viewer) => Ok(Self(viewer)),
                Err(ApiError::Unauthenticated(message)) => {
                    Err(reject(Refusal::Unauthenticated(message)))
                }
                Err(ApiError::Unavailable(error)) => {
                    tracing::warn!(%error, "cannot check credentials: database unavailable");
                    Err(reject(Refusal::Unavailable))
                }
                Err(error) => {
                    tracing::error!(%error, "authentication failed");
                    Err(reject(Refusal::Internal))
                }
            }
        })
    }
}
