//! Ordered links from a topic to the conditions it treats and the side effects it may cause.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261124_000002_content::Topics;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Creates one link table keyed by (topic, target), with position and note.
fn link_table(name: &str, target_table: &str, target_col: &str) -> TableCreateStatement {
    let table = Alias::new(name);
    let target = Alias::new(target_col);
    Table::create()
        .table(table.clone())
        .if_not_exists()
        .col(integer(Link::TopicId))
        .col(integer(target.clone()))
        .col(integer(Link::Position))
        .col(text_null(Link::Note))
        .primary_key(Index::create().col(Link::TopicId).col(target.clone()))
        .foreign_key(
            ForeignKey::create()
                .name(format!("fk_{name}_topic"))
                .from(table.clone(), Link::TopicId)
                .to(Topics::Table, Topics::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .name(format!("fk_{name}_{target_col}"))
                .from(table, target)
                .to(Alias::new(target_table), Alias::new("id"))
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(link_table("topic_conditions", "conditions", "condition_id"))
            .await?;
        let mut side_effects = link_table("topic_side_effects", "side_effects", "side_effect_id");
        side_effects
            .col(string_len(Link::Frequency, 16))
            .col(string_len(Link::Severity, 16))
            .col(string_len(Link::Duration, 16));
        manager.create_table(side_effects).await?;

        // Forward lookups read a topic's links in order; reverse lookups go by target.
        for (table, target) in [
            ("topic_conditions", "condition_id"),
            ("topic_side_effects", "side_effect_id"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(format!("idx_{table}_topic_position"))
                        .table(Alias::new(table))
                        .col(Link::TopicId)
                        .col(Link::Position)
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name(format!("idx_{table}_{target}"))
                        .table(Alias::new(table))
                        .col(Alias::new(target))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["topic_side_effects", "topic_conditions"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Identifiers of the link tables.
#[derive(DeriveIden)]
enum Link {
    TopicId,
    Position,
    Note,
    Frequency,
    Severity,
    Duration,
}
