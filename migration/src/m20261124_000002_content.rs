//! Content documents: topics, conditions and side effects.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261124_000001_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Columns every content document has (status, versioning, authorship).
fn common_columns(table: &mut TableCreateStatement, name: &str) {
    let name = Alias::new(name);
    table
        .col(string_len(Doc::Status, 16))
        .col(timestamp_with_time_zone_null(Doc::PublishedAt))
        .col(integer(Doc::Version).default(1))
        .col(timestamp_with_time_zone(Doc::CreatedAt))
        .col(timestamp_with_time_zone(Doc::UpdatedAt))
        .col(integer_null(Doc::CreatedBy))
        .col(integer_null(Doc::UpdatedBy))
        .foreign_key(
            ForeignKey::create()
                .name(format!("fk_{}_created_by", name.to_string()))
                .from(name.clone(), Doc::CreatedBy)
                .to(Users::Table, Users::Id)
                .on_delete(ForeignKeyAction::SetNull),
        )
        .foreign_key(
            ForeignKey::create()
                .name(format!("fk_{}_updated_by", name.to_string()))
                .from(name, Doc::UpdatedBy)
                .to(Users::Table, Users::Id)
                .on_delete(ForeignKeyAction::SetNull),
        );
}

/// Indexes for every filter and order the read API offers on a document table.
async fn common_indexes(
    manager: &SchemaManager<'_>,
    table: &str,
    title_column: &str,
) -> Result<(), DbErr> {
    for column in ["status", title_column, "updated_at", "published_at"] {
        manager
            .create_index(
                Index::create()
                    .name(format!("idx_{table}_{column}"))
                    .table(Alias::new(table))
                    .col(Alias::new(column))
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut topics = Table::create();
        topics
            .table(Topics::Table)
            .if_not_exists()
            .col(pk_auto(Topics::Id))
            .col(string_len_uniq(Topics::Slug, 120))
            .col(string_len(Topics::Title, 200))
            .col(text(Topics::Summary))
            .col(text(Topics::Body))
            .col(json(Topics::Features))
            .col(json(Topics::Benefits))
            .col(json(Topics::References))
            .col(timestamp_with_time_zone_null(Topics::ReviewedAt))
            .col(integer_null(Topics::ReviewedBy))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_topics_reviewed_by")
                    .from(Topics::Table, Topics::ReviewedBy)
                    .to(Users::Table, Users::Id)
                    .on_delete(ForeignKeyAction::SetNull),
            );
        common_columns(&mut topics, "topics");
        manager.create_table(topics.to_owned()).await?;
        common_indexes(manager, "topics", "title").await?;

        for table in ["conditions", "side_effects"] {
            let mut doc = Table::create();
            doc.table(Alias::new(table))
                .if_not_exists()
                .col(pk_auto(Named::Id))
                .col(string_len_uniq(Named::Slug, 120))
                .col(string_len(Named::Name, 200))
                .col(text(Named::Description));
            common_columns(&mut doc, table);
            manager.create_table(doc.to_owned()).await?;
            common_indexes(manager, table, "name").await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["side_effects", "conditions", "topics"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Identifiers of the `topics` table.
#[derive(DeriveIden)]
pub enum Topics {
    Table,
    Id,
    Slug,
    Title,
    Summary,
    Body,
    Features,
    Benefits,
    References,
    ReviewedAt,
    ReviewedBy,
}

/// Identifiers shared by `conditions` and `side_effects`.
#[derive(DeriveIden)]
pub enum Named {
    Id,
    Slug,
    Name,
    Description,
}

/// Identifiers every document table has.
#[derive(DeriveIden)]
enum Doc {
    Status,
    PublishedAt,
    Version,
    CreatedAt,
    UpdatedAt,
    CreatedBy,
    UpdatedBy,
}
