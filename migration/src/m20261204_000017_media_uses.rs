//! Which documents' Markdown names which media items (`![alt](media:12)`), so that an
//! item's users are known (`Media.usedBy`), an item is public exactly while a published
//! document shows it, and a change of an item's alt text re-renders the documents that
//! show it. A topic's hero image is `topics.image_id`, not a row here.
//!
//! `document_type` is the document's kind (`topic`, `condition` or `side_effect`); a row
//! goes with its media item (`ON DELETE CASCADE`) and is replaced by every write of its
//! document's text.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MediaUses::Table)
                    .if_not_exists()
                    .col(integer(MediaUses::MediaId))
                    .col(string_len(MediaUses::DocumentType, 16))
                    .col(integer(MediaUses::DocumentId))
                    .primary_key(
                        Index::create()
                            .col(MediaUses::MediaId)
                            .col(MediaUses::DocumentType)
                            .col(MediaUses::DocumentId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_media_uses_media")
                            .from(MediaUses::Table, MediaUses::MediaId)
                            .to(Media::Table, Media::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_media_uses_document")
                    .table(MediaUses::Table)
                    .col(MediaUses::DocumentType)
                    .col(MediaUses::DocumentId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MediaUses::Table).if_exists().to_owned())
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum MediaUses {
    Table,
    MediaId,
    DocumentType,
    DocumentId,
}

#[derive(DeriveIden)]
enum Media {
    Table,
    Id,
}
