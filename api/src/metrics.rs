//! Process-wide counters, exposed at `/metrics` in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters shared by the HTTP layer and the database connection.
#[derive(Debug, Default)]
pub struct Metrics {
    sql_statements: AtomicU64,
    sql_errors: AtomicU64,
    graphql_requests: AtomicU64,
    graphql_request_errors: AtomicU64,
}

impl Metrics {
    /// Counts one SQL statement sent to the database.
    pub fn record_statement(&self, failed: bool) {
        self.sql_statements.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.sql_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts one GraphQL request; `request_error` when it was refused before execution.
    pub fn record_graphql(&self, request_error: bool) {
        self.graphql_requests.fetch_add(1, Ordering::Relaxed);
        if request_error {
            self.graphql_request_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// SQL statements sent so far.
    pub fn sql_statements(&self) -> u64 {
        self.sql_statements.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, help, value) in [
            (
                "dermis_sql_statements_total",
                "SQL statements sent to the database.",
                &self.sql_statements,
            ),
            (
                "dermis_sql_errors_total",
                "SQL statements that failed.",
                &self.sql_errors,
            ),
            (
                "dermis_graphql_requests_total",
                "GraphQL requests received.",
                &self.graphql_requests,
            ),
            (
                "dermis_graphql_request_errors_total",
                "GraphQL requests refused before execution (syntax, validation).",
                &self.graphql_request_errors,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
        out
    }
}
