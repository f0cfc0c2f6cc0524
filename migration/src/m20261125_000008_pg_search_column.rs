//! PostgreSQL: the search document becomes a stored generated `tsvector` column with its own
//! GIN index, replacing the expression index of `m20261125_000006_search`. With only an
//! expression index, every row the planner reads without that index (a sequential scan of
//! a small table, the recheck of a bitmap heap scan) ran `to_tsvector` over the whole text
//! again: a search of 100 topics took longer than one of 100,000. SQLite keeps its FTS5
//! tables; nothing changes there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::m20261125_000006_search::{TABLES, pg_document};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The name of the generated column (shared with the query builder).
pub const SEARCH_COLUMN: &str = "search_document";

/// Runs the statements `for_table` gives for each searchable table, on PostgreSQL only.
async fn on_postgres(
    manager: &SchemaManager<'_>,
    for_table: impl Fn(&str, &[&str]) -> [String; 2],
) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
    for (table, columns) in TABLES {
        for statement in for_table(table, columns) {
            db.execute_unprepared(&statement).await?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_postgres(manager, |table, columns| {
            [
                format!(
                    "ALTER TABLE {table} ADD COLUMN {SEARCH_COLUMN} tsvector \
                     GENERATED ALWAYS AS ({}) STORED",
                    pg_document(columns)
                ),
                format!(
                    "CREATE INDEX idx_{table}_{SEARCH_COLUMN} ON {table} USING GIN ({SEARCH_COLUMN}); \
                     DROP INDEX IF EXISTS idx_{table}_search"
                ),
            ]
        })
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_postgres(manager, |table, columns| {
            [
                format!(
                    "CREATE INDEX idx_{table}_search ON {table} USING GIN ({})",
                    pg_document(columns)
                ),
                format!("ALTER TABLE {table} DROP COLUMN IF EXISTS {SEARCH_COLUMN}"),
            ]
        })
        .await
    }
}
