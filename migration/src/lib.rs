//! Dermis database migrations.
//!
//! Every schema change is a new migration file appended to [`Migrator::migrations`];
//! an applied migration is never edited.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_users;
mod m20261124_000002_content;
mod m20261124_000003_links;
mod m20261124_000004_revisions_settings;
mod m20261125_000005_sessions;
mod m20261125_000006_search;
mod m20261125_000007_list_indexes;
mod m20261125_000008_pg_search_column;
mod m20261202_000009_rendered_html;
mod m20261202_000010_document_counts;
mod m20261203_000011_api_tokens;
mod m20261203_000012_content_events;
mod m20261203_000013_webhooks;
mod m20261203_000014_review_workflow;
mod m20261203_000015_case_insensitive_order;
mod m20261204_000016_media;
mod m20261204_000017_media_uses;

pub use m20261125_000008_pg_search_column::SEARCH_COLUMN;

/// The SQLite full-text (FTS5) tables, `{table}_search` for each table that
/// `m20261125_000006_search` made searchable.
pub const SQLITE_SEARCH_TABLES: [&str; 3] =
    ["topics_search", "conditions_search", "side_effects_search"];

/// The ordered list of Dermis migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_users::Migration),
            Box::new(m20261124_000002_content::Migration),
            Box::new(m20261124_000003_links::Migration),
            Box::new(m20261124_000004_revisions_settings::Migration),
            Box::new(m20261125_000005_sessions::Migration),
            Box::new(m20261125_000006_search::Migration),
            Box::new(m20261125_000007_list_indexes::Migration),
            Box::new(m20261125_000008_pg_search_column::Migration),
            Box::new(m20261202_000009_rendered_html::Migration),
            Box::new(m20261202_000010_document_counts::Migration),
            Box::new(m20261203_000011_api_tokens::Migration),
            Box::new(m20261203_000012_content_events::Migration),
            Box::new(m20261203_000013_webhooks::Migration),
            Box::new(m20261203_000014_review_workflow::Migration),
            Box::new(m20261203_000015_case_insensitive_order::Migration),
            Box::new(m20261204_000016_media::Migration),
            Box::new(m20261204_000017_media_uses::Migration),
        ]
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_search_tables_are_those_the_migration_creates() {
        let created: Vec<String> = super::m20261125_000006_search::TABLES
            .iter()
            .map(|(table, _)| format!("{table}_search"))
            .collect();
        assert_eq!(created, super::SQLITE_SEARCH_TABLES);
    }
}
