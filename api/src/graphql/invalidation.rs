//! Tells every node that content changed, so each empties its response cache.
//!
//! Content writes (and account changes the public sees, such as a reviewer's name) queue
//! their `NOTIFY` inside their own transaction ([`crate::db::begin_content_write`]), so
//! PostgreSQL announces exactly the writes that commit, whoever wrote them (a node or a
//! `dermis` command). The node that wrote empties its own cache at once; every node
//! `LISTEN`s on a connection of its own (counted in `DERMIS_DB_MAX_CONNECTIONS`, outside the
//! pool) and empties its cache on each announcement. While that connection is down, the
//! node may miss announcements: it distrusts what it cached and keeps nothing new
//! ([`ResponseCache::set_listening`]) until it listens again, reconnecting with backoff.
//! SQLite has a single serving node, but `dermis` commands (seed, import) may write while it
//! serves: every content write adds one to a counter in the same transaction, and the node
//! checks it every [`SQLITE_CHECK_EVERY`] ([`watch_sqlite`]).

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;

use super::cache::ResponseCache;

pub use crate::db::CONTENT_CHANNEL as CHANNEL;
use crate::db::{availability, node_id};

/// The first wait before reconnecting the listener; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between two attempts to reconnect the listener.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How often a SQLite node looks at the content counter.
pub const SQLITE_CHECK_EVERY: Duration = Duration::from_millis(500);

/// Content changed: empty the cache here at once. The other nodes hear of it from the write
/// itself, whose transaction queued the announcement ([`crate::db::begin_content_write`]).
pub fn content_changed(cache: &ResponseCache) {
    cache.invalidate();
    wake_readers();
}

/// After this node's own content write: on SQLite, the counter is read first and remembered
/// as seen, then the cache is emptied, so the counter's poll empties it only for other
/// writers (a write committed after the read moves the counter past what was remembered;
/// one committed before it is covered by the emptying that follows).
pub async fn own_content_write(cache: &ResponseCache, db: &sea_orm::DatabaseConnection) {
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite
        && let Ok(Some(now)) = crate::db::content_version(db).await
    {
        advance(&now);
    }
    content_changed(cache);
}

/// The SQLite content counter this node has accounted for.
fn seen() -> &'static std::sync::Mutex<Option<i64>> {
    static SEEN: std::sync::OnceLock<std::sync::Mutex<Option<i64>>> = std::sync::OnceLock::new();
    SEEN.get_or_init(Default::default)
}

/// Records that the counter reads `now`; whether that is past what was accounted for.
fn advance(now: &str) -> bool {
    let Ok(now) = now.parse::<i64>() else {
        return true;
    };
    let Ok(mut seen) = seen().lock() else {
        return true;
    };
    if seen.is_some_and(|seen| now <= seen) {
        return false;
    }
    *seen = Some(now);
    true
}

/// Wakes what reads the outbox: the webhook worker and the live feed.
fn wake_readers() {
    crate::webhooks::worker::wake();
    crate::content::feed::wake();
}

/// A listening connection.
async fn connect(url: &str) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Starts listening for other nodes' writes (PostgreSQL only). Returns once `LISTEN` is in
/// place, so nothing is served (and cached) before this node can hear about writes; then
/// keeps listening, reconnecting as needed, until the process ends.
pub async fn listen(url: String, cache: Arc<ResponseCache>) -> Result<(), sea_orm::sqlx::Error> {
    let mut listener = connect(&url).await?;
    tokio::spawn(async move {
        loop {
            hear(&mut listener, &cache).await;
            // Announcements sent from now on are lost until the listener is back; pooled
            // connections may have died with this one.
            cache.set_listening(false);
            availability::record_fault();
            listener = reconnect(&url).await;
            cache.set_listening(true);
            // What was announced meanwhile is in the outbox.
            wake_readers();
            tracing::info!("listening for content changes again");
        }
    });
    Ok(())
}

/// Empties the cache at each other node's announcement, until the connection fails.
async fn hear(listener: &mut PgListener, cache: &ResponseCache) {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                if notification.payload() != node_id() {
                    content_changed(cache);
                }
            }
            Ok(None) => {
                tracing::warn!("content-change listener lost its connection");
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "content-change listener failed");
                return;
            }
        }
    }
}

/// A new listening connection, tried with exponential backoff until one is made.
async fn reconnect(url: &str) -> PgListener {
    let mut backoff = FIRST_BACKOFF;
    loop {
        tokio::time::sleep(backoff).await;
        match connect(url).await {
            Ok(listener) => return listener,
            Err(error) => {
                tracing::warn!(%error, retry_in = ?backoff, "cannot listen for content changes");
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Empties the cache whenever SQLite's content counter moved past what this node accounted
/// for (a write by a `dermis` command; this node's own writes are accounted for by
/// [`own_content_write`]), until the process ends.
pub fn watch_sqlite(mut db: sea_orm::DatabaseConnection, cache: Arc<ResponseCache>) {
    // A background poll, not a request: not counted in the request metrics.
    db.set_metric_callback(|_| {});
    tokio::spawn(async move {
        if let Ok(Some(now)) = crate::db::content_version(&db).await {
            advance(&now);
        }
        let mut ticks = tokio::time::interval(SQLITE_CHECK_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match crate::db::content_version(&db).await {
                Ok(Some(now)) if advance(&now) => content_changed(&cache),
                Ok(_) => {}
                // Locked or unreadable now: whatever changed meanwhile is seen next time.
                Err(error) => tracing::debug!(%error, "cannot read the content counter"),
            }
        }
    });
}
