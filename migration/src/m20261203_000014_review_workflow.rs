//! The medical review workflow and scheduled publishing.
//!
//! Topics gain what a review leaves behind: the next review's due date, the reviewer's note,
//! and whether the content as it stands is the approved one (`approved`; a content save
//! clears it). Two statuses join `DRAFT`/`PUBLISHED`/`ARCHIVED`: `IN_REVIEW` and
//! `APPROVED`, so `document_counts` gets their rows (the triggers update existing rows only).
//!
//! `schedules` holds publishing and unpublishing planned for a time: one pending row per
//! document and action (a partial unique index, which both databases support), executed
//! once across nodes by the transaction that marks it done.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261124_000001_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The statuses this migration adds.
const NEW_STATUSES: [&str; 2] = ["IN_REVIEW", "APPROVED"];

/// The counted tables (`m20261202_000010_document_counts`).
const COUNTED: [&str; 3] = ["topics", "conditions", "side_effects"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Topics::Table)
                    .add_column(timestamp_with_time_zone_null(Topics::ReviewDueAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Topics::Table)
                    .add_column(text_null(Topics::ReviewNote))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Topics::Table)
                    .add_column(boolean(Topics::Approved).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_topics_review_due_at")
                    .table(Topics::Table)
                    .col(Topics::ReviewDueAt)
                    .to_owned(),
            )
            .await?;
        for table in COUNTED {
            for status in NEW_STATUSES {
                db.execute_unprepared(&format!(
                    "INSERT INTO document_counts (table_name, status, n) \
                     SELECT '{table}', '{status}', COUNT(*) FROM {table} WHERE status = '{status}'"
                ))
                .await?;
            }
        }
        manager
            .create_table(
                Table::create()
                    .table(Schedules::Table)
                    .if_not_exists()
                    .col(pk_auto(Schedules::Id))
                    .col(string_len(Schedules::DocumentType, 32))
                    .col(integer(Schedules::DocumentId))
                    .col(string_len(Schedules::Action, 16))
                    .col(timestamp_with_time_zone(Schedules::RunAt))
                    .col(boolean(Schedules::IncludeLinked).default(false))
                    .col(string_len(Schedules::State, 16))
                    .col(integer_null(Schedules::CreatedBy))
                    .col(timestamp_with_time_zone(Schedules::CreatedAt))
                    .col(timestamp_with_time_zone_null(Schedules::FinishedAt))
                    .col(string_len_null(Schedules::OutcomeCode, 64))
                    .col(text_null(Schedules::Outcome))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_schedules_creator")
                            .from(Schedules::Table, Schedules::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_schedules_due")
                    .table(Schedules::Table)
                    .col(Schedules::State)
                    .col(Schedules::RunAt)
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_schedules_one_pending ON schedules \
             (document_type, document_id, action) WHERE state = 'PENDING'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .drop_table(Table::drop().table(Schedules::Table).if_exists().to_owned())
            .await?;
        db.execute_unprepared(
            "DELETE FROM document_counts WHERE status IN ('IN_REVIEW', 'APPROVED')",
        )
        .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS idx_topics_review_due_at")
            .await?;
        for column in [Topics::ReviewDueAt, Topics::ReviewNote, Topics::Approved] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Topics::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Topics {
    Table,
    ReviewDueAt,
    ReviewNote,
    Approved,
}

#[derive(DeriveIden)]
enum Schedules {
    Table,
    Id,
    DocumentType,
    DocumentId,
    Action,
    RunAt,
    IncludeLinked,
    State,
    CreatedBy,
    CreatedAt,
    FinishedAt,
    OutcomeCode,
    Outcome,
}
