//! The delivery loop every serving node runs: dispatch new content events, then send what is
//! due, concurrently; when there was nothing to do, wait until woken ([`wake`]: a content
//! write here or announced by another node, a queued delivery) or [`POLL_EVERY`]. A node that dies mid-attempt leaves its claim to expire; another node (or this
//! one, restarted) takes the delivery up again.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use sea_orm::DatabaseConnection;

use super::address::CheckedResolver;
use super::{WebhookSettings, deliver, dispatch};

/// How long the loop rests when there was nothing to do and nobody woke it: the longest
/// lag of a write this node did not hear of, and of a retry that fell due.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

fn bell() -> &'static tokio::sync::Notify {
    static BELL: std::sync::OnceLock<tokio::sync::Notify> = std::sync::OnceLock::new();
    BELL.get_or_init(tokio::sync::Notify::new)
}

/// Content changed (here, or on another node, or by a command), or a delivery was queued:
/// the loop looks at once instead of at its next poll.
pub fn wake() {
    bell().notify_one();
}

/// The HTTP client deliveries are sent with: the attempt's timeout, no redirects followed,
/// every address checked at connection time.
pub fn client(settings: &WebhookSettings) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(CheckedResolver {
            allow_private: settings.allow_private,
        }))
        .build()
}

/// Starts the loop; it runs until the process ends. Its statements are not counted in the
/// request metrics (`dermis_sql_statements_total` measures what requests cost).
pub fn spawn(mut db: DatabaseConnection, settings: WebhookSettings) -> reqwest::Result<()> {
    let client = client(&settings)?;
    db.set_metric_callback(|_| {});
    tokio::spawn(async move {
        loop {
            let busy = round(&db, &client, &settings).await;
            if !busy {
                let _ = tokio::time::timeout(POLL_EVERY, bell().notified()).await;
            }
        }
    });
    Ok(())
}

/// One round; whether there was work.
async fn round(
    db: &DatabaseConnection,
    client: &reqwest::Client,
    settings: &WebhookSettings,
) -> bool {
    let dispatched = match dispatch::dispatch(db).await {
        Ok(count) => count,
        Err(error) => {
            tracing::warn!(%error, "cannot dispatch content events to webhooks");
            0
        }
    };
    let due = match deliver::claim(db).await {
        Ok(due) => due,
        Err(error) => {
            tracing::warn!(%error, "cannot claim webhook deliveries");
            Vec::new()
        }
    };
    let sent = due.len();
    let results = join_all(
        due.into_iter()
            .map(|delivery| deliver::attempt(db, client, settings, delivery)),
    )
    .await;
    let mut outcomes = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok(Some(outcome)) => outcomes.push(outcome),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "cannot send a webhook delivery"),
        }
    }
    // Unrecorded, the deliveries stay claimed until the claim expires, then go again (the
    // same webhook-id: receivers deduplicate on it).
    if let Err(error) = deliver::record(db, settings, outcomes).await {
        tracing::warn!(%error, "cannot record webhook attempts");
    }
    dispatched > 0 || sent > 0
}
