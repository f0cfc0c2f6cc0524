//! Process metrics, exposed at `/metrics` in the Prometheus/OpenMetrics text format with
//! `prometheus-client` (the Prometheus project's own Rust client).
//!
//! Operation names come from clients, so the label is sanitised (a GraphQL name of at most
//! 64 characters, else `invalid`) and capped: past [`MAX_OPERATION_NAMES`] distinct names,
//! new ones count as `other`, so a client cannot grow the registry without bound.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::{OnceLock, RwLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sea_orm::{DatabaseConnection, DbBackend};

/// Distinct operation names tracked before new ones are counted as `other`.
pub const MAX_OPERATION_NAMES: usize = 200;

/// How a GraphQL request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Data and no errors.
    Ok,
    /// Data with some field errors (a `BAD_USER_INPUT`, a `CONFLICT`, ...).
    Partial,
    /// Refused before execution: malformed, invalid, over a limit, unauthenticated.
    Refused,
    /// Refused by the rate limiter.
    RateLimited,
    /// An unexpected server-side failure.
    Failed,
}

impl Outcome {
    /// Every outcome, in the order of [`Outcome::index`].
    const COUNT: usize = 5;

    fn index(self) -> usize {
        self as usize
    }

    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Partial => "partial",
            Self::Refused => "refused",
            Self::RateLimited => "rate_limited",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ExecutorLabels {
    executor: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    operation: String,
}

/// The series of one operation label, looked up in the families once and kept: a request
/// of a known name then takes no family lock and allocates nothing.
struct OperationSeries {
    label: String,
    /// Its request counter per outcome, created on the outcome's first request (a series
    /// shows once it counts something).
    outcomes: [OnceLock<Counter<u64, AtomicU64>>; Outcome::COUNT],
    latency: Histogram,
}

/// The operation labels seen so far, by label.
type OperationMap = HashMap<String, OperationSeries>;

/// Every metric of the process.
pub struct Metrics {
    registry: Registry,
    sql_statements: Counter<u64, AtomicU64>,
    sql_errors: Counter<u64, AtomicU64>,
    requests: Family<OperationLabels, Counter<u64, AtomicU64>>,
    latency: Family<LatencyLabels, Histogram>,
    pool_size: Gauge<i64, AtomicI64>,
    pool_idle: Gauge<i64, AtomicI64>,
    pool_max: Gauge<i64, AtomicI64>,
    sockets: Gauge<i64, AtomicI64>,
    live_subscribers: Gauge<i64, AtomicI64>,
    cache_hits: Counter<u64, AtomicU64>,
    cache_misses: Counter<u64, AtomicU64>,
    compiled_reads: Counter<u64, AtomicU64>,
    general_reads: Counter<u64, AtomicU64>,
    operations: RwLock<OperationMap>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let sql_statements = Counter::default();
        let sql_errors = Counter::default();
        let requests = Family::default();
        let latency = Family::<LatencyLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(0.001, 2.0, 15))) as fn() -> Histogram,
        );
        let pool_size = Gauge::default();
        let pool_idle = Gauge::default();
        let pool_max = Gauge::default();
        let sockets = Gauge::default();
        let live_subscribers = Gauge::default();
        let cache_lookups = Family::<CacheLabels, Counter<u64, AtomicU64>>::default();
        let anonymous_reads = Family::<ExecutorLabels, Counter<u64, AtomicU64>>::default();
        registry.register(
            "dermis_anonymous_reads",
            "Anonymous queries executed (not answered from the response cache), by executor: compiled (one SQL statement) or general (async-graphql)",
            anonymous_reads.clone(),
        );
        registry.register(
            "dermis_response_cache_lookups",
            "Lookups of anonymous reads in the response cache, by result (hit, miss)",
            cache_lookups.clone(),
        );
        registry.register(
            "dermis_sql_statements",
            "SQL statements sent to the database",
            sql_statements.clone(),
        );
        registry.register(
            "dermis_sql_errors",
            "SQL statements that failed",
            sql_errors.clone(),
        );
        registry.register(
            "dermis_graphql_requests",
            "GraphQL requests by operation name and outcome (ok, partial, refused, rate_limited, failed)",
            requests.clone(),
        );
        registry.register(
            "dermis_graphql_request_duration_seconds",
            "Time from receiving a GraphQL request to its response, by operation name",
            latency.clone(),
        );
        registry.register(
            "dermis_db_pool_connections",
            "Open database connections in the pool",
            pool_size.clone(),
        );
        registry.register(
            "dermis_db_pool_idle_connections",
            "Idle database connections in the pool",
            pool_idle.clone(),
        );
        registry.register(
            "dermis_db_pool_max_connections",
            "Configured size limit of the database pool",
            pool_max.clone(),
        );
        registry.register(
            "dermis_websocket_connections",
            "Open GraphQL WebSocket connections",
            sockets.clone(),
        );
        registry.register(
            "dermis_live_subscribers",
            "Subscriptions listening to the live feed of content changes",
            live_subscribers.clone(),
        );
        // One statement each: a family's guard lives to the end of its statement, and the
        // next label's creation needs the family's write lock.
        let cache_hits = cache_lookups
            .get_or_create(&CacheLabels { result: "hit" })
            .clone();
        let cache_misses = cache_lookups
            .get_or_create(&CacheLabels { result: "miss" })
            .clone();
        let compiled_reads = anonymous_reads
            .get_or_create(&ExecutorLabels {
                executor: "compiled",
            })
            .clone();
        let general_reads = anonymous_reads
            .get_or_create(&ExecutorLabels {
                executor: "general",
            })
            .clone();
        Self {
            registry,
            sql_statements,
            sql_errors,
            requests,
            latency,
            pool_size,
            pool_idle,
            pool_max,
            sockets,
            live_subscribers,
            cache_hits,
            cache_misses,
            compiled_reads,
            general_reads,
            operations: RwLock::new(HashMap::new()),
        }
    }
}

impl Metrics {
    /// Counts one SQL statement sent to the database.
    pub fn record_statement(&self, failed: bool) {
        self.sql_statements.inc();
        if failed {
            self.sql_errors.inc();
        }
    }

    /// SQL statements sent so far.
    pub fn sql_statements(&self) -> u64 {
        self.sql_statements.get()
    }

    /// Counts one response-cache lookup.
    pub fn record_cache(&self, hit: bool) {
        if hit {
            self.cache_hits.inc();
        } else {
            self.cache_misses.inc();
        }
    }

    /// Counts one anonymous query executed by the compiled read path (`compiled`) or by
    /// async-graphql (`general`).
    pub fn record_anonymous_read(&self, compiled: bool) {
        if compiled {
            self.compiled_reads.inc();
        } else {
            self.general_reads.inc();
        }
    }

    /// Records one GraphQL request: its operation name (as sent; `None` for an anonymous
    /// operation), how it ended and how long it took.
    pub fn record_operation(&self, operation: Option<&str>, outcome: Outcome, elapsed: Duration) {
        self.with_series(operation, |series| {
            series.outcomes[outcome.index()]
                .get_or_init(|| {
                    self.requests
                        .get_or_create(&OperationLabels {
                            operation: series.label.clone(),
                            outcome: outcome.label(),
                        })
                        .clone()
                })
                .inc();
            series.latency.observe(elapsed.as_secs_f64());
        });
    }

    /// Runs `f` on the series of `operation`'s label: `anonymous` without a name,
    /// `invalid` for what is not a short GraphQL name, `other` for a new name past
    /// [`MAX_OPERATION_NAMES`], else the name. Known labels only take the read lock (no
    /// lock held against other workers); a new one takes the write lock once.
    fn with_series<T>(&self, operation: Option<&str>, f: impl Fn(&OperationSeries) -> T) -> T {
        let label = match operation {
            None => "anonymous",
            Some(name) if !is_graphql_name(name) => "invalid",
            Some(name) => name,
        };
        {
            let operations = match self.operations.read() {
                Ok(operations) => operations,
                Err(poisoned) => poisoned.into_inner(),
            };
            if let Some(series) = operations.get(label) {
                return f(series);
            }
        }
        let mut operations = match self.operations.write() {
            Ok(operations) => operations,
            Err(poisoned) => poisoned.into_inner(),
        };
        let fixed = ["anonymous", "invalid", "other"];
        let names = operations
            .keys()
            .filter(|label| !fixed.contains(&label.as_str()))
            .count();
        let label = if operations.contains_key(label)
            || fixed.contains(&label)
            || names < MAX_OPERATION_NAMES
        {
            label
        } else {
            "other"
        };
        let series = operations
            .entry(label.to_owned())
            .or_insert_with(|| OperationSeries {
                label: label.to_owned(),
                outcomes: Default::default(),
                latency: self
                    .latency
                    .get_or_create(&LatencyLabels {
                        operation: label.to_owned(),
                    })
                    .clone(),
            });
        f(series)
    }

    /// The text exposition of every metric, with the pool gauges read from `db` now.
    pub fn render(
        &self,
        db: &DatabaseConnection,
        max_connections: u32,
        sockets: usize,
        live_subscribers: usize,
    ) -> String {
        let (size, idle) = match db.get_database_backend() {
            DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            DbBackend::Sqlite => {
                let pool = db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => (0, 0),
        };
        self.pool_size.set(i64::from(size));
        self.pool_idle.set(i64::try_from(idle).unwrap_or(i64::MAX));
        self.pool_max.set(i64::from(max_connections));
        self.sockets.set(i64::try_from(sockets).unwrap_or(i64::MAX));
        self.live_subscribers
            .set(i64::try_from(live_subscribers).unwrap_or(i64::MAX));
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("cannot encode the metrics");
        }
        out
    }
}

/// A GraphQL name (`/[_A-Za-z][_0-9A-Za-z]*/`) of at most 64 characters.
fn is_graphql_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 64
        && chars
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(metrics: &Metrics, operation: Option<&str>) -> String {
        metrics.with_series(operation, |series| series.label.clone())
    }

    #[test]
    fn operation_labels_are_sanitised_and_capped() {
        let metrics = Metrics::default();
        assert_eq!(label(&metrics, None), "anonymous");
        assert_eq!(label(&metrics, Some("TopicPage")), "TopicPage");
        assert_eq!(label(&metrics, Some("a\"b{}")), "invalid");
        assert_eq!(label(&metrics, Some(&"x".repeat(65))), "invalid");
        for i in 1..MAX_OPERATION_NAMES {
            label(&metrics, Some(&format!("Op{i}")));
        }
        assert_eq!(label(&metrics, Some("OneTooMany")), "other");
        assert_eq!(label(&metrics, Some("TopicPage")), "TopicPage");
        assert_eq!(label(&metrics, Some("Op1")), "Op1");
    }

    #[test]
    fn operations_count_by_outcome_once_per_request() {
        let metrics = Metrics::default();
        let elapsed = Duration::from_millis(3);
        for _ in 0..3 {
            metrics.record_operation(Some("TopicPage"), Outcome::Ok, elapsed);
        }
        metrics.record_operation(Some("TopicPage"), Outcome::Refused, elapsed);
        metrics.record_operation(None, Outcome::Ok, elapsed);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &metrics.registry).unwrap_or_default();
        for line in [
            r#"dermis_graphql_requests_total{operation="TopicPage",outcome="ok"} 3"#,
            r#"dermis_graphql_requests_total{operation="TopicPage",outcome="refused"} 1"#,
            r#"dermis_graphql_requests_total{operation="anonymous",outcome="ok"} 1"#,
            r#"dermis_graphql_request_duration_seconds_count{operation="TopicPage"} 4"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(
            !text.contains(r#"outcome="failed""#),
            "no series before its first request"
        );
    }
}
