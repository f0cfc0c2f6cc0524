//! Tells every node that content changed, so each empties its response cache.
//!
//! The node that wrote empties its own cache at once and sends `NOTIFY` on PostgreSQL;
//! every node `LISTEN`s on a connection of its own and empties its cache on each
//! notification. When that connection drops, notifications may have been missed, so the
//! cache is emptied on every (re)connection too. SQLite has a single node: nothing to tell.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

use super::cache::ResponseCache;

/// The notification channel.
pub const CHANNEL: &str = "dermis_content_changed";

/// Content changed: empty the cache here and tell the other nodes.
pub async fn content_changed(db: &DatabaseConnection, cache: &ResponseCache) {
    cache.invalidate();
    if db.get_database_backend() == DbBackend::Postgres
        && let Err(error) = db.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await
    {
        // The other nodes then serve cached answers until their next notification or
        // reconnection; say so loudly.
        tracing::error!(%error, "cannot notify the other nodes that content changed");
    }
}

/// Listens for other nodes' writes until the process ends (PostgreSQL only).
pub fn listen(url: String, cache: Arc<ResponseCache>) {
    tokio::spawn(async move {
        loop {
            match PgListener::connect(&url).await {
                Ok(mut listener) => match listener.listen(CHANNEL).await {
                    Ok(()) => {
                        tracing::debug!("listening for content changes of other nodes");
                        cache.invalidate();
                        loop {
                            match listener.try_recv().await {
                                Ok(Some(_)) => cache.invalidate(),
                                // The connection dropped and will be re-established.
                                Ok(None) => cache.invalidate(),
                                Err(error) => {
                                    tracing::warn!(%error, "content-change listener failed");
                                    break;
                                }
                            }
                        }
                    }
                    Err(error) => tracing::warn!(%error, "cannot LISTEN for content changes"),
                },
                Err(error) => tracing::warn!(%error, "cannot connect the content-change listener"),
            }
            cache.invalidate();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}
