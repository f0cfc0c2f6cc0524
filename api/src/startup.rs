//! Builds the application from validated settings: database, migrations, sample content,
//! schema and HTTP server. Separate from `main` so tests and tools start it the same way.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};

use crate::auth::{Auth, setup, tokens};
use crate::config::Backend;
use crate::config::ServeSettings;
use crate::content::rendered;
use crate::content::seed::{self, SeedError};
use crate::db::{self, DbSetupError};
use crate::graphql::build_schema;
use crate::graphql::cache::ResponseCache;
use crate::graphql::compiled::CompiledReads;
use crate::graphql::documents::ParsedDocuments;
use crate::graphql::executor::Executor;
use crate::graphql::invalidation;
use crate::graphql::persisted::PersistedQueries;
use crate::http::rate_limit::RateLimiter;
use crate::http::{self, AppState, cors, observe, rate_limit};
use crate::metrics::Metrics;

/// The server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Database unreachable or not migratable.
    #[error(transparent)]
    Database(#[from] DbSetupError),
    /// The sample content could not be loaded.
    #[error("cannot load the sample content: {0}")]
    Seed(#[from] SeedError),
    /// Authentication could not be prepared.
    #[error("cannot prepare authentication: {0}")]
    Auth(#[from] crate::errors::ApiError),
    /// The stored HTML of documents could not be rendered.
    #[error("cannot render the documents' Markdown: {0}")]
    Render(crate::errors::ApiError),
    /// The SQLite database's file could not be found out.
    #[error("cannot find the SQLite database's file: {0}")]
    SqliteFile(sea_orm::DbErr),
    /// The media store could not be opened.
    #[error("cannot open the media store: {0}")]
    Media(#[from] crate::media::MediaError),
    /// PostgreSQL `LISTEN` for other nodes' writes failed.
    #[error("cannot listen for content changes on the database: {0}")]
    Listen(String),
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A built, not yet running, server.
pub struct Application {
    server: Server,
    local_addr: SocketAddr,
    setup_code: Option<String>,
    db: sea_orm::DatabaseConnection,
    sockets: Arc<crate::http::socket::Sockets>,
}

impl Application {
    /// Connects, migrates, loads the sample content into a new embedded database, and binds.
    pub async fn build(settings: ServeSettings) -> Result<Self, StartupError> {
        let metrics = Arc::new(Metrics::default());
        let db = db::connect(&settings.database, Some(metrics.clone())).await?;
        let applied_before = db::migrate(&db).await?;
        let addresses = crate::media::Addresses {
            public_base: settings.media.public_base.clone(),
        };
        if settings.database.embedded_default && applied_before == 0 {
            let report = seed::load(&db, &addresses, seed::parse(seed::SAMPLE)?).await?;
            tracing::info!(
                documents = report.created,
                "new embedded database: loaded the sample content"
            );
        }
        // Before serving: the compiled read path reads the stored HTML as it is.
        let rendered = rendered::fill(&db, &addresses)
            .await
            .map_err(StartupError::Render)?;
        if rendered > 0 {
            tracing::info!(
                documents = rendered,
                "rendered the Markdown of documents without stored HTML"
            );
        }
        keep_statistics_fresh(&db).await;
        let secret = tokens::load_secret(&db, settings.jwt_secret.as_deref()).await?;
        let auth = Arc::new(Auth::new(&secret, settings.auth.clone()).await?);
        let setup_code = setup::code(&db).await?;
        let sqlite_file = db::sqlite_file(&db)
            .await
            .map_err(StartupError::SqliteFile)?;
        let media = Arc::new(crate::media::MediaLibrary {
            store: crate::media::MediaStore::open(
                &settings.media.location(sqlite_file.as_deref()),
            )?,
            limits: crate::media::Limits {
                max_bytes: settings.media.max_bytes,
                max_pixels: settings.media.max_pixels,
            },
            addresses: addresses.clone(),
        });
        let listener = TcpListener::bind(settings.bind).map_err(|source| StartupError::Bind {
            addr: settings.bind,
            source,
        })?;
        let local_addr = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: settings.bind,
            source,
        })?;
        let traffic = settings.traffic.clone();
        let cache = Arc::new(ResponseCache::new(
            settings.response_cache_bytes,
            settings.response_cache_ages,
        ));
        // The cache, the webhook worker and the live feed hear of every write.
        match settings.database.backend {
            Backend::Postgres => invalidation::listen(settings.database.url.clone(), cache.clone())
                .await
                .map_err(|e| StartupError::Listen(e.to_string()))?,
            Backend::Sqlite => invalidation::watch_sqlite(db.clone(), cache.clone()),
        }
        crate::content::feed::spawn(db.clone());
        crate::scheduler::spawn(db.clone(), cache.clone());
        let webhooks = Arc::new(settings.webhooks.clone());
        crate::webhooks::worker::spawn(db.clone(), settings.webhooks.clone())
            .map_err(|e| StartupError::Listen(format!("cannot start the webhook worker: {e}")))?;
        let has_bench_ceiling = settings.bench_ceiling_file.is_some();
        let executor = Executor {
            cache,
            persisted_queries: PersistedQueries::new(settings.persisted_queries),
            documents: ParsedDocuments::default(),
            compiled: CompiledReads::new(
                settings.compiled_reads,
                db.get_database_backend(),
                sqlite_file,
            ),
            queries_in_flight: tokio::sync::Semaphore::new(settings.max_concurrent_queries),
            schema: build_schema(
                db.clone(),
                auth.clone(),
                webhooks.clone(),
                media.clone(),
                &settings.limits,
            ),
            webhooks,
            media: media.clone(),
            complexity_schema: std::sync::OnceLock::new(),
            limits: settings.limits.clone(),
            auth: auth.clone(),
            db: db.clone(),
            metrics: metrics.clone(),
        };
        let sockets = crate::http::socket::Sockets::new(settings.sockets.clone());
        let state = web::Data::new(AppState {
            sockets: sockets.clone(),
            executor,
            cache_max_age: settings.cache_max_age,
            bench_ceiling: settings.bench_ceiling_file.clone(),
            bench_ceiling_body: std::sync::OnceLock::new(),
            max_body_bytes: settings.max_body_bytes,
            rate_limiter: traffic
                .rate_limit
                .map(|(rate, burst)| Arc::new(RateLimiter::new(rate, burst))),
            trusted_proxies: crate::http::client::TrustedProxies::new(
                traffic.trusted_proxies.clone(),
            ),
            slow_operation: settings.slow_operation,
            db_max_connections: settings.database.max_connections,
            auth,
            db: db.clone(),
            metrics,
            graphiql: settings.graphiql,
            media,
        });
        let max_body = settings.max_body_bytes;
        // Outermost last: every request gets its id and client first, CORS answers
        // preflights, then the rate limiter decides before any handler runs.
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(max_body))
                .configure(|cfg| http::routes(cfg, has_bench_ceiling))
                .wrap(from_fn(rate_limit::limit))
                .wrap(cors::cors(&traffic.cors))
                .wrap(Compress::default())
                .wrap(
                    DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("Referrer-Policy", "no-referrer")),
                )
                .wrap(from_fn(observe::observe))
        })
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        // actix treats SIGINT as a forced stop; Dermis stops gracefully on both.
        .disable_signals();
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        let server = server
            .listen(listener)
            .map_err(|source| StartupError::Bind {
                addr: settings.bind,
                source,
            })?
            .run();
        Ok(Self {
            server,
            local_addr,
            setup_code,
            db,
            sockets,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The one-time code for `createFirstAdmin`, while no user exists.
    pub fn setup_code(&self) -> Option<&str> {
        self.setup_code.as_deref()
    }

    /// Serves until SIGINT/SIGTERM; then stops accepting, lets in-flight requests finish
    /// within the shutdown timeout (a second signal stops at once), and closes the
    /// database pool.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let mut server = std::pin::pin!(self.server);
        let served = tokio::select! {
            served = &mut server => served,
            signal = shutdown_signal() => {
                tracing::info!("{signal} received: no new connections; finishing requests in flight");
                // WebSocket clients are told to go (and reconnect elsewhere) rather than
                // holding the shutdown for its whole timeout.
                self.sockets.shut_down();
                // The server's own future processes the stop, so it keeps being polled.
                let graceful = handle.clone();
                tokio::spawn(async move { graceful.stop(true).await });
                tokio::spawn(async move {
                    let signal = shutdown_signal().await;
                    tracing::warn!("{signal} received again: stopping now");
                    handle.stop(false).await;
                });
                server.await
            }
        };
        tracing::info!("HTTP server stopped; closing the database pool");
        if let Err(error) = self.db.close().await {
            tracing::warn!(%error, "closing the database pool failed");
        }
        tracing::info!("shutdown complete");
        served
    }
}

/// Refreshes the planner statistics now and, on SQLite, every [`db::STATISTICS_INTERVAL`].
/// A failure only costs query plans, so it is logged, never fatal.
async fn keep_statistics_fresh(db: &sea_orm::DatabaseConnection) {
    if let Err(error) = db::refresh_statistics(db, false).await {
        tracing::warn!(%error, "cannot refresh the query planner statistics");
    }
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        let db = db.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(db::STATISTICS_INTERVAL);
            every.tick().await;
            loop {
                every.tick().await;
                if let Err(error) = db::refresh_statistics(&db, false).await {
                    tracing::warn!(%error, "cannot refresh the query planner statistics");
                }
            }
        });
    }
}

/// Waits for SIGTERM or SIGINT (Ctrl-C); names the one that came.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            },
            _ => {
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}
