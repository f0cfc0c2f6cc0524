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

pub use m20261125_000008_pg_search_column::SEARCH_COLUMN;

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
        ]
    }
}
