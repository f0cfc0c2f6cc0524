//! Revision history of every document, and the key/value settings table.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261124_000001_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Revisions::Table)
                    .if_not_exists()
                    .col(pk_auto(Revisions::Id))
                    .col(string_len(Revisions::EntityType, 32))
                    .col(integer(Revisions::EntityId))
                    .col(integer(Revisions::Version))
                    .col(json(Revisions::Snapshot))
                    .col(integer_null(Revisions::AuthorId))
                    .col(text_null(Revisions::Message))
                    .col(timestamp_with_time_zone(Revisions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_revisions_author")
                            .from(Revisions::Table, Revisions::AuthorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_revisions_entity_version")
                    .table(Revisions::Table)
                    .col(Revisions::EntityType)
                    .col(Revisions::EntityId)
                    .col(Revisions::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .if_not_exists()
                    .col(string_len(Settings::Key, 100).primary_key())
                    .col(text(Settings::Value))
                    .col(timestamp_with_time_zone(Settings::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Settings::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Revisions::Table).to_owned())
            .await
    }
}

/// Identifiers of the `revisions` table.
#[derive(DeriveIden)]
enum Revisions {
    Table,
    Id,
    EntityType,
    EntityId,
    Version,
    Snapshot,
    AuthorId,
    Message,
    CreatedAt,
}

/// Identifiers of the `settings` table.
#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
    UpdatedAt,
}
