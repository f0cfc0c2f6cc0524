//! When a DataLoader batch fires: as soon as the request has nothing left to do but wait.
//!
//! async-graphql's DataLoader fires a batch a fixed delay (1 ms) after its first key. But its
//! executor resolves a list a few items per scheduler tick (`FuturesUnordered` yields after
//! every child that yields), so on a busy machine a page of 50 topics can take longer than the
//! delay to queue all its keys, and one batch becomes two or three. That made the statement
//! count of a page depend on the machine's load.
//!
//! Here the request's future is wrapped in [`IdleSignal::track`], which notices each poll that
//! ends without the request having woken itself: then every branch of the request waits on
//! something outside it (a batch, a query), so every key it could queue is queued. Batches
//! wait for that moment (through [`IdleSignal::spawner`]) instead of a clock, which makes the
//! number of statements a property of the query's shape, not of timing.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use tokio::sync::Notify;

/// A batch task as the DataLoader hands it to its spawner.
type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Tells waiting batches when their request has gone idle.
#[derive(Default)]
pub struct IdleSignal {
    /// How many times the request has gone idle (or ended).
    epoch: AtomicU64,
    /// Wakes the batches waiting for the next idle moment.
    notify: Notify,
}

impl IdleSignal {
    /// A new signal, for one request.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Runs `future` (the request), marking every moment it goes idle.
    pub fn track<F: Future>(self: &Arc<Self>, future: F) -> Tracked<F> {
        Tracked {
            inner: Box::pin(future),
            signal: self.clone(),
        }
    }

    /// A DataLoader spawner whose tasks first wait until the request is idle.
    pub fn spawner(self: &Arc<Self>) -> impl Fn(BoxFuture) + Send + Sync + 'static {
        let signal = self.clone();
        move |task| {
            // Called while the request is being polled: the next idle moment comes after
            // every key this poll queues.
            let start = signal.epoch.load(Ordering::Acquire);
            let signal = signal.clone();
            tokio::spawn(async move {
                signal.idle_after(start).await;
                task.await;
            });
        }
    }

    async fn idle_after(&self, start: u64) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.epoch.load(Ordering::Acquire) > start {
                return;
            }
            notified.await;
        }
    }

    fn went_idle(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.notify.notify_waiters();
    }
}

/// A request future whose idle moments release the DataLoader batches.
pub struct Tracked<F: Future> {
    inner: Pin<Box<F>>,
    signal: Arc<IdleSignal>,
}

/// Forwards wakes to the task's waker and remembers that one happened.
struct FlagWaker {
    woken: AtomicBool,
    inner: Waker,
}

impl Wake for FlagWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.inner.wake_by_ref();
    }
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let flag = Arc::new(FlagWaker {
            woken: AtomicBool::new(false),
            inner: cx.waker().clone(),
        });
        let waker = Waker::from(flag.clone());
        let result = self.inner.as_mut().poll(&mut Context::from_waker(&waker));
        if result.is_pending() && !flag.woken.load(Ordering::Acquire) {
            self.signal.went_idle();
        }
        result
    }
}

impl<F: Future> Drop for Tracked<F> {
    fn drop(&mut self) {
        // A request dropped half-way (the client went away) must not strand its batches.
        self.signal.went_idle();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Yields the way `FuturesUnordered` does: wakes itself, then returns `Pending` once.
    struct YieldOnce(bool);

    impl Future for YieldOnce {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    /// A batch spawned while the request still has work queued runs only after that work.
    #[tokio::test(flavor = "current_thread")]
    async fn a_batch_waits_until_the_request_is_idle() {
        let signal = IdleSignal::new();
        let spawn = signal.spawner();
        let log = Arc::new(Mutex::new(Vec::new()));
        let request = {
            let log = log.clone();
            async move {
                let batch_log = log.clone();
                spawn(Box::pin(async move {
                    batch_log.lock().map(|mut l| l.push("batch")).ok();
                }));
                // The request keeps working for many ticks (as a long list does).
                for _ in 0..50 {
                    log.lock().map(|mut l| l.push("work")).ok();
                    YieldOnce(false).await;
                }
                // Now it waits on something outside itself.
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                log.lock().map(|mut l| l.push("done")).ok();
            }
        };
        signal.track(request).await;
        let log = log.lock().map(|l| l.clone()).unwrap_or_default();
        let batch_at = log.iter().position(|e| *e == "batch");
        assert_eq!(batch_at, Some(50), "{log:?}");
    }
}
