//! The media library: images and files, and a topic's hero image.
//!
//! `media` holds one row per uploaded item: what the bytes are (sniffed type, size, pixel
//! dimensions, dominant colour), where they are (`content_hash`, the SHA-256 of the stored
//! bytes, which names the object in the media store and the public address), and what
//! editors say of them (alt text, caption). Rows may share a hash (the same file uploaded
//! twice); the stored object goes with the last of them.
//!
//! `topics.image_id` is a topic's hero image. Deleting an item that a published topic uses
//! is refused by the API; the foreign key clears it from drafts (`ON DELETE SET NULL`).

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
                    .table(Media::Table)
                    .if_not_exists()
                    .col(pk_auto(Media::Id))
                    .col(string_len(Media::ContentHash, 64))
                    .col(string_len(Media::MimeType, 64))
                    .col(string_len(Media::Extension, 8))
                    .col(string_len(Media::Filename, 255))
                    .col(big_integer(Media::ByteSize))
                    .col(integer_null(Media::Width))
                    .col(integer_null(Media::Height))
                    .col(string_len_null(Media::DominantColor, 7))
                    .col(text(Media::Alt).default(""))
                    .col(text(Media::Caption).default(""))
                    .col(integer(Media::Version).default(1))
                    .col(integer_null(Media::CreatedBy))
                    .col(timestamp_with_time_zone(Media::CreatedAt))
                    .col(timestamp_with_time_zone(Media::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_media_creator")
                            .from(Media::Table, Media::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_media_content_hash")
                    .table(Media::Table)
                    .col(Media::ContentHash)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_media_created_at_id")
                    .table(Media::Table)
                    .col(Media::CreatedAt)
                    .col(Media::Id)
                    .to_owned(),
            )
            .await?;
        // One statement both databases take (SQLite cannot add a constraint to a column
        // afterwards, only declare it with the column).
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE topics ADD COLUMN image_id INTEGER REFERENCES media (id) ON DELETE SET NULL",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_topics_image_id")
                    .table(Topics::Table)
                    .col(Topics::ImageId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS idx_topics_image_id")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Topics::Table)
                    .drop_column(Topics::ImageId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Media::Table).if_exists().to_owned())
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Topics {
    Table,
    ImageId,
}

#[derive(DeriveIden)]
enum Media {
    Table,
    Id,
    ContentHash,
    MimeType,
    Extension,
    Filename,
    ByteSize,
    Width,
    Height,
    DominantColor,
    Alt,
    Caption,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}
