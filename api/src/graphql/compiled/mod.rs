//! The compiled read path: anonymous topic pages and topic lists answered by one SQL
//! statement.
//!
//! A frontend sends the same few query texts over and over. For a text whose only
//! operation asks for `topic(slug: ...)` or a page of `topics` with fields this path knows
//! (the topic's own fields, its conditions and side effects with their link attributes and
//! the linked documents' own fields, a list's `totalCount`, edges, cursors and `pageInfo`,
//! `__typename`, aliases, fragments on the same type), the answer's `data` is built inside
//! the database, in the query's order, from one statement with the arguments bound (see
//! [`sql`]). No GraphQL execution, no DataLoader, no per-field future: the general executor
//! (async-graphql) spent about 700 µs of CPU on a topic page and some 3 ms on a list of 20
//! topics with their links, most of it outside the database (BENCHMARKS.md).
//!
//! Correctness rests on three rules:
//! - a text is compiled only after the general executor has answered it once without a
//!   request error (so the document is valid, within every limit, and its complexity,
//!   which no variable changes here, is admitted);
//! - [`plan::compile`] says "no" to anything it does not know, and a request whose
//!   arguments the plan cannot use as they are (a variable missing, null or not a string,
//!   a slug longer than any slug, a page size out of range, a malformed cursor, too long a
//!   search) goes to the general executor, which gives the proper error (a list's page
//!   size must be written in the query: the complexity admitted depends on it);
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
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use serde_json::{Map, Value};

use crate::content::document::{SortField, SortValue};
use crate::content::pagination::{Cursor, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, encode_json};
use crate::content::query::search_query;
use crate::content::validate::MAX_SLUG;
use crate::metrics::Metrics;
use inline::{InlineReader, Param, WriteGuard, Writes};
use plan::{ListArgs, Plan, Root, Text};
use sql::{CURSOR_MARK, Dialect, GENERAL_MARK_JSON, ListShape, Parameter, SearchShape, Statement};

/// Query texts longer than this are not compiled (the parsed-document cache keeps no
/// longer ones either).
use super::limits::MAX_TEXT_BYTES;

/// How many query texts' verdicts are kept. A frontend sends a handful; when a node has
/// seen more, it forgets them all and learns again (verdicts are cheap to relearn, and
/// reads then never wait for each other on an LRU's order).
const TEXTS_KEPT: usize = 128;

/// How many statements of one compiled query are kept besides its plain one (lists change
/// their statement with the presence of `after` and `search`).
const STATEMENTS_KEPT: usize = 16;

/// A compiled query: its plan and the statements that answer it on this node's database:
/// one written when it was learnt, for lists without `after` and `search` (a topic page's
/// only one), and others written on first use for each other shape of its lists' arguments.
#[derive(Debug)]
pub struct Compiled {
    plan: Plan,
    dialect: Dialect,
    plain: Arc<Statement>,
    shaped: RwLock<HashMap<Vec<ListShape>, Arc<Statement>>>,
}

impl Compiled {
    /// The statement for the roots' `values`.
    fn statement(&self, values: &[Values]) -> Arc<Statement> {
        if values
            .iter()
            .all(|values| values.shape() == ListShape::default())
        {
            return self.plain.clone();
        }
        let shapes: Vec<ListShape> = values.iter().map(Values::shape).collect();
        if let Some(found) = self
            .shaped
            .read()
            .ok()
            .and_then(|statements| statements.get(&shapes).cloned())
        {
            return found;
        }
        let statement = Arc::new(sql::statement(&self.plan, self.dialect, &shapes));
        if let Ok(mut statements) = self.shaped.write() {
            if statements.len() >= STATEMENTS_KEPT {
                statements.clear();
            }
            statements.insert(shapes, statement.clone());
        }
        statement
    }
}

/// A list's `search` for one request.
enum Search {
    /// Not searched.
    None,
    /// By this full-text query.
    Match(String),
    /// By a text without words: nothing matches.
    Nothing,
}

/// A root field's argument values for one request.
enum Values {
    /// Nothing to bind (`__typename`).
    None,
    /// A topic's slug.
    Slug(String),
    /// A list's arguments: page size, `after` cursor's title and id, search.
    List {
        first: i64,
        after: Option<(String, i64)>,
        search: Search,
    },
}

impl Values {
    /// What these values change in the statement.
    fn shape(&self) -> ListShape {
        match self {
            Values::List { after, search, .. } => ListShape {
                after: after.is_some(),
                search: match search {
                    Search::None => SearchShape::None,
                    Search::Match(_) => SearchShape::Match,
                    Search::Nothing => SearchShape::Nothing,
                },
            },
            _ => ListShape::default(),
        }
    }
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
                plain: Arc::new(sql::statement(&plan, dialect, &[])),
                plan,
                dialect,
                shaped: RwLock::new(HashMap::new()),
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
        let values = compiled
            .plan
            .roots
            .iter()
            .map(|(_, root)| self.values(root, variables))
            .collect::<Option<Vec<Values>>>()?;
        let statement = compiled.statement(&values);
        let parameters = statement
            .parameters
            .iter()
            .map(|parameter| bind(*parameter, &values))
            .collect::<Option<Vec<Param>>>()?;
        let body = match &self.reader {
            Some(reader) if self.writes.none() => {
                let result = reader
                    .query_text(&statement.sql, &parameters, &self.writes)
                    .map_err(|error| error.to_string());
                metrics.record_statement(result.is_err());
                result
            }
            // PostgreSQL; and SQLite while a content write runs (the pool's connections
            // run on threads of their own, so a read waiting on the file blocks no worker).
            _ => {
                let values = parameters.into_iter().map(Param::into_value);
                let statement =
                    sea_orm::Statement::from_sql_and_values(self.backend, &statement.sql, values);
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
        if body.contains(GENERAL_MARK_JSON) {
            // A value only the general executor gives (see `sql::GENERAL_MARK`).
            return None;
        }
        // Before `compact`: a cursor's JSON sits unescaped inside its string.
        let Some(body) = cursors(body) else {
            tracing::warn!(
                "compiled read with unpaired cursor marks; the general executor answers"
            );
            return None;
        };
        let body = match self.backend {
            DbBackend::Postgres => compact::compact(&body),
            _ => body,
        };
        Some(body.into_bytes())
    }

    /// The argument values of `root` for a request with `variables`, or `None` when the
    /// general executor must answer (it refuses them, or they are of a kind the plan does
    /// not take as they are).
    fn values(&self, root: &Root, variables: Option<&Map<String, Value>>) -> Option<Values> {
        match root {
            Root::Typename => Some(Values::None),
            Root::Topic { slug, .. } => {
                // Missing or null, the general executor refuses it.
                let slug = text(slug, variables)??;
                // The general executor refuses a longer slug with BAD_USER_INPUT.
                (slug.chars().count() <= MAX_SLUG).then_some(Values::Slug(slug))
            }
            Root::Topics { args, .. } => self.list_values(args, variables),
        }
    }

    /// A list's argument values, checked as the general executor checks them.
    fn list_values(
        &self,
        args: &ListArgs,
        variables: Option<&Map<String, Value>>,
    ) -> Option<Values> {
        let first = args.first.unwrap_or(i64::from(DEFAULT_PAGE_SIZE));
        if !(0..=i64::from(MAX_PAGE_SIZE)).contains(&first) {
            return None;
        }
        let after = match args.after.as_ref().map(|after| text(after, variables)) {
            None => None,
            Some(after) => match after? {
                None => None,
                Some(raw) => match Cursor::decode(&raw, "after", SortField::Label).ok()? {
                    Cursor {
                        value: SortValue::Text(title),
                        id,
                        ..
                    } => Some((title, i64::from(id))),
                    Cursor { .. } => return None,
                },
            },
        };
        let search = match args.search.as_ref().map(|search| text(search, variables)) {
            None => Search::None,
            Some(search) => match search? {
                None => Search::None,
                Some(words) => match search_query(&words, self.backend).ok()? {
                    Some(query) => Search::Match(query),
                    None => Search::Nothing,
                },
            },
        };
        Some(Values::List {
            first,
            after,
            search,
        })
    }
}

/// The value of a nullable `String` argument (`Some(None)`: not given or null), or `None`
/// when the general executor refuses it (a required variable missing or null, another
/// type).
fn text(text: &Text, variables: Option<&Map<String, Value>>) -> Option<Option<String>> {
    match text {
        Text::Literal(value) => Some(value.clone()),
        Text::Variable {
            name,
            required,
            default,
        } => match variables.and_then(|v| v.get(name)) {
            Some(Value::String(value)) => Some(Some(value.clone())),
            Some(Value::Null) => (!required).then_some(None),
            Some(_) => None,
            None => match default {
                Some(value) => Some(value.clone()),
                None => (!required).then_some(None),
            },
        },
    }
}

/// The value `parameter` binds, from the roots' `values`.
fn bind(parameter: Parameter, values: &[Values]) -> Option<Param> {
    let list = |index: usize| match values.get(index) {
        Some(Values::List {
            first,
            after,
            search,
            ..
        }) => Some((*first, after, search)),
        _ => None,
    };
    Some(match parameter {
        Parameter::Slug(index) => match values.get(index) {
            Some(Values::Slug(slug)) => Param::Text(slug.clone()),
            _ => return None,
        },
        Parameter::Search(index) => match list(index)?.2 {
            Search::Match(query) => Param::Text(query.clone()),
            Search::None | Search::Nothing => return None,
        },
        Parameter::AfterTitle(index) => Param::Text(list(index)?.1.as_ref()?.0.clone()),
        Parameter::AfterId(index) => Param::Int(list(index)?.1.as_ref()?.1),
        Parameter::First(index) => Param::Int(list(index)?.0),
    })
}

/// The answer with each cursor's JSON, written between two [`CURSOR_MARK`]s by the
/// statement, replaced by its opaque form; `None` when the marks do not pair up.
fn cursors(body: String) -> Option<String> {
    if !body.as_bytes().contains(&CURSOR_MARK) {
        return Some(body);
    }
    let parts: Vec<&str> = body.split(char::from(CURSOR_MARK)).collect();
    if parts.len().is_multiple_of(2) {
        return None;
    }
    let mut out = String::with_capacity(body.len());
    for (index, part) in parts.iter().enumerate() {
        if index.is_multiple_of(2) {
            out.push_str(part);
        } else {
            out.push_str(&encode_json(part.as_bytes()));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_marks_are_replaced_by_opaque_cursors() {
        let mark = char::from(CURSOR_MARK);
        let body = format!("{{\"c\":\"{mark}{{\"i\":1}}{mark}\",\"d\":\"{mark}x{mark}\"}}");
        assert_eq!(
            cursors(body),
            Some(format!(
                "{{\"c\":\"{}\",\"d\":\"{}\"}}",
                encode_json(b"{\"i\":1}"),
                encode_json(b"x")
            ))
        );
        assert_eq!(cursors("{}".to_owned()), Some("{}".to_owned()));
        assert_eq!(cursors(format!("{{\"c\":\"{mark}x\"}}")), None);
    }
}
