//! Tells every node that content changed, so each empties its response cache.
//!
//! Content writes (and account changes the public sees, such as a reviewer's name) queue
//! their `NOTIFY` inside their own transaction ([`crate::db::begin_content_write`]), so
//! PostgreSQL announces exactly the writes that commit, whoever wrote them (a node or a
//! `dermis` command). The node that wrote empties its own cache at once;
//! every node `LISTEN`s on a connection of its own and empties its cache on each
//! notification. When that connection drops, notifications may have been missed, so the
//! cache is emptied on every (re)connection too. SQLite has a single node: nothing to tell.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;

use super::cache::ResponseCache;

pub use crate::db::CONTENT_CHANNEL as CHANNEL;
use crate::db::node_id;

/// Content changed: empty the cache here at once. The other nodes hear of it from the write
/// itself, whose transaction queued the announcement ([`crate::db::begin_content_write`]).
pub fn content_changed(cache: &ResponseCache) {
    cache.invalidate();
}

/// Starts listening for other nodes' writes (PostgreSQL only). Returns once `LISTEN` is in
/// place, so nothing is served (and cached) before this node can hear about writes; then
/// keeps listening, reconnecting as needed, until the process ends.
pub async fn listen(url: String, cache: Arc<ResponseCache>) -> Result<(), sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect(&url).await?;
    listener.listen(CHANNEL).await?;
    tokio::spawn(async move {
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    if notification.payload() != node_id() {
                        cache.invalidate();
                    }
                }
                // The connection dropped; `try_recv` reconnects on the next call, and
                // whatever was sent meanwhile is lost: start afresh.
                Ok(None) => cache.invalidate(),
                Err(error) => {
                    tracing::warn!(%error, "content-change listener failed; reconnecting");
                    cache.invalidate();
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    match PgListener::connect(&url).await {
                        Ok(mut fresh) => match fresh.listen(CHANNEL).await {
                            Ok(()) => {
                                listener = fresh;
                                cache.invalidate();
                            }
                            Err(error) => {
                                tracing::warn!(%error, "cannot LISTEN for content changes")
                            }
                        },
                        Err(error) => {
                            tracing::warn!(%error, "cannot connect the content-change listener");
                        }
                    }
                }
            }
        }
    });
    Ok(())
}
