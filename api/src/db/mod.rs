//! Database connection (SQLite in WAL mode with foreign keys and a busy timeout, or
//! PostgreSQL), statement counting, and migrations.

use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    Select, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::{Backend, DatabaseSettings, mask_password};
use crate::metrics::Metrics;

pub mod availability;

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
        .max_connections(pool_size(settings))
        .min_connections(1)
        .connect_timeout(settings.connect_timeout)
        .acquire_timeout(settings.acquire_timeout)
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
        .map_sqlx_postgres_before_acquire(|conn, meta| {
            Box::pin(async move { ping_if_older_than_a_fault(conn, meta).await })
        })
        .map_sqlx_sqlite_before_acquire(|conn, meta| {
            Box::pin(async move { ping_if_older_than_a_fault(conn, meta).await })
        })
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                .pragma("cache_size", SQLITE_CACHE_SIZE)
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

/// The pool's size: the configured connections, less the one a PostgreSQL node keeps for
/// listening to content changes (`graphql::invalidation`), so that nodes x
/// `max_connections` is all a deployment ever opens and a full pool never takes the
/// listener's place.
fn pool_size(settings: &DatabaseSettings) -> u32 {
    match settings.backend {
        Backend::Postgres => settings.max_connections.saturating_sub(1).max(1),
        Backend::Sqlite => settings.max_connections,
    }
}

/// After a fault (a restart, a terminated backend), pooled connections opened before it
/// may be dead though recently used: each is pinged before its next use and discarded if
/// the ping fails, so requests get a live connection instead of an error.
async fn ping_if_older_than_a_fault<C: sea_orm::sqlx::Connection>(
    conn: &mut C,
    meta: sea_orm::sqlx::pool::PoolConnectionMetadata,
) -> Result<bool, sea_orm::sqlx::Error> {
    if availability::checked_since_fault(meta.age) {
        conn.ping().await?;
    }
    Ok(true)
}

/// A pooled connection is pinged before use only after it sat idle this long (sqlx's
/// default pings at every checkout, and sea-orm checks a connection out for every
/// statement: one extra hand-off to SQLite's worker thread, or one extra round trip to
/// PostgreSQL, per statement). A connection in steady use is known to be alive; one left
/// idle may have been dropped by PostgreSQL, a proxy or a firewall and is checked first.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(30);

/// The row of a select that filters on a unique key (at most one row). Unlike
/// `Select::one`, no `LIMIT ?`: the bundled SQLite (3.51) reads a bound `LIMIT` while
/// planning (`sqlite3ExprIsInteger` marks the parameter), so such a statement is planned
/// again, its text re-parsed, at every execution; that was 29% of the SQLite threads' time
/// on the topic page (perf, see BENCHMARKS.md).
pub async fn unique<E: EntityTrait>(
    select: Select<E>,
    db: &impl ConnectionTrait,
) -> Result<Option<E::Model>, DbErr> {
    Ok(select.all(db).await?.into_iter().next())
}

/// The file of a SQLite database (`None` for PostgreSQL or a database in memory).
pub async fn sqlite_file(db: &DatabaseConnection) -> Result<Option<std::path::PathBuf>, DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(None);
    }
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            DbBackend::Sqlite,
            "SELECT file FROM pragma_database_list WHERE name = 'main'",
        ))
        .await?;
    let file = row
        .map(|row| row.try_get::<String>("", "file"))
        .transpose()?;
    Ok(file
        .filter(|file| !file.is_empty())
        .map(std::path::PathBuf::from))
}

/// Each SQLite connection's page cache, in KiB when negative (SQLite's default: 2,000 KiB).
/// Measured on 100,000 topics: every pooled connection that runs a `totalCount` fills its
/// cache and added ~4.8 MB to the server (10 connections: 118 MB peak); the operating
/// system's page cache holds the same pages anyway, so a small cache costs little.
const SQLITE_CACHE_SIZE: &str = "-512";

/// Applies every pending migration. Returns how many migrations had been applied before,
/// so the caller can tell a brand-new database (0) from an existing one.
pub async fn migrate(db: &DatabaseConnection) -> Result<usize, DbSetupError> {
    // Several nodes (or a node and a `dermis` command) may start at once on one database:
    // one transaction holds a lock for the whole run, so the first migrates and the others
    // wait, then find nothing to do. PostgreSQL: a transaction-scoped advisory lock;
    // SQLite: `BEGIN IMMEDIATE`, which takes the write lock at once (others wait for it
    // within the busy timeout). Each migration runs in a savepoint inside.
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    let txn = db
        .begin_with_options(options)
        .await
        .map_err(DbSetupError::Migrate)?;
    if db.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            .await
            .map_err(DbSetupError::Migrate)?;
    }
    let applied_before = applied_migrations_in(&txn).await?;
    Migrator::up(&txn, None)
        .await
        .map_err(DbSetupError::Migrate)?;
    txn.commit().await.map_err(DbSetupError::Migrate)?;
    Ok(applied_before)
}

/// Brings the query planner's statistics up to date. SQLite keeps none until `ANALYZE`
/// runs, and without them it guesses that `status = ?` matches ten rows: it then walks the
/// whole status index of 100,000 topics for a search that matches one (11 ms instead of
/// 0.3 ms). A database without statistics gets a full `ANALYZE`; otherwise
/// `PRAGMA optimize=0x10002` re-analyzes only tables whose size changed a lot, which is
/// cheap enough to run at every start and every hour; `full` (after a bulk import) also
/// merges the full-text indexes ([`optimize_search_indexes`]) and checkpoints the
/// write-ahead log. PostgreSQL: `VACUUM (ANALYZE)` when
/// `full` (after a bulk import, before autovacuum would get to it: the visibility map it
/// sets lets a `totalCount` of 100,000 topics read the status index alone, 16 ms instead of
/// an 82 ms sequential scan); autovacuum does the rest.
pub async fn refresh_statistics(db: &DatabaseConnection, full: bool) -> Result<(), DbErr> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            if full {
                optimize_search_indexes(db).await?;
            }
            if full || !sqlite_table_exists(db, "sqlite_stat1").await? {
                db.execute_unprepared("ANALYZE").await?;
            }
            if !full {
                db.execute_unprepared("PRAGMA optimize=0x10002").await?;
            }
            // The bundled SQLite is built with STAT4, whose samples make it re-prepare every
            // statement whose plan could depend on a bound value, at each execution: 20% of
            // the uncached topic page's throughput. The per-index averages (`sqlite_stat1`)
            // are what the plans above need; the samples are dropped and the statistics
            // reloaded (SQLite documents both the edit and `ANALYZE sqlite_schema`).
            if sqlite_table_exists(db, "sqlite_stat4").await? {
                db.execute_unprepared("DELETE FROM sqlite_stat4").await?;
                db.execute_unprepared("ANALYZE sqlite_schema").await?;
            }
            if full {
                // A bulk import leaves its pages in the write-ahead log (1 GB for 100,000
                // topics): move them into the database file and empty the log, last.
                db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                    .await?;
            }
        }
        DbBackend::Postgres if full => {
            // The tables of this schema only: a database-wide VACUUM would also wait on
            // (and hold up) other schemas' migrations.
            db.execute_unprepared(
                "VACUUM (ANALYZE) topics, conditions, side_effects, topic_conditions, \
                 topic_side_effects, revisions",
            )
            .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Merges each SQLite full-text index into one segment (FTS5's `optimize`).
///
/// A bulk import fills an FTS5 index in many flushes, which its automatic merging leaves
/// as several large segments (13 for 100,000 topics), and a prefix query (`search`
/// matches word beginnings) seeks in every segment: 260 page reads per statement, more
/// than a connection's page cache holds, so every search read them again from the file
/// (the search workload on 100,000 topics: 2.0k -> 6.1k req/s at 64 connections once
/// merged; BENCHMARKS.md). Editors' saves later add small segments only, which the
/// automatic merging keeps cheap (3,000 saves after the merge: 11 segments, 32 page reads).
/// It rewrites the whole index (0.7 s for 100,000 topics), so it runs after a bulk import
/// only.
async fn optimize_search_indexes(db: &DatabaseConnection) -> Result<(), DbErr> {
    for table in migration::SQLITE_SEARCH_TABLES {
        db.execute_unprepared(&format!("INSERT INTO {table}({table}) VALUES ('optimize')"))
            .await?;
    }
    Ok(())
}

/// Does SQLite's schema have a table (or statistics table) of this name?
async fn sqlite_table_exists(db: &DatabaseConnection, name: &str) -> Result<bool, DbErr> {
    let found = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT count(*) AS n FROM sqlite_master WHERE name = ?",
            [name.into()],
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?;
    Ok(found.unwrap_or(0) > 0)
}

/// How often a serving node refreshes SQLite's planner statistics.
pub const STATISTICS_INTERVAL: Duration = Duration::from_secs(3600);

/// Begins a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`: it takes the
/// write lock at once (waiting within the busy timeout), because a deferred transaction
/// that read first and then writes after another connection committed fails at once with
/// `SQLITE_BUSY` (its snapshot is stale), which concurrent editors would meet as internal
/// errors. On PostgreSQL it is a plain `BEGIN`.
pub async fn begin_write<C>(db: &C) -> Result<C::Transaction, DbErr>
where
    C: TransactionTrait,
{
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// The PostgreSQL channel on which writers announce content changes (every node listens; see
/// `graphql::invalidation`).
pub const CONTENT_CHANNEL: &str = "dermis_content_changed";

/// This process's name in announcements (a UUID), so a node can skip its own: it emptied its
/// cache when it wrote, and a late echo would only throw away answers cached since.
pub fn node_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| uuid::Uuid::new_v4().to_string())
}

/// The `settings` key of SQLite's content counter: every content write adds one, and a
/// serving node that sees it change empties its cache ([`content_version`]).
pub const CONTENT_VERSION_KEY: &str = "content_version";

/// Begins a transaction that writes content (what anonymous readers see), as
/// [`begin_write`], whose first statement announces it: on PostgreSQL it queues a
/// `NOTIFY` on [`CONTENT_CHANNEL`], which PostgreSQL sends when, and only if, the
/// transaction commits; on SQLite it adds one to the content counter, which commits with
/// the write. A write and its announcement cannot be separated: a committed change is always
/// announced (also when written by a `dermis` command, not a server), and one whose
/// announcement cannot be made fails before writing anything.
pub async fn begin_content_write(
    db: &DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    let txn = begin_write(db).await?;
    match txn.get_database_backend() {
        DbBackend::Postgres => {
            txn.execute_raw(sea_orm::Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CONTENT_CHANNEL.into(), node_id().into()],
            ))
            .await?;
        }
        _ => {
            txn.execute_raw(sea_orm::Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "INSERT INTO settings (key, value, updated_at) VALUES (?, '1', ?) \
                 ON CONFLICT (key) DO UPDATE SET \
                 value = CAST(CAST(settings.value AS INTEGER) + 1 AS TEXT), \
                 updated_at = excluded.updated_at",
                [CONTENT_VERSION_KEY.into(), now().into()],
            ))
            .await?;
        }
    }
    Ok(txn)
}

/// SQLite's content counter (see [`begin_content_write`]); `None` before the first write.
pub async fn content_version(db: &DatabaseConnection) -> Result<Option<String>, DbErr> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT value FROM settings WHERE key = ?",
            [CONTENT_VERSION_KEY.into()],
        ))
        .await?;
    row.map(|row| row.try_get::<String>("", "value"))
        .transpose()
}

/// The PostgreSQL advisory lock key that serialises migrations ("dermis" in ASCII).
const MIGRATION_LOCK: i64 = 0x0000_6465_726d_6973;

/// The number of migrations already applied (0 on an empty database).
pub async fn applied_migrations(db: &DatabaseConnection) -> Result<usize, DbSetupError> {
    applied_migrations_in(db).await
}

/// [`applied_migrations`] on a connection or inside a transaction. The table is looked up
/// first: a failing query would abort a PostgreSQL transaction.
async fn applied_migrations_in<C>(conn: &C) -> Result<usize, DbSetupError>
where
    C: ConnectionTrait,
    for<'c> &'c C: migration::IntoSchemaManagerConnection<'c>,
{
    let manager = migration::SchemaManager::new(conn);
    if !manager
        .has_table("seaql_migrations")
        .await
        .map_err(DbSetupError::Migrate)?
    {
        return Ok(0);
    }
    Migrator::get_applied_migrations(conn)
        .await
        .map(|list| list.len())
        .map_err(DbSetupError::Migrate)
}

/// The current time, truncated to microseconds so that SQLite and PostgreSQL store the same value.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}
