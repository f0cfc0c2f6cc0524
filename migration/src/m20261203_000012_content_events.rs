//! The content-events outbox: one row per change of a document's state, written in the
//! transaction of the change, for webhooks, subscriptions and integrators' change feeds.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ContentEvents::Table)
                    .if_not_exists()
                    // Increasing in commit order per writer; the feed's cursor.
                    .col(pk_auto(ContentEvents::Id))
                    // `topic.published`, `condition.updated`, `revision.restored`, ...
                    .col(string_len(ContentEvents::EventType, 64))
                    .col(string_len(ContentEvents::DocumentType, 32))
                    .col(integer(ContentEvents::DocumentId))
                    .col(string_len(ContentEvents::Slug, 200))
                    .col(integer(ContentEvents::Version))
                    .col(string_len_null(ContentEvents::OldStatus, 16))
                    .col(string_len_null(ContentEvents::NewStatus, 16))
                    // The slugs of the published topic pages the change affects (JSON list).
                    .col(json(ContentEvents::AffectedTopics))
                    .col(integer_null(ContentEvents::AuthorId))
                    .col(integer_null(ContentEvents::ApiTokenId))
                    .col(timestamp_with_time_zone(ContentEvents::CreatedAt))
                    // Set once the event was handed to every webhook endpoint that wants it.
                    .col(timestamp_with_time_zone_null(ContentEvents::DispatchedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_content_events_dispatched")
                    .table(ContentEvents::Table)
                    .col(ContentEvents::DispatchedAt)
                    .col(ContentEvents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ContentEvents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ContentEvents {
    Table,
    Id,
    EventType,
    DocumentType,
    DocumentId,
    Slug,
    Version,
    OldStatus,
    NewStatus,
    AffectedTopics,
    AuthorId,
    ApiTokenId,
    CreatedAt,
    DispatchedAt,
}
