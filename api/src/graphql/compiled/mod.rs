//! The compiled read path: anonymous topic pages answered by one SQL statement.
//!
//! A frontend sends the same few query texts over and over. For a text whose only
//! operation asks for `topic(slug: ...)` with fields this path knows (the topic's own
//! fields, its conditions and side effects with their link attributes and the linked
//! documents' own fields, `__typename`, aliases, fragments on the same type), the answer's
//! `data` is built inside the database by its JSON functions, in the query's order, from
//! one statement with the slugs bound (see [`sql`]). No GraphQL execution, no DataLoader,
//! no per-field future: the general executor (async-graphql) spent about 700 µs of CPU on
//! such a page, most of it outside the database (BENCHMARKS.md).
//!
//! Correctness rests on three rules:
//! - a text is compiled only after the general executor has answered it once without a
//!   request error (so the document is valid, within every limit, and its complexity,
//!   which no variable changes here, is admitted);
//! - [`plan::compile`] says "no" to anything it does not know, and a request whose
//!   variables the plan cannot use as they are (missing, null, not a string, a slug longer
//!   than any slug) goes to the general executor, which gives the proper error;
//! - only anonymous callers use it (published documents, published links only, exactly
//!   the visibility the general executor applies to them).
//!
//! End-to-end tests compare the two paths' bytes on both databases (`tests/e2e/compiled.rs`).
//! `DERMIS_COMPILED_READS=false` switches the path off.

mod compact;
pub mod inline;
pub mod plan;
pub mod sql;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use async_graphql::parser::types::ExecutableDocument;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::{Map, Value};

use crate::content::validate::MAX_SLUG;
use crate::metrics::Metrics;
use inline::{InlineReader, WriteGuard, Writes};
use plan::{Plan, Root, Slug};
use sql::Dialect;

/// Query texts longer than this are not compiled (the parsed-document cache keeps no
/// longer ones either).
const MAX_TEXT_BYTES: usize = crate::http::documents::MAX_TEXT_BYTES;

/// How many query texts' verdicts are kept. A frontend sends a handful; when a node has
/// seen more, it forgets them all and learns again (verdicts are cheap to relearn, and
/// reads then never wait for each other on an LRU's order).
const TEXTS_KEPT: usize = 128;

/// A compiled query: its plan and the statement that answers it on this node's database.
#[derive(Debug)]
pub struct Compiled {
    plan: Plan,
    sql: String,
}

/// The compiled read path of one node: each query text's verdict (a compiled query, or
/// "the general executor answers it"), learnt from the general executor's answers.
pub struct CompiledReads {
    enabled: bool,
    backend: DbBackend,
    /// SQLite: the file, read on the calling thread.
    reader: Option<InlineReader>,
    /// The node's running content writes.
    writes: Arc<Writes>,
    texts: RwLock<HashMap<String, Option<Arc<Compiled>>>>,
}

impl std::fmt::Debug for CompiledReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledReads")
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl CompiledReads {
    /// The path for a database of `backend` (with the file of a SQLite database, which
    /// compiled reads then read on the calling thread; without it, through the pool);
    /// `enabled: false` keeps every read on the general executor.
    pub fn new(enabled: bool, backend: DbBackend, sqlite_file: Option<PathBuf>) -> Self {
        Self {
            enabled,
            backend,
            reader: sqlite_file
                .filter(|_| backend == DbBackend::Sqlite)
                .map(InlineReader::new),
            writes: Arc::default(),
            texts: RwLock::new(HashMap::new()),
        }
    }

    /// Marks a content write as running until the guard is dropped: meanwhile SQLite
    /// reads leave the HTTP workers.
    pub fn writing(&self) -> WriteGuard {
        self.writes.begin()
    }

    /// The compiled query for `text` (a query text, or `#hash` for a persisted query), once
    /// the general executor has answered it and it compiled.
    pub fn get(&self, text: &str) -> Option<Arc<Compiled>> {
        if !self.enabled {
            return None;
        }
        // A poisoned lock only means a thread panicked while learning; the general
        // executor answers meanwhile.
        self.texts.read().ok()?.get(text).cloned().flatten()
    }

    /// Learns `text` after the general executor answered it (as `operation_name`) without
    /// a request error: compiles it, or remembers that it does not compile.
    pub fn learn(&self, text: &str, document: &ExecutableDocument, operation_name: Option<&str>) {
        if !self.enabled || text.len() > MAX_TEXT_BYTES {
            return;
        }
        if self
            .texts
            .read()
            .is_ok_and(|texts| texts.contains_key(text))
        {
            return;
        }
        let Ok(mut texts) = self.texts.write() else {
            return;
        };
        if texts.len() >= TEXTS_KEPT {
            texts.clear();
        }
        let compiled = plan::compile(document, operation_name).map(|plan| {
            let dialect = match self.backend {
                DbBackend::Postgres => Dialect::Postgres,
                _ => Dialect::Sqlite,
            };
            Arc::new(Compiled {
                sql: sql::statement(&plan, dialect),
                plan,
            })
        });
        texts.insert(text.to_owned(), compiled);
    }

    /// The answer of `compiled`'s body (`{"data":...}`) for these variables, or `None` when the general
    /// executor must answer: another operation name, variables the plan cannot use as
    /// they are, or a database error (logged; the general executor then meets it too and
    /// answers it in its own way).
    pub async fn answer(
        &self,
        compiled: &Compiled,
        db: &DatabaseConnection,
        metrics: &Metrics,
        variables: Option<&Map<String, Value>>,
        operation_name: Option<&str>,
    ) -> Option<Vec<u8>> {
        if compiled.plan.operation_name.as_deref() != operation_name {
            return None;
        }
        let mut slugs: Vec<String> = Vec::new();
        for (_, root) in &compiled.plan.roots {
            let Root::Topic { slug, .. } = root else {
                continue;
            };
            let slug = match slug {
                Slug::Literal(text) => text.clone(),
                Slug::Variable { name, default } => match variables.and_then(|v| v.get(name)) {
                    Some(Value::String(text)) => text.clone(),
                    None => default.clone()?,
                    Some(_) => return None,
                },
            };
            // The general executor refuses a longer slug with BAD_USER_INPUT.
            if slug.chars().count() > MAX_SLUG {
                return None;
            }
            slugs.push(slug);
        }
        let body = match &self.reader {
            Some(reader) if self.writes.none() => {
                let result = reader
                    .query_text(&compiled.sql, &slugs, &self.writes)
                    .map_err(|error| error.to_string());
                metrics.record_statement(result.is_err());
                result
            }
            // PostgreSQL; and SQLite while a content write runs (the pool's connections
            // run on threads of their own, so a read waiting on the file blocks no worker).
            _ => {
                let values = slugs.into_iter().map(sea_orm::Value::from);
                let statement = Statement::from_sql_and_values(self.backend, &compiled.sql, values);
                match db.query_one_raw(statement).await {
                    Ok(Some(row)) => row.try_get::<String>("", "data").map(Some),
                    Ok(None) => Ok(None),
                    Err(error) => Err(error),
                }
                .map_err(|error| error.to_string())
            }
        };
        let body = match body {
            Ok(Some(body)) => body,
            Ok(None) => return None,
            Err(error) => {
                tracing::warn!(%error, "compiled read failed; the general executor answers");
                return None;
            }
        };
        let body = match self.backend {
            DbBackend::Postgres => compact::compact(&body),
            _ => body,
        };
        Some(body.into_bytes())
    }
}
