//! Webhook endpoints, their deliveries (one per content event and endpoint, retried until
//! delivered or given up) and every delivery attempt.

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
                    .table(WebhookEndpoints::Table)
                    .if_not_exists()
                    .col(pk_auto(WebhookEndpoints::Id))
                    .col(text(WebhookEndpoints::Url))
                    .col(text(WebhookEndpoints::Description))
                    // Comma-separated event types; empty: every event.
                    .col(text(WebhookEndpoints::EventTypes))
                    // `whsec_` + base64; needed to sign, so kept as is (like the JWT secret).
                    .col(string_len(WebhookEndpoints::Secret, 100))
                    // After a rotation the old secret signs too, until this time.
                    .col(string_len_null(WebhookEndpoints::PreviousSecret, 100))
                    .col(timestamp_with_time_zone_null(
                        WebhookEndpoints::PreviousSecretUntil,
                    ))
                    .col(boolean(WebhookEndpoints::Enabled))
                    .col(text_null(WebhookEndpoints::DisabledReason))
                    // Since when every delivery failed; null while it answers.
                    .col(timestamp_with_time_zone_null(
                        WebhookEndpoints::FailingSince,
                    ))
                    .col(integer(WebhookEndpoints::CreatedBy))
                    .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_endpoints_creator")
                            .from(WebhookEndpoints::Table, WebhookEndpoints::CreatedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .if_not_exists()
                    .col(pk_auto(WebhookDeliveries::Id))
                    // `webhook-id`: the same for every attempt, unique per event and endpoint.
                    .col(string_len_uniq(WebhookDeliveries::MessageId, 64))
                    .col(integer(WebhookDeliveries::EndpointId))
                    .col(integer_null(WebhookDeliveries::EventId))
                    .col(string_len(WebhookDeliveries::EventType, 64))
                    // The exact body, so every attempt sends the same bytes.
                    .col(text(WebhookDeliveries::Payload))
                    // `pending`, `delivered` or `failed`.
                    .col(string_len(WebhookDeliveries::Status, 16))
                    .col(integer(WebhookDeliveries::Attempts))
                    .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                    // A node working on it holds it until then.
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::LockedUntil,
                    ))
                    .col(integer_null(WebhookDeliveries::LastStatusCode))
                    .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::DeliveredAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_endpoint")
                            .from(WebhookDeliveries::Table, WebhookDeliveries::EndpointId)
                            .to(WebhookEndpoints::Table, WebhookEndpoints::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_webhook_deliveries_due",
                vec![WebhookDeliveries::Status, WebhookDeliveries::NextAttemptAt],
            ),
            (
                "idx_webhook_deliveries_endpoint",
                vec![WebhookDeliveries::EndpointId, WebhookDeliveries::Id],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(WebhookDeliveries::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(WebhookAttempts::Table)
                    .if_not_exists()
                    .col(pk_auto(WebhookAttempts::Id))
                    .col(integer(WebhookAttempts::DeliveryId))
                    .col(timestamp_with_time_zone(WebhookAttempts::AttemptedAt))
                    // Null when no answer came (refused, timed out, address not allowed).
                    .col(integer_null(WebhookAttempts::StatusCode))
                    .col(integer(WebhookAttempts::DurationMs))
                    // The first KiB of the answer, or why there was none.
                    .col(text(WebhookAttempts::Response))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_attempts_delivery")
                            .from(WebhookAttempts::Table, WebhookAttempts::DeliveryId)
                            .to(WebhookDeliveries::Table, WebhookDeliveries::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_attempts_delivery")
                    .table(WebhookAttempts::Table)
                    .col(WebhookAttempts::DeliveryId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookAttempts::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    Url,
    Description,
    EventTypes,
    Secret,
    PreviousSecret,
    PreviousSecretUntil,
    Enabled,
    DisabledReason,
    FailingSince,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    MessageId,
    EndpointId,
    EventId,
    EventType,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastStatusCode,
    CreatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    AttemptedAt,
    StatusCode,
    DurationMs,
    Response,
}
