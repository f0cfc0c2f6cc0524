//! SQLite reads for the compiled read path, on the calling thread when that is safe.
//!
//! sqlx runs every SQLite connection on a thread of its own: a statement is a message to
//! that thread and a message back, two thread hand-offs. For the compiled topic page (one
//! statement of some tens of microseconds) the hand-offs were the larger cost: `perf` put
//! 32% of the machine's time in the kernel's scheduler, and the SQLite threads took 45% of
//! the server's. Here each thread keeps one read-only connection of its own (rusqlite, on
//! the same bundled SQLite as sqlx) and runs the statement in place.
//!
//! In place means on the HTTP worker, which a read then blocks. That is only done while
//! no content write (a mutation other than signing in, refreshing, signing out or changing
//! a password) of this node is in flight ([`Writes`]): a commit fsyncs and may checkpoint, and
//! meanwhile a read can wait milliseconds on the file's pages and on SQLite's process-wide
//! locks (seen with `strace`: 5-9 ms waits on HTTP workers during saves), stalling every
//! connection that worker serves. While a write runs, reads go through the pool instead
//! (sqlx's connection threads, at the price of the hand-offs): no connection, thread or
//! page cache beyond the pool's and one per HTTP worker. In WAL mode a reader never waits for a writer's
//! lock itself, and the busy timeout is short: past it the general executor answers.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

/// How long a read waits for a lock before the general executor answers instead.
const BUSY_TIMEOUT: Duration = Duration::from_millis(50);

/// Prepared statements kept per connection (one per compiled query text at most).
const STATEMENTS_KEPT: usize = 128;

/// Each connection's page cache, as the pool's (`db::SQLITE_CACHE_SIZE`).
const CACHE_SIZE: &str = "PRAGMA cache_size = -512";

/// How long one read transaction serves a thread's reads at most (see [`Snapshot`]).
const SNAPSHOT_AGE: Duration = Duration::from_millis(20);

thread_local! {
    /// This thread's read connection.
    static READER: RefCell<Option<Reader>> = const { RefCell::new(None) };
}

/// One thread's read-only connection to one database file.
struct Reader {
    path: PathBuf,
    connection: Connection,
    /// The read transaction this thread's reads share, while one is open.
    snapshot: Option<Snapshot>,
}

/// An open read transaction, shared by the reads of one thread.
///
/// Beginning and ending a read transaction in WAL mode takes the shared-memory lock of
/// the file twice (a process-wide mutex and an `fcntl` each): `perf` put 11% of the
/// uncached topic page's server time there, mostly in futex waits between the two HTTP
/// workers. So consecutive reads of a thread share one transaction, while no content
/// write of this node has finished since it began ([`Writes::finished`]: a read that
/// starts after a save's answer was sent sees the save) and for [`SNAPSHOT_AGE`] at most
/// (a timer on the thread ends it then, so an idle thread never holds back a checkpoint).
/// SQLite has a single node, whose writes are the only content writes while it runs
/// (the response cache rests on the same fact).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Snapshot {
    /// [`Writes::finished`] when it began.
    generation: u64,
    began: Instant,
}

/// Ends the open read transaction of the thread's reader, if any; drops the reader (its
/// connection, which rolls back) when the transaction cannot be ended.
fn end(slot: &mut Option<Reader>) {
    let Some(reader) = slot.as_mut() else {
        return;
    };
    if reader.snapshot.take().is_some() && reader.connection.execute_batch("COMMIT").is_err() {
        *slot = None;
    }
}

/// Reads one SQLite database file on the calling thread.
#[derive(Debug)]
pub struct InlineReader {
    path: PathBuf,
}

impl InlineReader {
    /// A reader of the database file at `path`.
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// Runs `sql` with `parameters`; the first column of its only row. Reads of one
    /// thread share a read transaction while no write of `writes` finished (see
    /// [`Snapshot`]). Must run on a thread of a local tokio runtime (an HTTP worker),
    /// whose timer ends that transaction.
    pub fn query_text(
        &self,
        sql: &str,
        parameters: &[Param],
        writes: &Writes,
    ) -> Result<Option<String>, rusqlite::Error> {
        READER.with(|slot| {
            let mut slot = slot.borrow_mut();
            if slot.as_ref().is_none_or(|reader| reader.path != self.path) {
                *slot = Some(Reader {
                    path: self.path.clone(),
                    connection: open(&self.path)?,
                    snapshot: None,
                });
            }
            let generation = writes.finished();
            if slot
                .as_ref()
                .and_then(|reader| reader.snapshot)
                .is_some_and(|snapshot| {
                    snapshot.generation != generation || snapshot.began.elapsed() >= SNAPSHOT_AGE
                })
            {
                end(&mut slot);
            }
            let Some(reader) = slot.as_mut() else {
                return Ok(None);
            };
            if reader.snapshot.is_none() {
                reader.connection.execute_batch("BEGIN")?;
                let snapshot = Snapshot {
                    generation,
                    began: Instant::now(),
                };
                reader.snapshot = Some(snapshot);
                end_later(snapshot);
            }
            let result = reader
                .connection
                .prepare_cached(sql)
                .and_then(|mut statement| {
                    statement
                        .query_row(rusqlite::params_from_iter(parameters), |row| row.get(0))
                        .optional()
                });
            if result.is_err() {
                end(&mut slot);
            }
            result
        })
    }
}

/// A value a compiled statement binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
}

impl Param {
    /// The value for a statement run through the pool.
    pub fn into_value(self) -> sea_orm::Value {
        match self {
            Self::Text(text) => sea_orm::Value::from(text),
            Self::Int(number) => sea_orm::Value::from(number),
        }
    }
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Self::Text(text) => text.to_sql(),
            Self::Int(number) => number.to_sql(),
        }
    }
}

/// Ends `snapshot` after [`SNAPSHOT_AGE`] if it is still this thread's open transaction.
fn end_later(snapshot: Snapshot) {
    tokio::task::spawn_local(async move {
        tokio::time::sleep(SNAPSHOT_AGE).await;
        READER.with(|slot| {
            let Ok(mut slot) = slot.try_borrow_mut() else {
                return;
            };
            if slot
                .as_ref()
                .is_some_and(|reader| reader.snapshot == Some(snapshot))
            {
                end(&mut slot);
            }
        });
    });
}

/// The content writes of this node: how many run, and how many have finished.
#[derive(Debug, Default)]
pub struct Writes {
    running: AtomicUsize,
    finished: AtomicU64,
}

impl Writes {
    /// Counts a write until the returned guard is dropped.
    pub fn begin(self: &Arc<Self>) -> WriteGuard {
        self.running.fetch_add(1, Ordering::SeqCst);
        WriteGuard(self.clone())
    }

    /// Whether no write is running.
    pub fn none(&self) -> bool {
        self.running.load(Ordering::SeqCst) == 0
    }

    /// How many writes have finished (a write counts once it has committed and before its
    /// answer is sent).
    pub fn finished(&self) -> u64 {
        self.finished.load(Ordering::SeqCst)
    }
}

/// A running write (see [`Writes::begin`]).
#[derive(Debug)]
pub struct WriteGuard(Arc<Writes>);

impl Drop for WriteGuard {
    fn drop(&mut self) {
        // Finished before no longer running: a read that sees no write running also sees
        // this one finished.
        self.0.finished.fetch_add(1, Ordering::SeqCst);
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A read-only connection to the database at `path`.
fn open(path: &Path) -> Result<Connection, rusqlite::Error> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.execute_batch(CACHE_SIZE)?;
    connection.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
    Ok(connection)
}
