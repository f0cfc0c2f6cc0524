//! Full-text search indexes for topics (title, summary, body), conditions and side effects
//! (name, description): FTS5 tables kept in sync by triggers on SQLite, GIN expression
//! indexes over `to_tsvector('simple', ...)` on PostgreSQL. On PostgreSQL,
//! `m20261125_000008_pg_search_column` later replaces the expression index with a stored column.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each searchable table and its columns.
pub(crate) const TABLES: [(&str, &[&str]); 3] = [
    ("topics", &["title", "summary", "body"]),
    ("conditions", &["name", "description"]),
    ("side_effects", &["name", "description"]),
];

/// The PostgreSQL document expression of `columns`.
pub(crate) fn pg_document(columns: &[&str]) -> String {
    let joined = columns
        .iter()
        .map(|c| format!("coalesce(\"{c}\", '')"))
        .collect::<Vec<_>>()
        .join(" || ' ' || ");
    format!("to_tsvector('simple', {joined})")
}

fn sqlite_up(table: &str, columns: &[&str]) -> Vec<String> {
    let fts = format!("{table}_search");
    let list = columns.join(", ");
    let new = columns
        .iter()
        .map(|c| format!("new.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let old = columns
        .iter()
        .map(|c| format!("old.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    vec![
        format!(
            "CREATE VIRTUAL TABLE {fts} USING fts5({list}, content='{table}', content_rowid='id', \
             tokenize='unicode61 remove_diacritics 2')"
        ),
        format!(
            "CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN \
             INSERT INTO {fts}(rowid, {list}) VALUES (new.id, {new}); END"
        ),
        format!(
            "CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN \
             INSERT INTO {fts}({fts}, rowid, {list}) VALUES ('delete', old.id, {old}); END"
        ),
        format!(
            "CREATE TRIGGER {fts}_update AFTER UPDATE OF {list} ON {table} BEGIN \
             INSERT INTO {fts}({fts}, rowid, {list}) VALUES ('delete', old.id, {old}); \
             INSERT INTO {fts}(rowid, {list}) VALUES (new.id, {new}); END"
        ),
        format!("INSERT INTO {fts}({fts}) VALUES ('rebuild')"),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, columns) in TABLES {
            let statements = match manager.get_database_backend() {
                sea_orm_migration::sea_orm::DbBackend::Sqlite => sqlite_up(table, columns),
                _ => vec![format!(
                    "CREATE INDEX idx_{table}_search ON {table} USING GIN ({})",
                    pg_document(columns)
                )],
            };
            for statement in statements {
                db.execute_unprepared(&statement).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, _) in TABLES {
            let statements = match manager.get_database_backend() {
                sea_orm_migration::sea_orm::DbBackend::Sqlite => vec![
                    format!("DROP TRIGGER IF EXISTS {table}_search_insert"),
                    format!("DROP TRIGGER IF EXISTS {table}_search_delete"),
                    format!("DROP TRIGGER IF EXISTS {table}_search_update"),
                    format!("DROP TABLE IF EXISTS {table}_search"),
                ],
                _ => vec![format!("DROP INDEX IF EXISTS idx_{table}_search")],
            };
            for statement in statements {
                db.execute_unprepared(&statement).await?;
            }
        }
        Ok(())
    }
}
