//! Users: editors and admins who sign in to the CMS.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(pk_auto(Users::Id))
                    // Stored lower-cased, so the unique index is case-insensitive.
                    .col(string_len_uniq(Users::Email, 320))
                    .col(string_len(Users::DisplayName, 200))
                    .col(text(Users::PasswordHash))
                    .col(string_len(Users::Role, 16))
                    .col(boolean(Users::Active).default(true))
                    .col(integer(Users::TokenVersion).default(0))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Users::LastLoginAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}

/// Identifiers of the `users` table.
#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    Email,
    DisplayName,
    PasswordHash,
    Role,
    Active,
    TokenVersion,
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
}
