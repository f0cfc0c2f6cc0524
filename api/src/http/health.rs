//! Liveness and readiness probes for load balancers and orchestrators.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;

/// `GET /healthz`: the process answers.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// How long `/readyz` waits for the database: a load balancer probing a node whose
/// database is gone learns it at once, not after the pool's acquire timeout.
const READY_WITHIN: Duration = Duration::from_secs(1);

/// `GET /readyz`: the database answers too, within [`READY_WITHIN`].
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let failure = match tokio::time::timeout(READY_WITHIN, state.db.ping()).await {
        Ok(Ok(())) => return HttpResponse::Ok().json(json!({ "status": "ready" })),
        Ok(Err(err)) => {
            crate::db::availability::observe(&err);
            err.to_string()
        }
        Err(_) => format!("no answer within {READY_WITHIN:?}"),
    };
    tracing::warn!(error = %failure, "readiness check: database unavailable");
    HttpResponse::ServiceUnavailable()
        .insert_header(super::refusal::retry_after())
        .json(json!({ "status": "database unavailable" }))
}
