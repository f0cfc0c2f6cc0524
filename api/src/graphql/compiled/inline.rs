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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

/// How long a read waits for a lock before the general executor answers instead.
const BUSY_TIMEOUT: Duration = Duration::from_millis(50);

/// Prepared statements kept per connection (one per compiled query text at most).
const STATEMENTS_KEPT: usize = 128;

/// Each connection's page cache, as the pool's (`db::SQLITE_CACHE_SIZE`).
const CACHE_SIZE: &str = "PRAGMA cache_size = -512";

thread_local! {
    /// This thread's read connection, and the file it reads.
    static CONNECTION: RefCell<Option<(PathBuf, Connection)>> = const { RefCell::new(None) };
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

    /// Runs `sql` with text `parameters`; the first column of its only row.
    pub fn query_text(
        &self,
        sql: &str,
        parameters: &[String],
    ) -> Result<Option<String>, rusqlite::Error> {
        CONNECTION.with(|slot| {
            let mut slot = slot.borrow_mut();
            if slot.as_ref().is_none_or(|(path, _)| path != &self.path) {
                *slot = Some((self.path.clone(), open(&self.path)?));
            }
            let Some((_, connection)) = slot.as_ref() else {
                return Ok(None);
            };
            let mut statement = connection.prepare_cached(sql)?;
            statement
                .query_row(rusqlite::params_from_iter(parameters), |row| row.get(0))
                .optional()
        })
    }
}

/// The content writes this node is running.
#[derive(Debug, Default)]
pub struct Writes(AtomicUsize);

impl Writes {
    /// Counts a write until the returned guard is dropped.
    pub fn begin(self: &Arc<Self>) -> WriteGuard {
        self.0.fetch_add(1, Ordering::AcqRel);
        WriteGuard(self.clone())
    }

    /// Whether no write is running.
    pub fn none(&self) -> bool {
        self.0.load(Ordering::Acquire) == 0
    }
}

/// A running write (see [`Writes::begin`]).
#[derive(Debug)]
pub struct WriteGuard(Arc<Writes>);

impl Drop for WriteGuard {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, Ordering::AcqRel);
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
