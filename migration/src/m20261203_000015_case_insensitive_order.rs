//! Lists sort by title or name case-insensitively (`lower(label)`, the read model's
//! `sort_key`): the list indexes of migration 7 on (status, label, id) become expression
//! indexes on (status, lower(label), id), which both databases use for
//! `WHERE status = ? ORDER BY lower(label), id`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each document table and its label column.
const TABLES: [(&str, &str); 3] = [
    ("topics", "title"),
    ("conditions", "name"),
    ("side_effects", "name"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, label) in TABLES {
            db.execute_unprepared(&format!(
                "CREATE INDEX idx_{table}_status_lower_{label}_id ON {table} (status, lower({label}), id)"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "DROP INDEX IF EXISTS idx_{table}_status_{label}_id"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, label) in TABLES {
            db.execute_unprepared(&format!(
                "CREATE INDEX idx_{table}_status_{label}_id ON {table} (status, {label}, id)"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "DROP INDEX IF EXISTS idx_{table}_status_lower_{label}_id"
            ))
            .await?;
        }
        Ok(())
    }
}
