//! Configuration: flags override `DERMIS_*` environment variables (a `.env` file is read when
//! present), which override defaults. Everything is validated before anything starts.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use clap::{Args, ValueEnum};

pub mod settings;

use settings::{AuthSettings, MAX_NESTING, MIN_SECRET_BYTES, QueryLimits, ThrottleSettings};

/// The embedded default: a SQLite file in the working directory, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://dermis.db?mode=rwc";

/// Invalid configuration; `serve` prints it as one line and exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The database URL names no backend Dermis supports.
    #[error(
        "invalid DERMIS_DATABASE_URL {url:?}: expected sqlite://PATH or postgres://USER@HOST/DB"
    )]
    UnsupportedDatabase {
        /// The URL, with any password masked.
        url: String,
    },
    /// The signing secret is too short to be safe.
    #[error("DERMIS_JWT_SECRET must be at least {min} bytes long (got {got})")]
    WeakSecret {
        /// Required length.
        min: usize,
        /// Given length.
        got: usize,
    },
    /// A duration or limit is zero.
    #[error("{name} must be greater than zero")]
    Zero {
        /// The setting.
        name: &'static str,
    },
    /// A limit is above the most it may be.
    #[error("{name} must be at most {max} (got {got})")]
    TooLarge {
        /// The setting.
        name: &'static str,
        /// Its largest value.
        max: usize,
        /// Given value.
        got: usize,
    },
    /// A list setting has an entry that does not parse.
    #[error("invalid {name} entry {value:?}: {expected}")]
    InvalidEntry {
        /// The setting.
        name: &'static str,
        /// The entry.
        value: String,
        /// What is expected instead.
        expected: &'static str,
    },
    /// The bind address is not `HOST:PORT`.
    #[error("invalid DERMIS_BIND {value:?}: {reason} (expected HOST:PORT, e.g. 127.0.0.1:8080)")]
    InvalidBind {
        /// What was given.
        value: String,
        /// Why it does not parse.
        reason: String,
    },
}

/// Which database engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded, a single file.
    Sqlite,
    /// The production and scale-out backend.
    Postgres,
}

/// Where media files are and how their addresses are spelt: shared by `serve` and the
/// commands that write documents or media (`seed`, `import`, `export`).
#[derive(Debug, Clone, Args)]
pub struct MediaArgs {
    /// Where media files are kept: `s3://bucket/prefix` (S3-compatible storage; credentials,
    /// region and endpoint from the usual `AWS_*` variables), `file:///path` or a folder;
    /// default: a `dermis-media` folder beside the SQLite file (or in the working directory).
    /// Several nodes share it.
    #[arg(long, env = "DERMIS_MEDIA_URL")]
    pub media_url: Option<String>,
    /// Prefix of media addresses in the API (`Media.url`), such as a CDN in front of this
    /// server's `/media`; default: paths on this server.
    #[arg(long, env = "DERMIS_MEDIA_PUBLIC_URL", default_value = "")]
    pub media_public_url: String,
}

impl MediaArgs {
    /// `DERMIS_MEDIA_URL`, checked to parse; `None` when unset.
    pub fn url(&self) -> Result<Option<String>, ConfigError> {
        let url = self
            .media_url
            .as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty());
        if let Some(url) = url
            && settings::MediaLocation::parse(Some(url), None).is_none()
        {
            return Err(ConfigError::InvalidEntry {
                name: "DERMIS_MEDIA_URL",
                value: url.to_owned(),
                expected: "s3://BUCKET/PREFIX, file:///PATH or a folder",
            });
        }
        Ok(url.map(str::to_owned))
    }

    /// The prefix of media addresses, without a trailing slash.
    pub fn public_base(&self) -> String {
        self.media_public_url
            .trim()
            .trim_end_matches('/')
            .to_owned()
    }
}

/// Database options shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://dermis.db?mode=rwc` (default) or `postgres://user@host/db`.
    #[arg(long, env = "DERMIS_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Largest number of pooled database connections (default: 10 on PostgreSQL; on SQLite
    /// twice the cores, at least 4: one writer at a time, and each connection keeps its
    /// own page cache and thread, so more only cost memory).
    /// On PostgreSQL this counts every connection a node opens: its pool and the one it
    /// listens for content changes on.
    #[arg(long, env = "DERMIS_DB_MAX_CONNECTIONS", global = true)]
    pub db_max_connections: Option<u32>,
    /// How long a request waits for a pooled connection before it is refused with
    /// `DATABASE_UNAVAILABLE`, in milliseconds.
    #[arg(
        long,
        env = "DERMIS_DB_ACQUIRE_TIMEOUT_MS",
        global = true,
        default_value_t = 3000
    )]
    pub db_acquire_timeout_ms: u64,
}

/// Validated database settings.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// The connection URL.
    pub url: String,
    /// The engine.
    pub backend: Backend,
    /// True when no URL was given and the embedded default is used; only then may `serve`
    /// load the sample content by itself.
    pub embedded_default: bool,
    /// Connections a node opens (on PostgreSQL, its pool and its listener).
    pub max_connections: u32,
    /// How long to wait for a new connection to open.
    pub connect_timeout: Duration,
    /// How long a statement waits for a pooled connection.
    pub acquire_timeout: Duration,
}

/// The pool size when none is configured. Measured on SQLite with 100,000 topics: 4
/// connections instead of 10 cost 10-14% of uncached topic-page throughput on two cores
/// and kept the server under 58 MB (instead of 75-86 MB) through 64 concurrent listings.
fn default_pool_size(backend: Backend) -> u32 {
    match backend {
        Backend::Postgres => 10,
        Backend::Sqlite => {
            let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
            u32::try_from(2 * cores).unwrap_or(u32::MAX).max(4)
        }
    }
}

impl DatabaseArgs {
    /// Validates the URL and picks the backend.
    pub fn settings(&self) -> Result<DatabaseSettings, ConfigError> {
        let (url, embedded_default) = match self.database_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => (url.to_owned(), false),
            _ => (DEFAULT_DATABASE_URL.to_owned(), true),
        };
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if (url.starts_with("postgres://") || url.starts_with("postgresql://"))
            && url::Url::parse(&url).is_ok_and(|u| u.has_host())
        {
            Backend::Postgres
        } else {
            return Err(ConfigError::UnsupportedDatabase {
                url: mask_password(&url),
            });
        };
        Ok(DatabaseSettings {
            url,
            backend,
            embedded_default,
            max_connections: self
                .db_max_connections
                .unwrap_or_else(|| default_pool_size(backend))
                .max(1),
            connect_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms.max(1)),
        })
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Human,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Options of `dermis serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Address to listen on, `HOST:PORT` (port 0 picks a free one).
    #[arg(long, env = "DERMIS_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Log format.
    #[arg(long, env = "DERMIS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// Serve GraphiQL to browsers at `GET /graphql`.
    #[arg(long, env = "DERMIS_GRAPHIQL", default_value_t = true, action = clap::ArgAction::Set)]
    pub graphiql: bool,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "DERMIS_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Number of HTTP worker threads (default: one per core).
    #[arg(long, env = "DERMIS_WORKERS")]
    pub workers: Option<usize>,
    /// Queries that execute at once; the others wait, holding only their request
    /// (default: the database pool size).
    #[arg(long, env = "DERMIS_MAX_CONCURRENT_QUERIES")]
    pub max_concurrent_queries: Option<usize>,
    /// Secret for signing access tokens (at least 32 bytes); default: generated once and
    /// kept in the database, shared by every node.
    #[arg(long, env = "DERMIS_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Lifetime of an access token, in seconds.
    #[arg(long, env = "DERMIS_ACCESS_TOKEN_TTL", default_value_t = 15 * 60)]
    pub access_token_ttl: u64,
    /// Lifetime of a refresh token, in seconds.
    #[arg(long, env = "DERMIS_REFRESH_TOKEN_TTL", default_value_t = 30 * 24 * 3600)]
    pub refresh_token_ttl: u64,
    /// After a refresh token is exchanged, how long presenting it again returns the same
    /// successor (another tab refreshing at the same moment) instead of ending the session
    /// as a stolen token, in seconds (0: never).
    #[arg(long, env = "DERMIS_REFRESH_REUSE_INTERVAL", default_value_t = 30)]
    pub refresh_reuse_interval: u64,
    /// Failed logins allowed per account within the window.
    #[arg(
        long,
        env = "DERMIS_LOGIN_MAX_FAILURES_PER_ACCOUNT",
        default_value_t = 5
    )]
    pub login_max_failures_per_account: u64,
    /// Failed logins allowed per client address within the window.
    #[arg(
        long,
        env = "DERMIS_LOGIN_MAX_FAILURES_PER_CLIENT",
        default_value_t = 20
    )]
    pub login_max_failures_per_client: u64,
    /// The login throttle's window, in seconds.
    #[arg(long, env = "DERMIS_LOGIN_WINDOW", default_value_t = 15 * 60)]
    pub login_window: u64,
    /// Log GraphQL operations slower than this, in milliseconds, at `warn`.
    #[arg(long, env = "DERMIS_SLOW_OPERATION_MS", default_value_t = 500)]
    pub slow_operation_ms: u64,
    /// On SIGTERM/SIGINT, how long in-flight requests may take to finish, in seconds.
    #[arg(long, env = "DERMIS_SHUTDOWN_TIMEOUT", default_value_t = 30)]
    pub shutdown_timeout: u64,
    /// `max-age` of cacheable answers (anonymous `GET` queries), in seconds.
    #[arg(long, env = "DERMIS_CACHE_MAX_AGE", default_value_t = 30)]
    pub cache_max_age: u32,
    /// Memory for the in-process cache of anonymous published reads, in bytes (0: off).
    #[arg(long, env = "DERMIS_RESPONSE_CACHE_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub response_cache_bytes: usize,
    /// The longest a node answers a read from its response cache, in seconds: the last
    /// resort should an announcement of a change be missed.
    #[arg(long, env = "DERMIS_RESPONSE_CACHE_MAX_AGE", default_value_t = 300)]
    pub response_cache_max_age: u64,
    /// While the database cannot be reached, anonymous reads are answered from the response
    /// cache's last answers up to this old, in seconds, marked `Dermis-Stale` (0: never).
    #[arg(long, env = "DERMIS_STALE_WHILE_UNAVAILABLE", default_value_t = 3600)]
    pub stale_while_unavailable: u64,
    /// Automatic persisted queries kept per node.
    #[arg(long, env = "DERMIS_PERSISTED_QUERIES", default_value_t = 1000)]
    pub persisted_queries: usize,
    /// Answer anonymous topic pages with one SQL statement that builds the JSON answer
    /// (the compiled read path); `false` sends every query through the general executor.
    #[arg(long, env = "DERMIS_COMPILED_READS", default_value_t = true, action = clap::ArgAction::Set)]
    pub compiled_reads: bool,
    /// Deliver webhooks to loopback, private and link-local addresses too (refused by
    /// default: an endpoint must not reach the server's own network).
    #[arg(long, env = "DERMIS_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set)]
    pub webhook_allow_private: bool,
    /// The waits between webhook attempts, in seconds, comma-separated (default: 5, 300,
    /// 1800, 7200, 18000, 36000, 36000); after the last, a delivery fails.
    #[arg(long, env = "DERMIS_WEBHOOK_RETRY_SCHEDULE")]
    pub webhook_retry_schedule: Option<String>,
    /// The frontend's preview address for "Open preview" in the admin UI: `{token}` (required),
    /// `{slug}`, `{id}` and `{type}` are filled in.
    #[arg(long, env = "DERMIS_PREVIEW_URL")]
    pub preview_url: Option<String>,
    /// Lifetime of a preview link's token, in seconds.
    #[arg(long, env = "DERMIS_PREVIEW_TTL", default_value_t = 3600)]
    pub preview_ttl: u64,
    /// Days from a medical approval to the next review's due date, unless the reviewer
    /// sets one.
    #[arg(long, env = "DERMIS_REVIEW_INTERVAL_DAYS", default_value_t = 365)]
    pub review_interval_days: u64,
    /// Open WebSocket connections (subscriptions) allowed per client address.
    #[arg(long, env = "DERMIS_WS_MAX_SOCKETS_PER_CLIENT", default_value_t = 20)]
    pub ws_max_sockets_per_client: u64,
    /// Open WebSocket connections allowed per node.
    #[arg(long, env = "DERMIS_WS_MAX_SOCKETS", default_value_t = 10_000)]
    pub ws_max_sockets: u64,
    /// Operations (subscriptions, and queries in flight) allowed per WebSocket connection.
    #[arg(long, env = "DERMIS_WS_MAX_OPERATIONS", default_value_t = 50)]
    pub ws_max_operations: u64,
    /// Seconds a new WebSocket connection may take to send `connection_init`.
    #[arg(long, env = "DERMIS_WS_INIT_TIMEOUT", default_value_t = 10)]
    pub ws_init_timeout: u64,
    /// Seconds between the server's keep-alive pings on a WebSocket connection (a client
    /// silent for three times as long is disconnected).
    #[arg(long, env = "DERMIS_WS_KEEPALIVE", default_value_t = 15)]
    pub ws_keepalive: u64,
    /// Seconds between checks of an idle WebSocket connection's credential (revoked or
    /// expired closes the connection).
    #[arg(long, env = "DERMIS_WS_RECHECK", default_value_t = 5)]
    pub ws_recheck: u64,
    #[command(flatten)]
    pub media: MediaArgs,
    /// Largest media upload, in bytes.
    #[arg(long, env = "DERMIS_MEDIA_MAX_BYTES", default_value_t = 25 * 1024 * 1024)]
    pub media_max_bytes: usize,
    /// Most pixels of an uploaded image (width times height; times frames for an animation).
    #[arg(long, env = "DERMIS_MEDIA_MAX_PIXELS", default_value_t = 50_000_000)]
    pub media_max_pixels: u64,
    /// Benchmark only: serve this file's bytes at `/bench/ceiling`.
    #[arg(long, env = "DERMIS_BENCH_CEILING_FILE", hide = true)]
    pub bench_ceiling_file: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub traffic: TrafficArgs,
}

/// Who may call, how often, and from where (rate limit, proxies, CORS).
#[derive(Debug, Clone, Args)]
pub struct TrafficArgs {
    /// Sustained requests per second allowed per client address (0 switches the limit off).
    #[arg(long, env = "DERMIS_RATE_LIMIT_PER_SECOND", default_value_t = 100)]
    pub rate_limit_per_second: u32,
    /// Requests a client may send at once above the sustained rate.
    #[arg(long, env = "DERMIS_RATE_LIMIT_BURST", default_value_t = 300)]
    pub rate_limit_burst: u32,
    /// Proxies whose `X-Forwarded-For` is believed: addresses or CIDR ranges, comma-separated.
    #[arg(long, env = "DERMIS_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// Origins allowed to call the API from a browser (comma-separated, or `*`); none by default.
    #[arg(long, env = "DERMIS_CORS_ORIGINS", default_value = "")]
    pub cors_origins: String,
}

/// Validated [`TrafficArgs`].
#[derive(Debug, Clone)]
pub struct TrafficSettings {
    /// Requests per second and burst per client, `None` when switched off.
    pub rate_limit: Option<(NonZeroU32, NonZeroU32)>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Origins allowed by CORS.
    pub cors: CorsOrigins,
}

/// The origins CORS allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// Any origin (`*`): fine for a public read API, since credentials are bearer tokens.
    Any,
    /// These origins exactly (`https://example.com`); none by default.
    List(Vec<String>),
}

impl TrafficArgs {
    /// Validates the rate limit, the proxy list and the origins.
    pub fn settings(&self) -> Result<TrafficSettings, ConfigError> {
        let rate_limit = NonZeroU32::new(self.rate_limit_per_second).map(|rate| {
            let burst = NonZeroU32::new(self.rate_limit_burst.max(rate.get())).unwrap_or(rate);
            (rate, burst)
        });
        let trusted_proxies = settings::parse_networks(&self.trusted_proxies).map_err(|value| {
            ConfigError::InvalidEntry {
                name: "DERMIS_TRUSTED_PROXIES",
                value,
                expected: "an IP address or a CIDR range such as 10.0.0.0/8",
            }
        })?;
        Ok(TrafficSettings {
            rate_limit,
            trusted_proxies,
            cors: parse_origins(&self.cors_origins)?,
        })
    }
}

fn parse_origins(list: &str) -> Result<CorsOrigins, ConfigError> {
    let entries: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if entries == ["*"] {
        return Ok(CorsOrigins::Any);
    }
    entries
        .into_iter()
        .map(|entry| {
            let invalid = || ConfigError::InvalidEntry {
                name: "DERMIS_CORS_ORIGINS",
                value: entry.to_owned(),
                expected: "an origin such as https://www.example.com (scheme, host, optional port; no path), or * alone",
            };
            let url = url::Url::parse(entry).map_err(|_| invalid())?;
            let origin = url.origin().ascii_serialization();
            if !matches!(url.scheme(), "http" | "https") || origin != entry.trim_end_matches('/') {
                return Err(invalid());
            }
            Ok(origin)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(CorsOrigins::List)
}

/// Query limits (see `graphql::limits`); the defaults suit the admin UI and typical
/// frontends.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Deepest field nesting a query may have.
    #[arg(long, env = "DERMIS_MAX_QUERY_DEPTH", default_value_t = QueryLimits::default().max_depth)]
    pub max_query_depth: usize,
    /// Deepest nesting of brackets (selection sets, arguments, list and object values,
    /// list types) a query document may have; checked before it is parsed.
    #[arg(long, env = "DERMIS_MAX_NESTING", default_value_t = QueryLimits::default().max_nesting)]
    pub max_nesting: usize,
    /// Largest weighted query complexity (a connection counts its page size times its
    /// selection, other lists 10 times).
    #[arg(long, env = "DERMIS_MAX_QUERY_COMPLEXITY", default_value_t = QueryLimits::default().max_complexity)]
    pub max_query_complexity: usize,
    /// Most aliases in one operation.
    #[arg(long, env = "DERMIS_MAX_ALIASES", default_value_t = QueryLimits::default().max_aliases)]
    pub max_aliases: usize,
    /// Most root fields in one operation.
    #[arg(long, env = "DERMIS_MAX_ROOT_FIELDS", default_value_t = QueryLimits::default().max_root_fields)]
    pub max_root_fields: usize,
    /// Longest query document, in bytes.
    #[arg(long, env = "DERMIS_MAX_DOCUMENT_BYTES", default_value_t = QueryLimits::default().max_document_bytes)]
    pub max_document_bytes: usize,
    /// Largest variables object, in bytes of JSON.
    #[arg(long, env = "DERMIS_MAX_VARIABLES_BYTES", default_value_t = QueryLimits::default().max_variables_bytes)]
    pub max_variables_bytes: usize,
    /// Answer introspection (`__schema`, `__type`); switch off in production if wanted.
    #[arg(long, env = "DERMIS_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,
}

impl LimitArgs {
    /// Validates the limits: each must be at least 1, and the nesting at most
    /// [`MAX_NESTING`].
    pub fn settings(&self) -> Result<QueryLimits, ConfigError> {
        let at_most = |name: &'static str, max: usize, got: usize| {
            if got > max {
                Err(ConfigError::TooLarge { name, max, got })
            } else {
                Ok(got)
            }
        };
        Ok(QueryLimits {
            max_depth: positive("DERMIS_MAX_QUERY_DEPTH", self.max_query_depth)?,
            max_nesting: at_most(
                "DERMIS_MAX_NESTING",
                MAX_NESTING,
                positive("DERMIS_MAX_NESTING", self.max_nesting)?,
            )?,
            max_complexity: positive("DERMIS_MAX_QUERY_COMPLEXITY", self.max_query_complexity)?,
            max_aliases: positive("DERMIS_MAX_ALIASES", self.max_aliases)?,
            max_root_fields: positive("DERMIS_MAX_ROOT_FIELDS", self.max_root_fields)?,
            max_document_bytes: positive("DERMIS_MAX_DOCUMENT_BYTES", self.max_document_bytes)?,
            max_variables_bytes: positive("DERMIS_MAX_VARIABLES_BYTES", self.max_variables_bytes)?,
            introspection: self.introspection,
        })
    }
}

/// Validated settings of `dermis serve`.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    /// The database.
    pub database: DatabaseSettings,
    /// Listen address.
    pub bind: SocketAddr,
    /// Serve GraphiQL.
    pub graphiql: bool,
    /// Body size limit.
    pub max_body_bytes: usize,
    /// HTTP workers.
    pub workers: Option<usize>,
    /// Queries executing at once.
    pub max_concurrent_queries: usize,
    /// Signing secret, when configured.
    pub jwt_secret: Option<String>,
    /// Token lifetimes and the login throttle.
    pub auth: AuthSettings,
    /// What a query may cost.
    pub limits: QueryLimits,
    /// Rate limit, trusted proxies, CORS.
    pub traffic: TrafficSettings,
    /// Operations slower than this are logged at `warn`.
    pub slow_operation: Duration,
    /// How long in-flight requests may take to finish at shutdown.
    pub shutdown_timeout: Duration,
    /// `max-age` of cacheable answers, in seconds.
    pub cache_max_age: u32,
    /// Bytes for the response cache (0: off).
    pub response_cache_bytes: usize,
    /// How long cached answers are answered, fresh and stale.
    pub response_cache_ages: settings::CacheAges,
    /// Persisted queries kept.
    pub persisted_queries: usize,
    /// Whether the compiled read path answers the queries it can.
    pub compiled_reads: bool,
    /// Benchmark ceiling file.
    pub bench_ceiling_file: Option<std::path::PathBuf>,
    /// How webhooks are delivered.
    pub webhooks: settings::WebhookSettings,
    /// GraphQL over WebSocket: limits and timings.
    pub sockets: settings::SocketSettings,
    /// The media library's storage and limits.
    pub media: settings::MediaSettings,
}

impl ServeArgs {
    fn socket_settings(&self) -> Result<settings::SocketSettings, ConfigError> {
        let count = |name, value| positive(name, value).map(|v| v as usize);
        let seconds = |name, value| positive(name, value).map(Duration::from_secs);
        Ok(settings::SocketSettings {
            max_per_client: count(
                "DERMIS_WS_MAX_SOCKETS_PER_CLIENT",
                self.ws_max_sockets_per_client,
            )?,
            max_per_node: count("DERMIS_WS_MAX_SOCKETS", self.ws_max_sockets)?,
            max_operations: count("DERMIS_WS_MAX_OPERATIONS", self.ws_max_operations)?,
            init_timeout: seconds("DERMIS_WS_INIT_TIMEOUT", self.ws_init_timeout)?,
            keepalive: seconds("DERMIS_WS_KEEPALIVE", self.ws_keepalive)?,
            recheck: seconds("DERMIS_WS_RECHECK", self.ws_recheck)?,
        })
    }

    fn media_settings(&self) -> Result<settings::MediaSettings, ConfigError> {
        Ok(settings::MediaSettings {
            url: self.media.url()?,
            max_bytes: positive("DERMIS_MEDIA_MAX_BYTES", self.media_max_bytes)?,
            max_pixels: positive("DERMIS_MEDIA_MAX_PIXELS", self.media_max_pixels)?,
            public_base: self.media.public_base(),
        })
    }

    fn webhook_settings(&self) -> Result<settings::WebhookSettings, ConfigError> {
        let mut settings = settings::WebhookSettings {
            allow_private: self.webhook_allow_private,
            ..Default::default()
        };
        if let Some(schedule) = &self.webhook_retry_schedule {
            settings.retry_schedule = schedule
                .split(',')
                .map(|wait| {
                    wait.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && *s >= 0.0)
                        .map(Duration::from_secs_f64)
                        .ok_or_else(|| ConfigError::InvalidEntry {
                            name: "DERMIS_WEBHOOK_RETRY_SCHEDULE",
                            value: wait.to_owned(),
                            expected: "seconds, e.g. 5,300,1800",
                        })
                })
                .collect::<Result<_, _>>()?;
        }
        Ok(settings)
    }

    /// Validates every option.
    pub fn settings(&self) -> Result<ServeSettings, ConfigError> {
        let bind = parse_bind(&self.bind)?;
        let jwt_secret = self.jwt_secret.clone().filter(|s| !s.is_empty());
        if let Some(secret) = &jwt_secret
            && secret.len() < MIN_SECRET_BYTES
        {
            return Err(ConfigError::WeakSecret {
                min: MIN_SECRET_BYTES,
                got: secret.len(),
            });
        }
        let auth = AuthSettings {
            access_ttl: Duration::from_secs(positive(
                "DERMIS_ACCESS_TOKEN_TTL",
                self.access_token_ttl,
            )?),
            refresh_ttl: Duration::from_secs(positive(
                "DERMIS_REFRESH_TOKEN_TTL",
                self.refresh_token_ttl,
            )?),
            refresh_reuse_interval: Duration::from_secs(self.refresh_reuse_interval),
            preview_ttl: Duration::from_secs(positive("DERMIS_PREVIEW_TTL", self.preview_ttl)?),
            review_interval_days: positive(
                "DERMIS_REVIEW_INTERVAL_DAYS",
                self.review_interval_days.min(36_500),
            )?,
            preview_url: match self.preview_url.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(url) if url.contains("{token}") => Some(url.to_owned()),
                Some(url) => {
                    return Err(ConfigError::InvalidEntry {
                        name: "DERMIS_PREVIEW_URL",
                        value: url.to_owned(),
                        expected: "an address with {token}, e.g. https://site.example/api/preview?slug={slug}&token={token}",
                    });
                }
            },
            throttle: ThrottleSettings {
                per_account: positive(
                    "DERMIS_LOGIN_MAX_FAILURES_PER_ACCOUNT",
                    self.login_max_failures_per_account,
                )?,
                per_client: positive(
                    "DERMIS_LOGIN_MAX_FAILURES_PER_CLIENT",
                    self.login_max_failures_per_client,
                )?,
                window: Duration::from_secs(positive("DERMIS_LOGIN_WINDOW", self.login_window)?),
            },
        };
        let database = self.database.settings()?;
        Ok(ServeSettings {
            bind,
            graphiql: self.graphiql,
            max_body_bytes: self.max_body_bytes.max(1024),
            workers: self.workers.filter(|w| *w > 0),
            max_concurrent_queries: self
                .max_concurrent_queries
                .filter(|n| *n > 0)
                .unwrap_or(database.max_connections as usize),
            database,
            jwt_secret,
            auth,
            limits: self.limits.settings()?,
            traffic: self.traffic.settings()?,
            slow_operation: Duration::from_millis(self.slow_operation_ms),
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout),
            cache_max_age: self.cache_max_age,
            response_cache_bytes: self.response_cache_bytes,
            response_cache_ages: settings::CacheAges {
                max_age: Duration::from_secs(positive(
                    "DERMIS_RESPONSE_CACHE_MAX_AGE",
                    self.response_cache_max_age,
                )?),
                stale_while_unavailable: Duration::from_secs(self.stale_while_unavailable),
            },
            persisted_queries: positive("DERMIS_PERSISTED_QUERIES", self.persisted_queries as u64)?
                as usize,
            compiled_reads: self.compiled_reads,
            bench_ceiling_file: self.bench_ceiling_file.clone(),
            webhooks: self.webhook_settings()?,
            sockets: self.socket_settings()?,
            media: self.media_settings()?,
        })
    }
}

/// `value`, unless it is zero (then the error names the setting).
fn positive<T: Copy + PartialEq + Default>(name: &'static str, value: T) -> Result<T, ConfigError> {
    if value == T::default() {
        Err(ConfigError::Zero { name })
    } else {
        Ok(value)
    }
}

fn parse_bind(value: &str) -> Result<SocketAddr, ConfigError> {
    use std::net::ToSocketAddrs;
    let invalid = |reason: String| ConfigError::InvalidBind {
        value: value.to_owned(),
        reason,
    };
    value
        .to_socket_addrs()
        .map_err(|e| invalid(e.to_string()))?
        .next()
        .ok_or_else(|| invalid("it resolves to no address".to_owned()))
}

/// The URL with any password replaced by `***`, for messages and logs.
pub fn mask_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(url: Option<&str>) -> DatabaseArgs {
        DatabaseArgs {
            database_url: url.map(str::to_owned),
            db_max_connections: Some(5),
            db_acquire_timeout_ms: 3000,
        }
    }

    #[test]
    fn default_is_embedded_sqlite() {
        let s = db(None).settings().expect("default is valid");
        assert!(s.embedded_default);
        assert_eq!(s.backend, Backend::Sqlite);
        assert!(
            !db(Some("sqlite://x.db"))
                .settings()
                .expect("valid")
                .embedded_default
        );
    }

    #[test]
    fn refuses_other_schemes_and_masks_password() {
        let err = db(Some("mysql://u:secret@h/db"))
            .settings()
            .expect_err("mysql");
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(db(Some("postgres://")).settings().is_err());
    }

    #[test]
    fn origins_must_be_bare_origins() {
        assert_eq!(parse_origins("").ok(), Some(CorsOrigins::List(vec![])));
        assert_eq!(parse_origins(" * ").ok(), Some(CorsOrigins::Any));
        assert_eq!(
            parse_origins("https://a.example, http://localhost:3000/").ok(),
            Some(CorsOrigins::List(vec![
                "https://a.example".into(),
                "http://localhost:3000".into()
            ]))
        );
        for bad in [
            "a.example",
            "https://a.example/path",
            "ftp://a.example",
            "*, https://a.example",
        ] {
            assert!(parse_origins(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bind_must_be_host_port() {
        assert!(parse_bind("127.0.0.1:0").is_ok());
        assert!(parse_bind("nonsense").is_err());
        assert!(parse_bind("127.0.0.1:99999").is_err());
    }
}
