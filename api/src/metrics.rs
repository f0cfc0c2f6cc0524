//! Process metrics, exposed at `/metrics` in the Prometheus/OpenMetrics text format with
//! `prometheus-client` (the Prometheus project's own Rust client).
//!
//! Operation names come from clients, so the label is sanitised (a GraphQL name of at most
//! 64 characters, else `invalid`) and capped: past [`MAX_OPERATION_NAMES`] distinct names,
//! new ones count as `other`, so a client cannot grow the registry without bound.

use std::collections::HashSet;
use std::sync::RwLock;
use std::sync::atomic::{AtomicI64, AtomicU64};
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
    cache_lookups: Family<CacheLabels, Counter<u64, AtomicU64>>,
    anonymous_reads: Family<ExecutorLabels, Counter<u64, AtomicU64>>,
    operation_names: RwLock<HashSet<String>>,
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
        let cache_lookups = Family::default();
        let anonymous_reads = Family::default();
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
        Self {
            registry,
            sql_statements,
            sql_errors,
            requests,
            latency,
            pool_size,
            pool_idle,
            pool_max,
            cache_lookups,
            anonymous_reads,
            operation_names: RwLock::new(HashSet::new()),
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
        let result = if hit { "hit" } else { "miss" };
        self.cache_lookups
            .get_or_create(&CacheLabels { result })
            .inc();
    }

    /// Counts one anonymous query executed by the compiled read path (`compiled`) or by
    /// async-graphql (`general`).
    pub fn record_anonymous_read(&self, compiled: bool) {
        let executor = if compiled { "compiled" } else { "general" };
        self.anonymous_reads
            .get_or_create(&ExecutorLabels { executor })
            .inc();
    }

    /// Records one GraphQL request: its operation name (as sent; `None` for an anonymous
    /// operation), how it ended and how long it took.
    pub fn record_operation(&self, operation: Option<&str>, outcome: Outcome, elapsed: Duration) {
        let operation = self.operation_label(operation);
        self.requests
            .get_or_create(&OperationLabels {
                operation: operation.clone(),
                outcome: outcome.label(),
            })
            .inc();
        self.latency
            .get_or_create(&LatencyLabels { operation })
            .observe(elapsed.as_secs_f64());
    }

    fn operation_label(&self, operation: Option<&str>) -> String {
        let Some(name) = operation else {
            return "anonymous".to_owned();
        };
        if !is_graphql_name(name) {
            return "invalid".to_owned();
        }
        // Every request of a known name only reads (no lock held against other workers);
        // a new name takes the write lock once.
        if self
            .operation_names
            .read()
            .is_ok_and(|seen| seen.contains(name))
        {
            return name.to_owned();
        }
        let Ok(mut seen) = self.operation_names.write() else {
            return "other".to_owned();
        };
        if seen.contains(name) || seen.len() < MAX_OPERATION_NAMES {
            seen.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".to_owned()
        }
    }

    /// The text exposition of every metric, with the pool gauges read from `db` now.
    pub fn render(&self, db: &DatabaseConnection, max_connections: u32) -> String {
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

    #[test]
    fn operation_labels_are_sanitised_and_capped() {
        let metrics = Metrics::default();
        assert_eq!(metrics.operation_label(None), "anonymous");
        assert_eq!(metrics.operation_label(Some("TopicPage")), "TopicPage");
        assert_eq!(metrics.operation_label(Some("a\"b{}")), "invalid");
        assert_eq!(metrics.operation_label(Some(&"x".repeat(65))), "invalid");
        for i in 0..MAX_OPERATION_NAMES {
            metrics.operation_label(Some(&format!("Op{i}")));
        }
        assert_eq!(metrics.operation_label(Some("OneTooMany")), "other");
        assert_eq!(metrics.operation_label(Some("TopicPage")), "TopicPage");
    }
}
