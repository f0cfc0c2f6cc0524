//! Database connection (SQLite in WAL mode with foreign keys and a busy timeout, or
//! PostgreSQL), statement counting, and migrations.

use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::{DatabaseSettings, mask_password};
use crate::metrics::Metrics;

/// The database could not be reached or prepared.
#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    /// Connecting failed.
    #[error("cannot connect to the database at {url}: {source}")]
    Connect {
        /// The URL, password masked.
        url: String,
        /// The driver's reason.
        source: DbErr,
    },
    /// Running the migrations failed.
    #[error("cannot migrate the database: {0}")]
    Migrate(DbErr),
}

/// Opens a pool; every statement it sends is counted in `metrics` when given.
pub async fn connect(
    settings: &DatabaseSettings,
    metrics: Option<Arc<Metrics>>,
) -> Result<DatabaseConnection, DbSetupError> {
    let mut options = ConnectOptions::new(settings.url.clone());
    options
        .max_connections(settings.max_connections)
        .min_connections(1)
        .connect_timeout(settings.connect_timeout)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        });
    let mut db = Database::connect(options)
        .await
        .map_err(|source| DbSetupError::Connect {
            url: mask_password(&settings.url),
            source,
        })?;
    if let Some(metrics) = metrics {
        db.set_metric_callback(move |info| metrics.record_statement(info.failed));
    }
    Ok(db)
}

/// Applies every pending migration. Returns how many migrations had been applied before,
/// so the caller can tell a brand-new database (0) from an existing one.
pub async fn migrate(db: &DatabaseConnection) -> Result<usize, DbSetupError> {
    let applied_before = applied_migrations(db).await?;
    Migrator::up(db, None)
        .await
        .map_err(DbSetupError::Migrate)?;
    Ok(applied_before)
}

/// The number of migrations already applied (0 on an empty database).
pub async fn applied_migrations(db: &DatabaseConnection) -> Result<usize, DbSetupError> {
    match Migrator::get_applied_migrations(db).await {
        Ok(list) => Ok(list.len()),
        // No migrations table yet: an empty database.
        Err(_) if !has_migration_table(db).await? => Ok(0),
        Err(e) => Err(DbSetupError::Migrate(e)),
    }
}

async fn has_migration_table(db: &DatabaseConnection) -> Result<bool, DbSetupError> {
    let manager = migration::SchemaManager::new(db);
    manager
        .has_table("seaql_migrations")
        .await
        .map_err(DbSetupError::Migrate)
}
