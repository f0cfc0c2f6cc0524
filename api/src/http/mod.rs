//! HTTP endpoints: GraphQL over HTTP, GraphiQL, health, metrics and the admin UI.

pub mod admin;
pub mod client;
pub mod cors;
pub mod embedded;
pub mod graphiql;
pub mod graphql;
pub mod health;
pub mod media;
pub mod negotiate;
pub mod observe;
pub mod rate_limit;
pub mod refusal;
pub mod socket;
pub mod upload;
pub mod viewer;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use sea_orm::DatabaseConnection;

use crate::graphql::executor::Executor;
use crate::metrics::Metrics;

/// What every handler can reach.
pub struct AppState {
    /// The database pool (health, metrics, sign-in checks).
    pub db: DatabaseConnection,
    /// Answers GraphQL requests.
    pub executor: Executor,
    /// Token verification.
    pub auth: Arc<crate::auth::Auth>,
    /// Process counters.
    pub metrics: Arc<Metrics>,
    /// Whether browsers get GraphiQL at `GET /graphql`.
    pub graphiql: bool,
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
    /// `max-age` of cacheable `GET` answers, in seconds.
    pub cache_max_age: u32,
    /// Open WebSocket connections, their limits, and their shutdown signal.
    pub sockets: Arc<socket::Sockets>,
    /// The benchmark's ceiling: a file whose bytes `/bench/ceiling` answers
    /// (`DERMIS_BENCH_CEILING_FILE`; the route exists only then). The benchmark writes it
    /// after the server started, so it is read on first use.
    pub bench_ceiling: Option<std::path::PathBuf>,
    /// Those bytes, read on first use.
    pub bench_ceiling_body: std::sync::OnceLock<actix_web::web::Bytes>,
    /// The media library (`/media`, and uploads' size limit).
    pub media: Arc<crate::media::MediaLibrary>,
}

/// Registers every route; `/bench/ceiling` only when the benchmark asked for it.
pub fn routes(cfg: &mut web::ServiceConfig, bench_ceiling: bool) {
    if bench_ceiling {
        cfg.route("/bench/ceiling", web::to(bench_ceiling_answer));
    }
    cfg.service(
        web::resource("/graphql")
            .route(
                web::get()
                    .guard(actix_web::guard::fn_guard(socket::is_upgrade))
                    .to(socket::upgrade),
            )
            .route(web::post().to(graphql::post))
            .route(web::get().to(graphql::get))
            .default_service(web::to(graphql::method_not_allowed)),
    )
    .route("/healthz", web::get().to(health::live))
    .route("/readyz", web::get().to(health::ready))
    .route("/metrics", web::get().to(metrics))
    .route("/graphiql/{file}", web::get().to(graphiql::asset))
    .route("/media/{file}", web::get().to(media::original))
    .route("/media/{file}", web::head().to(media::original))
    .route("/media/{hash}/{file}", web::get().to(media::variant))
    .route("/media/{hash}/{file}", web::head().to(media::variant))
    .route("/admin", web::get().to(admin::redirect))
    .route("/admin/{path:.*}", web::get().to(admin::asset));
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render(
            &state.db,
            state.db_max_connections,
            state.sockets.open(),
            crate::content::feed::subscribers(),
        ))
}

/// The benchmark's ceiling (only with `DERMIS_BENCH_CEILING_FILE`): the same response bytes
/// as a GraphQL answer, through the same middleware, without GraphQL or database work. It
/// reads the request's body as `/graphql` does: left unread, the body made actix-web close
/// the connection after each answer, and every request paid for a new connection (the
/// ceiling then came out below the cached GraphQL answer, at 40-45% of its rate).
async fn bench_ceiling_answer(state: web::Data<AppState>, _body: web::Bytes) -> HttpResponse {
    let body = state.bench_ceiling_body.get_or_init(|| {
        let read = state.bench_ceiling.as_ref().map(std::fs::read);
        read.and_then(Result::ok)
            .map(web::Bytes::from)
            .unwrap_or_default()
    });
    HttpResponse::Ok()
        .content_type("application/graphql-response+json; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
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
