//! HTTP endpoints: GraphQL over HTTP, GraphiQL, health, metrics and the admin UI.

pub mod admin;
pub mod cache;
pub mod client;
pub mod cors;
pub mod documents;
pub mod embedded;
pub mod graphiql;
pub mod graphql;
pub mod health;
pub mod invalidation;
pub mod observe;
pub mod order;
pub mod persisted;
pub mod rate_limit;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use sea_orm::DatabaseConnection;

use crate::graphql::AppSchema;
use crate::metrics::Metrics;

/// What every handler can reach.
pub struct AppState {
    /// The database pool.
    pub db: DatabaseConnection,
    /// The GraphQL schema.
    pub schema: AppSchema,
    /// The schema that explains complexity refusals, built on the first one.
    pub complexity_schema: std::sync::OnceLock<AppSchema>,
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
    /// Documents parsed before, by query text.
    pub documents: documents::ParsedDocuments,
    /// Query texts the compiled read path answers, learnt from the general executor.
    pub compiled: crate::graphql::compiled::CompiledReads,
    /// The benchmark's ceiling: a file whose bytes `/bench/ceiling` answers, when set.
    pub bench_ceiling: Option<std::path::PathBuf>,
    /// Those bytes, read on first use.
    pub bench_ceiling_body: std::sync::OnceLock<actix_web::web::Bytes>,
    /// Queries executing at once (default: the database pool size): the rest wait before
    /// any work, holding only their request. More are not faster (they all wait for the
    /// pool) but each holds its rows and answer in memory: 64 concurrent listings of 20
    /// topics took the server from 40 to 86 MB.
    pub queries_in_flight: Arc<tokio::sync::Semaphore>,
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
    .route("/bench/ceiling", web::to(bench_ceiling))
    .route("/graphiql/{file}", web::get().to(graphiql::asset))
    .route("/admin", web::get().to(admin::redirect))
    .route("/admin/{path:.*}", web::get().to(admin::asset));
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render(&state.db, state.db_max_connections))
}

/// The benchmark's ceiling (only with `DERMIS_BENCH_CEILING_FILE`): the same response bytes
/// as a GraphQL answer, through the same middleware, without GraphQL or database work. It
/// reads the request's body as `/graphql` does: left unread, the body made actix-web close
/// the connection after each answer, and every request paid for a new connection (the
/// ceiling then came out below the cached GraphQL answer, at 40-45% of its rate).
async fn bench_ceiling(state: web::Data<AppState>, _body: web::Bytes) -> HttpResponse {
    let Some(path) = &state.bench_ceiling else {
        return HttpResponse::NotFound().finish();
    };
    let body = state.bench_ceiling_body.get_or_init(|| {
        std::fs::read(path)
            .map(actix_web::web::Bytes::from)
            .unwrap_or_default()
    });
    HttpResponse::Ok()
        .content_type("application/graphql-response+json; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(body.clone())
}

/// Whether the request's `If-None-Match` names `etag` (weakly or not) or `*`: the client
/// holds the current body, and `304 Not Modified` will do.
pub fn client_has(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .any(|tag| tag == etag || tag == "*")
        })
}
