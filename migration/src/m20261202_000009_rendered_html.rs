//! The rendered HTML of each document's Markdown, stored beside it: `topics.body_html`,
//! `conditions.description_html`, `side_effects.description_html`.
//!
//! Rendering and sanitising Markdown was about 5% of every uncached topic page, and the
//! compiled read path (`api/src/graphql/compiled`) builds an answer inside the database,
//! where no Markdown renderer runs. Writes store the HTML with the text; rows written
//! before this migration (or by `dermis import`) are null until the server fills them in at
//! start (`api::content::rendered`), which it does before it serves.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each document table and its HTML column.
const COLUMNS: [(&str, &str); 3] = [
    ("topics", "body_html"),
    ("conditions", "description_html"),
    ("side_effects", "description_html"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(ColumnDef::new(Alias::new(column)).text().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
