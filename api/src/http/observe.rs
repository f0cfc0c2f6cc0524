//! The outermost middleware: gives every request an id (a valid incoming `X-Request-Id`,
//! else a new UUID), echoes it in `X-Request-Id`, resolves the client address, runs the
//! request inside a `tracing` span carrying both, and logs its end with status, duration
//! and GraphQL operation. GraphQL requests are counted in the metrics by operation and
//! outcome; slow ones are logged at `warn`.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use tracing::Instrument;

use super::AppState;
use super::client::ClientAddr;
use crate::metrics::Outcome;

/// The request id header, in both directions.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What a GraphQL response was about, left in the response's extensions by the handler
/// (or the rate limiter) for logs and metrics.
#[derive(Debug, Clone)]
pub struct OperationInfo {
    /// The operation name the client sent, if any.
    pub name: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
}

/// The request's id, in the request's extensions for handlers that want it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// An incoming id is kept when it is short and plain, so it cannot forge log lines.
fn incoming_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(REQUEST_ID)?.to_str().ok()?;
    let plain = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    plain.then(|| value.to_owned())
}

/// The middleware.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = incoming_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let client = state
        .as_ref()
        .map(|state| ClientAddr::resolve(&req, &state.trusted_proxies));
    if let Some(client) = client {
        req.extensions_mut().insert(client);
    }
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.path().to_owned();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        path = %path,
        client = client.map(|c| c.0.to_string()).unwrap_or_default(),
    );
    let result = next.call(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let mut response = match result {
        Ok(response) => response,
        Err(error) => {
            span.in_scope(|| tracing::warn!(error = %error, "request failed"));
            return Err(error);
        }
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let status = response.status().as_u16();
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    let info = response
        .response()
        .extensions()
        .get::<OperationInfo>()
        .cloned();
    let _entered = span.enter();
    match (&info, &state) {
        (Some(info), Some(state)) => {
            let operation = info.name.as_deref().unwrap_or("");
            state
                .metrics
                .record_operation(info.name.as_deref(), info.outcome, elapsed);
            if elapsed >= state.slow_operation {
                tracing::warn!(
                    status,
                    duration_ms,
                    operation,
                    threshold_ms = state.slow_operation.as_millis(),
                    "slow GraphQL operation"
                );
            } else {
                tracing::info!(status, duration_ms, operation, "graphql");
            }
        }
        _ if ["/healthz", "/readyz", "/metrics"].contains(&path.as_str()) => {
            tracing::debug!(status, duration_ms, "probe");
        }
        _ => tracing::info!(status, duration_ms, "request"),
    }
    Ok(response)
}
