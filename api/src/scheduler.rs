//! The loop every serving node runs for scheduled publishing: every [`TICK`] (and once at
//! start, which runs what fell due while no node ran) it runs the due schedules
//! (`content::schedule`), then announces the content writes as a mutation would, so caches
//! empty and webhooks and subscriptions see the events at once.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::content::schedule;
use crate::graphql::cache::ResponseCache;
use crate::graphql::invalidation;

/// How often a node looks for due schedules: the longest delay of a scheduled change.
pub const TICK: Duration = Duration::from_secs(1);

/// The most schedules one tick runs before announcing them.
const PER_TICK: usize = 50;

/// Starts the loop; it runs until the process ends. Its statements are not counted in the
/// request metrics.
pub fn spawn(mut db: DatabaseConnection, cache: Arc<ResponseCache>) {
    db.set_metric_callback(|_| {});
    tokio::spawn(async move {
        loop {
            let busy = tick(&db, &cache).await;
            if !busy {
                tokio::time::sleep(TICK).await;
            }
        }
    });
}

/// One tick; whether it may have left due schedules behind.
async fn tick(db: &DatabaseConnection, cache: &ResponseCache) -> bool {
    match schedule::run_due(db, PER_TICK).await {
        Ok(ran) => {
            for outcome in &ran {
                let row = &outcome.schedule;
                tracing::info!(
                    schedule = row.id,
                    document_type = %row.document_type,
                    document = row.document_id,
                    action = ?row.action,
                    done = outcome.done,
                    outcome = row.outcome.as_deref().unwrap_or_default(),
                    "ran a schedule"
                );
            }
            if ran.iter().any(|outcome| outcome.done) {
                invalidation::own_content_write(cache, db).await;
            }
            ran.len() == PER_TICK
        }
        Err(error) => {
            tracing::warn!(%error, "could not run the due schedules; trying again");
            false
        }
    }
}
