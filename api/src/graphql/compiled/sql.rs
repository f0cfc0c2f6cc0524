//! A [`Plan`] as one SQL statement: it returns one row whose `data` column is the whole
//! answer (`{"data":...}`) as JSON text, put together by `concat()` from literal pieces of
//! JSON and values the database quotes as JSON (SQLite's `json_quote`, PostgreSQL's `to_json`), with each
//! link list aggregated in editorial order (`group_concat` / `string_agg` with `ORDER BY`).
//! Concatenation rather than the databases' JSON object functions: SQLite's `json_object`
//! parses every nested value back into its binary JSON form and out again (6% of a page's
//! time in `perf`), and PostgreSQL's puts spaces between tokens. Only the slugs are bound;
//! every other word of the statement comes from the plan's fixed names (response keys are
//! GraphQL names: letters, digits and `_`).

use sea_orm::DbBackend;

use super::plan::{Fields, LinkKind, Node, Plan, Root, Row};
use crate::content::pagination::LABEL_CURSOR;
use crate::content::query::search_condition;
use crate::content::read_model::{
    CONDITION, CONDITION_LINK, EnumMap, Field, Kind, SIDE_EFFECT, SIDE_EFFECT_LINK, TOPIC,
    public_status, published,
};

/// The SQL dialect of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (3.44 or later: aggregates with `ORDER BY`).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A value a statement binds, by what it is; `usize` is the index of its root field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parameter {
    /// A topic root's slug (text).
    Slug(usize),
    /// A list's full-text query (text, from [`crate::content::query::search_query`]).
    Search(usize),
    /// The title of a list's `after` cursor (text).
    AfterTitle(usize),
    /// The id of a list's `after` cursor (integer).
    AfterId(usize),
    /// A list's page size (integer).
    First(usize),
}

/// What a list's argument values change in its statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ListShape {
    /// An `after` cursor was given.
    pub after: bool,
    /// How the list is searched.
    pub search: SearchShape,
}

/// How a list is searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SearchShape {
    /// Not searched.
    #[default]
    None,
    /// By a full-text query.
    Match,
    /// By a text without words, which finds nothing.
    Nothing,
}

/// A statement and the values it binds, in placeholder order.
#[derive(Debug)]
pub struct Statement {
    /// The SQL text.
    pub sql: String,
    /// What each placeholder binds.
    pub parameters: Vec<Parameter>,
}

/// The statement that answers `plan`, each list root shaped by `shapes` (by root index;
/// other roots' entries are ignored).
pub fn statement(plan: &Plan, dialect: Dialect, shapes: &[ListShape]) -> Statement {
    let mut writer = Writer {
        dialect,
        parameters: Vec::new(),
        list: None,
    };
    let mut answer = Concat::default();
    answer.literal("{\"data\":{");
    for (index, (key, root)) in plan.roots.iter().enumerate() {
        answer.key(index, key);
        match root {
            Root::Typename => answer.literal("\"Query\""),
            Root::Topic { fields, .. } => {
                // A scalar subquery: null when no published topic has the slug.
                let mut topic = Concat::default();
                writer.object(&mut topic, fields);
                let slug = writer.parameter(Parameter::Slug(index));
                answer.sql(format!(
                    "COALESCE((SELECT {} FROM {} t WHERE t.slug = {slug} AND {}), 'null')",
                    topic.finish(),
                    TOPIC.table,
                    published("t"),
                ));
            }
            Root::Topics { fields, .. } => {
                writer.list = Some(List {
                    index,
                    shape: shapes.get(index).copied().unwrap_or_default(),
                });
                writer.object(&mut answer, fields);
                writer.list = None;
            }
        }
    }
    answer.literal("}}");
    Statement {
        sql: format!("SELECT {} AS data", answer.finish()),
        parameters: writer.parameters,
    }
}

/// The byte that opens and closes a cursor's JSON in a statement's answer, which
/// [`super::cursors`] replaces by its opaque (base64) form. The databases escape every
/// control character inside JSON strings, so it cannot come from content.
pub const CURSOR_MARK: u8 = 1;

/// The character a statement puts, as a JSON string of its own (`"\u0002"`), where it met a
/// value only the general executor can give (stored HTML not rendered yet): an answer that
/// holds that string is dropped and the general executor answers. Content that is exactly
/// that character would send its answer there too, which is slower but still right.
pub const GENERAL_MARK: u8 = 2;

/// [`GENERAL_MARK`] as the databases quote it in JSON.
pub const GENERAL_MARK_JSON: &str = "\"\\u0002\"";

/// Arguments of one `concat()` at most (PostgreSQL takes 100; SQLite, built with its
/// default limits, 127 or more); longer ones are nested.
const MAX_CONCAT_ARGUMENTS: usize = 90;

/// The pieces of one text: literal JSON and SQL expressions whose value is JSON text,
/// joined by one `concat()` (one allocation, where a chain of `||` copies the growing
/// text at every step).
#[derive(Default)]
struct Concat {
    pieces: Vec<Piece>,
}

enum Piece {
    Literal(String),
    Sql(String),
}

impl Concat {
    /// Literal JSON text (merged with a literal before it).
    fn literal(&mut self, text: &str) {
        if let Some(Piece::Literal(last)) = self.pieces.last_mut() {
            last.push_str(text);
        } else {
            self.pieces.push(Piece::Literal(text.to_owned()));
        }
    }

    /// An SQL expression whose value is JSON text.
    fn sql(&mut self, expression: String) {
        self.pieces.push(Piece::Sql(expression));
    }

    /// The `index`th key of an object. Keys are GraphQL names (letters, digits, `_`).
    fn key(&mut self, index: usize, key: &str) {
        if index > 0 {
            self.literal(",");
        }
        self.literal("\"");
        self.literal(key);
        self.literal("\":");
    }

    /// The text as one SQL expression.
    fn finish(self) -> String {
        let arguments: Vec<String> = self
            .pieces
            .into_iter()
            .map(|piece| match piece {
                Piece::Literal(text) => format!("'{}'", text.replace('\'', "''")),
                Piece::Sql(expression) => expression,
            })
            .collect();
        join(arguments)
    }
}

/// `concat()` of `arguments`, nested when they are more than one call takes.
fn join(mut arguments: Vec<String>) -> String {
    while arguments.len() > MAX_CONCAT_ARGUMENTS {
        arguments = arguments
            .chunks(MAX_CONCAT_ARGUMENTS)
            .map(|chunk| format!("concat({})", chunk.join(", ")))
            .collect();
    }
    match arguments.as_slice() {
        [single] if single.starts_with('\'') => single.clone(),
        _ => format!("concat({})", arguments.join(", ")),
    }
}

/// The list root being written.
#[derive(Debug, Clone, Copy)]
struct List {
    index: usize,
    shape: ListShape,
}

/// Writes the expressions of one statement, collecting its parameters in text order.
struct Writer {
    dialect: Dialect,
    parameters: Vec<Parameter>,
    /// The list whose connection is being written.
    list: Option<List>,
}

impl Writer {
    /// The placeholder of the next parameter, which binds `parameter`.
    fn parameter(&mut self, parameter: Parameter) -> String {
        self.parameters.push(parameter);
        match self.dialect {
            Dialect::Sqlite => "?".to_owned(),
            Dialect::Postgres => format!("${}", self.parameters.len()),
        }
    }

    /// The list being written; a list's fields only occur inside one (see `plan`).
    fn list(&self) -> List {
        self.list.unwrap_or(List {
            index: 0,
            shape: ListShape::default(),
        })
    }

    /// The rows of the whole list (`t`): published and matching its search.
    fn base(&mut self, list: List) -> String {
        let mut condition = published("t");
        match list.shape.search {
            SearchShape::None => {}
            SearchShape::Nothing => condition.push_str(" AND 1 = 0"),
            SearchShape::Match => {
                let backend = match self.dialect {
                    Dialect::Sqlite => DbBackend::Sqlite,
                    Dialect::Postgres => DbBackend::Postgres,
                };
                let placeholder = self.parameter(Parameter::Search(list.index));
                condition.push_str(" AND ");
                condition.push_str(&search_condition(TOPIC.table, "t", backend, &placeholder));
            }
        }
        condition
    }

    /// The rows after the list's `after` cursor in (title, id) order.
    fn after(&mut self, list: List) -> String {
        let title = self.parameter(Parameter::AfterTitle(list.index));
        let same_title = self.parameter(Parameter::AfterTitle(list.index));
        let id = self.parameter(Parameter::AfterId(list.index));
        let key = TOPIC.sort_key("t");
        format!("({key} > lower({title}) OR ({key} = lower({same_title}) AND t.id > {id}))")
    }

    /// The rows the page starts from: the list's, after the cursor.
    fn seek(&mut self, list: List) -> String {
        let base = self.base(list);
        if list.shape.after {
            let after = self.after(list);
            format!("{base} AND {after}")
        } else {
            base
        }
    }

    /// The page's rows with `columns`, in list order.
    fn page(&mut self, list: List, columns: &str) -> String {
        let seek = self.seek(list);
        let first = self.parameter(Parameter::First(list.index));
        let (table, order) = (TOPIC.table, TOPIC.list_order("t"));
        format!("SELECT {columns} FROM {table} t WHERE {seek} {order} LIMIT {first}")
    }

    /// An edge's cursor, the row being `row`, as a JSON string of the cursor's JSON
    /// between two [`CURSOR_MARK`]s.
    fn cursor(&self, text: &mut Concat, row: &str) {
        let mark = match self.dialect {
            Dialect::Sqlite => format!("char({CURSOR_MARK})"),
            Dialect::Postgres => format!("chr({CURSOR_MARK})"),
        };
        let (before_title, before_id, end) = LABEL_CURSOR;
        text.literal("\"");
        text.sql(mark.clone());
        text.literal(before_title);
        text.sql(self.quoted(&format!("{row}.{}", TOPIC.label)));
        text.literal(before_id);
        text.sql(format!("CAST({row}.id AS TEXT)"));
        text.literal(end);
        text.sql(mark);
        text.literal("\"");
    }

    /// The cursor of the page's first (`last: false`) or last row, or `null`.
    fn page_cursor(&mut self, last: bool) -> String {
        let list = self.list();
        let label = TOPIC.label;
        let page = self.page(list, &format!("t.{label}, t.id"));
        let mut cursor = Concat::default();
        self.cursor(&mut cursor, "p");
        let direction = if last { " DESC" } else { "" };
        format!(
            "COALESCE((SELECT {} FROM ({page}) p ORDER BY {}{direction}, p.id{direction} LIMIT 1), 'null')",
            cursor.finish(),
            TOPIC.sort_key("p")
        )
    }

    /// `true` or `false` as JSON, from an SQL condition.
    fn boolean(condition: &str) -> String {
        format!("CASE WHEN {condition} THEN 'true' ELSE 'false' END")
    }

    /// An object of `fields` (nested objects of the same row flattened into the same
    /// text).
    fn object(&mut self, text: &mut Concat, fields: &Fields) {
        text.literal("{");
        for (index, (key, node)) in fields.iter().enumerate() {
            text.key(index, key);
            self.node(text, node);
        }
        text.literal("}");
    }

    /// A scalar expression quoted as JSON (`null` for SQL null).
    fn quoted(&self, expression: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("json_quote({expression})"),
            Dialect::Postgres => format!("COALESCE(CAST(to_json({expression}) AS TEXT), 'null')"),
        }
    }

    /// A field of the read model as JSON, read from `row`.
    fn field(&self, row: Row, field: &Field) -> String {
        let column = format!("{}.{}", row.alias(), field.column);
        match field.kind {
            Kind::Id => self.quoted(&format!("CAST({column} AS TEXT)")),
            Kind::Text | Kind::OptionalText | Kind::Int => self.quoted(&column),
            Kind::Enum(map) => self.quoted(&Self::named(&column, map)),
            Kind::TextList => match self.dialect {
                // Stored as JSON text; `json()` also checks and minifies it.
                Dialect::Sqlite => format!("json({column})"),
                Dialect::Postgres => format!("CAST({column} AS TEXT)"),
            },
            // Not rendered yet (a row written without it): the general executor renders it.
            // The column is read once (a second read of a long text costs a page's time).
            Kind::Html { .. } => self.quoted(&match self.dialect {
                Dialect::Sqlite => format!("COALESCE({column}, char({GENERAL_MARK}))"),
                Dialect::Postgres => format!("COALESCE({column}, chr({GENERAL_MARK}))"),
            }),
            // The plan never asks for these (see `plan::read_field`); were it to, the general
            // executor would answer.
            Kind::Other => self.quoted(&match self.dialect {
                Dialect::Sqlite => format!("char({GENERAL_MARK})"),
                Dialect::Postgres => format!("chr({GENERAL_MARK})"),
            }),
        }
    }

    /// An enum column as the API spells it: the column itself when every value is stored
    /// that way.
    fn named(column: &str, map: &EnumMap) -> String {
        if map.stored_as_named() {
            return column.to_owned();
        }
        let cases: String = map
            .values
            .iter()
            .map(|(stored, named)| format!(" WHEN '{stored}' THEN '{named}'"))
            .collect();
        format!("CASE {column}{cases} END")
    }

    fn node(&mut self, text: &mut Concat, node: &Node) {
        match node {
            // Type names: letters only.
            Node::Const(name) => text.literal(&format!("\"{name}\"")),
            Node::Field(row, field) => text.sql(self.field(*row, field)),
            Node::Object(fields) => self.object(text, fields),
            Node::Links(kind, fields) => {
                let links = self.links(*kind, fields);
                text.sql(links);
            }
            Node::Cursor => self.cursor(text, "t"),
            Node::TotalCount => {
                let list = self.list();
                text.sql(if list.shape.search == SearchShape::None {
                    // Every published topic: the count the triggers keep (see
                    // `content::query::Total`).
                    format!(
                        "(SELECT CAST(n AS TEXT) FROM document_counts \
                         WHERE table_name = '{}' AND status = '{}')",
                        TOPIC.table,
                        public_status()
                    )
                } else {
                    let base = self.base(list);
                    let table = TOPIC.table;
                    format!("(SELECT CAST(count(*) AS TEXT) FROM {table} t WHERE {base})")
                });
            }
            Node::Edges(fields) => {
                let mut edge = Concat::default();
                self.object(&mut edge, fields);
                let edge = edge.finish();
                let list = self.list();
                text.sql(match self.dialect {
                    // The page's order is the subquery's (see `links`).
                    Dialect::Sqlite => {
                        let page = self.page(list, &format!("{edge} AS j"));
                        format!(
                            "(SELECT concat('[', COALESCE(group_concat(j, ','), ''), ']') FROM ({page}))"
                        )
                    }
                    Dialect::Postgres => {
                        let label = TOPIC.label;
                        let page = self.page(list, &format!("{edge} AS j, t.{label}, t.id"));
                        format!(
                            "(SELECT concat('[', COALESCE(string_agg(p.j, ',' ORDER BY {}, p.id), ''), ']') FROM ({page}) p)",
                            TOPIC.sort_key("p")
                        )
                    }
                });
            }
            Node::PageInfo(fields) => self.object(text, fields),
            Node::HasNextPage => {
                let list = self.list();
                let seek = self.seek(list);
                let first = self.parameter(Parameter::First(list.index));
                let (table, order) = (TOPIC.table, TOPIC.list_order("t"));
                text.sql(Self::boolean(&format!(
                    "EXISTS (SELECT 1 FROM {table} t WHERE {seek} {order} LIMIT 1 OFFSET {first})"
                )));
            }
            Node::HasPreviousPage => {
                let list = self.list();
                if list.shape.after {
                    // Any row of the list at or before the cursor.
                    let base = self.base(list);
                    let after = self.after(list);
                    let table = TOPIC.table;
                    text.sql(Self::boolean(&format!(
                        "EXISTS (SELECT 1 FROM {table} t WHERE {base} AND NOT {after})"
                    )));
                } else {
                    text.literal("false");
                }
            }
            Node::StartCursor => {
                let cursor = self.page_cursor(false);
                text.sql(cursor);
            }
            Node::EndCursor => {
                let cursor = self.page_cursor(true);
                text.sql(cursor);
            }
        }
    }

    /// A topic's published links of one kind, in editorial order; `[]` when none.
    fn links(&mut self, kind: LinkKind, edge: &Fields) -> String {
        let (links, documents, target) = match kind {
            LinkKind::Conditions => (CONDITION_LINK.table, CONDITION.table, "condition_id"),
            LinkKind::SideEffects => (SIDE_EFFECT_LINK.table, SIDE_EFFECT.table, "side_effect_id"),
        };
        let visible = published("n");
        let mut object = Concat::default();
        self.object(&mut object, edge);
        let object = object.finish();
        match self.dialect {
            // An ordered subquery, not `group_concat(... ORDER BY ...)`: SQLite sorts an
            // aggregate's ORDER BY in a temporary b-tree of its own (a page cache opened
            // and closed per list, 6% of a page's time in `perf`), where the subquery reads
            // the links in the order of the (topic_id, position) index. SQLite keeps a
            // FROM-clause subquery's ORDER BY when the outer query uses an aggregate other
            // than count/min/max (sqlite3.c, "omit superfluous ORDER BY", condition 4).
            Dialect::Sqlite => format!(
                "(SELECT concat('[', COALESCE(group_concat(j, ','), ''), ']') \
                 FROM (SELECT {object} AS j FROM {links} l JOIN {documents} n \
                 ON n.id = l.{target} WHERE l.topic_id = t.id AND {visible} \
                 ORDER BY l.position))"
            ),
            // Each link's document by its primary key, in a fenced (`OFFSET 0`) lateral
            // subquery: with a plain join PostgreSQL hashes the whole table of documents
            // (200 rows in the benchmark) for every list of five, as its cost model
            // prices an index lookup as a disk read; the page statement went from 6.7k
            // to 9.1k executions/s (pgbench, one core).
            Dialect::Postgres => format!(
                "(SELECT concat('[', COALESCE(string_agg({object}, ',' ORDER BY l.position), ''), ']') \
                 FROM {links} l CROSS JOIN LATERAL (SELECT {columns} FROM {documents} n \
                 WHERE n.id = l.{target} AND {visible} OFFSET 0) n \
                 WHERE l.topic_id = t.id)",
                columns = document_columns(edge).join(", ")
            ),
        }
    }
}

/// The columns of a link's document (`n.`) that the edge `fields` read, `n.id` first.
fn document_columns(fields: &Fields) -> Vec<String> {
    fn collect(fields: &Fields, into: &mut Vec<String>) {
        for (_, node) in fields {
            match node {
                Node::Field(Row::Document, field) => {
                    let column = format!("n.{}", field.column);
                    if !into.contains(&column) {
                        into.push(column);
                    }
                }
                Node::Field(..) => {}
                Node::Object(fields) => collect(fields, into),
                // A nested list reads documents of its own; the rest are not columns of
                // a link's document.
                Node::Links(..)
                | Node::Const(_)
                | Node::Cursor
                | Node::TotalCount
                | Node::Edges(_)
                | Node::PageInfo(_)
                | Node::HasNextPage
                | Node::HasPreviousPage
                | Node::StartCursor
                | Node::EndCursor => {}
            }
        }
    }
    let mut columns = vec!["n.id".to_owned()];
    collect(fields, &mut columns);
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(query: &str) -> Plan {
        let document = crate::graphql::nesting::parse(query, crate::graphql::nesting::MAX_NESTING)
            .expect("valid syntax");
        super::super::plan::compile(&document, None).expect("compiles")
    }

    #[test]
    fn one_statement_with_the_slugs_bound() {
        let plan = plan(
            "{ a: topic(slug: \"x\") { title conditions { node { name } } } \
             b: topic(slug: \"y\") { id } __typename }",
        );
        let sqlite = statement(&plan, Dialect::Sqlite, &[]).sql;
        assert_eq!(sqlite.matches('?').count(), 2, "{sqlite}");
        assert!(
            !sqlite.contains("\"x\"") && !sqlite.contains("'x'"),
            "{sqlite}"
        );
        assert!(sqlite.starts_with("SELECT concat('{\"data\":{\"a\":', COALESCE((SELECT concat('{\"title\":', json_quote(t.title), ',\"conditions\":', (SELECT concat('['"), "{sqlite}");
        assert!(sqlite.contains("group_concat(j, ',')"), "{sqlite}");
        assert!(sqlite.contains("(SELECT concat('{\"node\":{\"name\":', json_quote(n.name), '}}') AS j FROM topic_conditions l"), "{sqlite}");
        assert!(sqlite.contains("ORDER BY l.position))"), "{sqlite}");
        assert!(
            sqlite.ends_with(", ',\"__typename\":\"Query\"}}') AS data"),
            "{sqlite}"
        );
        let postgres = statement(&plan, Dialect::Postgres, &[]).sql;
        assert!(
            postgres.contains("$1") && postgres.contains("$2"),
            "{postgres}"
        );
        assert!(postgres.contains("string_agg(concat('{\"node\":{\"name\":', COALESCE(CAST(to_json(n.name) AS TEXT), 'null')"), "{postgres}");
        assert!(postgres.contains("',' ORDER BY l.position)"), "{postgres}");
        assert!(
            postgres.contains(
                "FROM topic_conditions l CROSS JOIN LATERAL (SELECT n.id, n.name FROM conditions n \
                 WHERE n.id = l.condition_id AND n.status = 'PUBLISHED' OFFSET 0) n WHERE l.topic_id = t.id"
            ),
            "{postgres}"
        );
        assert!(
            postgres.find("$1") < postgres.find("$2"),
            "parameters in text order"
        );
    }

    #[test]
    fn long_texts_nest_their_concat() {
        let arguments: Vec<String> = (0..200).map(|i| i.to_string()).collect();
        let joined = join(arguments);
        assert_eq!(
            joined.matches("concat(").count(),
            4,
            "three chunks and one around them"
        );
        assert!(joined.starts_with("concat(concat(0, 1,"), "{joined}");
    }
}
