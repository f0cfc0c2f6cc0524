//! The live feed: every committed content event, read once per node and handed to every
//! subscriber of this node (GraphQL subscriptions), whichever node or command wrote it.
//!
//! One task per node reads the outbox ([`super::events`]) when woken ([`wake`]: a content
//! write here, another node's announcement, SQLite's content counter) and broadcasts each new
//! event. Event ids come from a sequence, so on PostgreSQL a transaction that took its id
//! first may commit after one that took a later id: the reader remembers the ids it skipped
//! (gaps) for [`GAP_HORIZON`] and reads them again with the next round, so a late commit is
//! still delivered (out of id order); a gap left by a rolled-back transaction is forgotten
//! after the horizon.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use entity::content_event;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::{Notify, broadcast};

use crate::errors::ApiResult;

/// Events a subscriber may fall behind by before it misses some
/// ([`broadcast::error::RecvError::Lagged`]).
pub const CAPACITY: usize = 1024;

/// How long an id skipped by a read is looked for again: longer than any content
/// transaction should take between taking its event's id and committing.
pub const GAP_HORIZON: Duration = Duration::from_secs(120);

/// The most skipped ids remembered at once (the oldest are forgotten first).
const MAX_GAPS: usize = 1000;

/// Events read per statement.
const BATCH: u64 = 500;

/// While someone subscribes, the feed also looks this often without being woken: the
/// longest lag of a write whose announcement was lost (a listener reconnecting).
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// A committed content event, shared by every subscriber.
pub type Event = Arc<content_event::Model>;

struct Shared {
    sender: broadcast::Sender<Event>,
    bell: Notify,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| Shared {
        sender: broadcast::channel(CAPACITY).0,
        bell: Notify::new(),
    })
}

/// Content changed (here, on another node, or by a command): the feed reads at once.
pub fn wake() {
    shared().bell.notify_one();
}

/// Every event committed from now on (and, with the next read, any that committed just
/// before with an id the feed had not read yet).
pub fn subscribe() -> broadcast::Receiver<Event> {
    shared().sender.subscribe()
}

/// Subscribers listening now (on this node).
pub fn subscribers() -> usize {
    shared().sender.receiver_count()
}

/// What the feed has read: the highest id, and the lower ids it skipped.
#[derive(Debug, Default)]
struct Cursor {
    /// The highest id read; `None` until the first read found where the outbox ends.
    last: Option<i32>,
    /// Skipped ids, with when they were first skipped.
    gaps: BTreeMap<i32, Instant>,
}

impl Cursor {
    /// Takes in the ids of one read (ascending); returns whether `id` is new (to broadcast).
    fn take(&mut self, id: i32, now: Instant) -> bool {
        if self.gaps.remove(&id).is_some() {
            return true;
        }
        let Some(last) = self.last else {
            self.last = Some(id);
            return true;
        };
        if id <= last {
            return false;
        }
        // Ids between the last one and this one have not committed (yet).
        let first_gap = Ord::max(last + 1, id.saturating_sub(MAX_GAPS as i32));
        for skipped in first_gap..id {
            self.gaps.insert(skipped, now);
        }
        self.last = Some(id);
        true
    }

    /// Forgets gaps older than the horizon, and the oldest beyond [`MAX_GAPS`].
    fn expire(&mut self, now: Instant) {
        self.gaps
            .retain(|_, since| now.duration_since(*since) < GAP_HORIZON);
        while self.gaps.len() > MAX_GAPS {
            self.gaps.pop_first();
        }
    }
}

/// Starts the feed's reader on `db`; it runs until the process ends. Its statements are
/// not counted in the request metrics.
pub fn spawn(mut db: DatabaseConnection) {
    db.set_metric_callback(|_| {});
    tokio::spawn(async move {
        let mut cursor = Cursor::default();
        loop {
            if cursor.last.is_none() {
                match last_id(&db).await {
                    Ok(last) => cursor.last = Some(last.unwrap_or(0)),
                    Err(error) => tracing::debug!(%error, "cannot read the content events"),
                }
            } else if let Err(error) = read(&db, &mut cursor).await {
                // Whatever committed meanwhile is read with the next round.
                tracing::debug!(%error, "cannot read the content events");
            }
            let bell = shared().bell.notified();
            if shared().sender.receiver_count() > 0 {
                let _ = tokio::time::timeout(POLL_EVERY, bell).await;
            } else {
                bell.await;
            }
        }
    });
}

/// The highest event id, if any.
async fn last_id(db: &DatabaseConnection) -> ApiResult<Option<i32>> {
    Ok(content_event::Entity::find()
        .select_only()
        .expr(Expr::col(content_event::Column::Id).max())
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten())
}

/// Reads and broadcasts everything committed since the last read.
async fn read(db: &DatabaseConnection, cursor: &mut Cursor) -> ApiResult<()> {
    loop {
        let now = Instant::now();
        cursor.expire(now);
        let mut wanted = Condition::any();
        if let Some(last) = cursor.last {
            wanted = wanted.add(content_event::Column::Id.gt(last));
        }
        if !cursor.gaps.is_empty() {
            wanted = wanted.add(content_event::Column::Id.is_in(cursor.gaps.keys().copied()));
        }
        let rows = content_event::Entity::find()
            .filter(wanted)
            .order_by_asc(content_event::Column::Id)
            .limit(BATCH)
            .all(db)
            .await?;
        let full = rows.len() as u64 == BATCH;
        for row in rows {
            if cursor.take(row.id, now) {
                // No subscriber is not an error: the event is simply not wanted here.
                let _ = shared().sender.send(Arc::new(row));
            }
        }
        if !full {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_commit_below_the_last_id_is_still_new_once() {
        let now = Instant::now();
        let mut cursor = Cursor {
            last: Some(10),
            ..Default::default()
        };
        assert!(cursor.take(13, now));
        assert_eq!(cursor.gaps.keys().copied().collect::<Vec<_>>(), [11, 12]);
        assert!(cursor.take(12, now), "the late commit is delivered");
        assert!(!cursor.take(12, now), "once");
        assert!(!cursor.take(13, now));
        assert!(!cursor.take(9, now), "below what was read, never a gap");
        assert_eq!(cursor.gaps.keys().copied().collect::<Vec<_>>(), [11]);
    }

    #[test]
    fn gaps_are_forgotten_after_the_horizon_and_beyond_the_limit() {
        let start = Instant::now();
        let mut cursor = Cursor {
            last: Some(0),
            ..Default::default()
        };
        assert!(cursor.take(3, start));
        cursor.expire(start + GAP_HORIZON);
        assert!(cursor.gaps.is_empty());
        assert!(cursor.take(5000, start));
        assert_eq!(cursor.gaps.len(), MAX_GAPS);
        assert_eq!(cursor.gaps.keys().next(), Some(&(5000 - MAX_GAPS as i32)));
    }
}
