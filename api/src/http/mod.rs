//! HTTP endpoints: GraphQL over HTTP, GraphiQL, health, metrics and the admin UI.

pub mod admin;
pub mod cache;
pub mod client;
pub mod cors;
pub mod graphql;
pub mod health;
pub mod invalidation;
pub mod observe;
pub mod persisted;
pub mod rate_limit;

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use sea_orm::DatabaseConnection;

use crate::graphql::AppSchema;
use crate::metrics::Metrics;

/// What every handler can reach.
pub struct AppState {
    /// The database pool.
    pub db: DatabaseConnection,
    /// The GraphQL schema.
    pub schema: AppSchema,
    /// Token verification.
    pub auth: Arc<crate::auth::Auth>,
    /// Process counters.
    pub metrics: Arc<Metrics>,
    /// Whether browsers get GraphiQL at `GET /graphql`.
    pub graphiql: bool,
    /// What a query may cost.
    pub limits: crate::graphql::QueryLimits,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Per-client rate limit, when switched on.
    pub rate_limiter: Option<Arc<rate_limit::RateLimiter>>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: client::TrustedProxies,
    /// GraphQL operations slower than this are logged at `warn`.
    pub slow_operation: std::time::Duration,
    /// The pool's configured size, for `/metrics`.
    pub db_max_connections: u32,
    /// Anonymous published reads, by request.
    pub cache: Arc<cache::ResponseCache>,
    /// `max-age` of cacheable `GET` answers, in seconds.
    pub cache_max_age: u32,
    /// Automatic persisted queries, by hash.
    pub persisted_queries: persisted::PersistedQueries,
}

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/graphql")
            .route(web::post().to(graphql::post))
            .route(web::get().to(graphql::get))
            .default_service(web::to(graphql::method_not_allowed)),
    )
    .route("/healthz", web::get().to(health::live))
    .route("/readyz", web::get().to(health::ready))
    .route("/metrics", web::get().to(metrics))
    .route("/admin", web::get().to(admin::redirect))
    .route("/admin/{path:.*}", web::get().to(admin::asset));
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render(&state.db, state.db_max_connections))
}
