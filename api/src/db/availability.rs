//! Whether the database can be reached: which errors mean it cannot (an outage, a restart,
//! a full pool, a locked or read-only SQLite file) as opposed to a fault of the request or
//! the code, and what this process last saw of it.
//!
//! Two clocks, process-wide like the pool they describe:
//! - the last *fault*: an outage error, or the content-change listener losing its
//!   connection. Pooled connections opened before it are pinged before their next use
//!   ([`checked_since_fault`]), so a connection that died in a restart is discarded instead
//!   of failing a request;
//! - the last *outage*: a request that failed because the database could not be reached.
//!   While it is recent ([`down`]) anonymous reads are answered from the response cache's
//!   stale answers at once instead of waiting for the pool again.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{DbErr, RuntimeErr};

/// What clients are told to wait before retrying (`Retry-After`), and how long after an
/// outage error requests skip the database for stale answers.
pub const RETRY_AFTER: Duration = Duration::from_secs(2);

/// How long after a fault pooled connections older than it are pinged before use. Longer
/// than [`super::PING_IF_IDLE_FOR`]: a connection not used within it is pinged anyway.
const CHECK_AFTER_FAULT: Duration = Duration::from_secs(60);

/// Whether `err` means the database could not be reached or could not take the statement
/// for reasons of its own (not of the request): connection refused or dropped, a pool
/// with no connection free within its acquire timeout, PostgreSQL shutting down, starting
/// up, refusing connections or out of them; SQLite locked past its busy timeout, read-only,
/// full or unreadable.
pub fn is_unavailable(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => match runtime {
            RuntimeErr::SqlxError(error) => sqlx_unavailable(error),
            _ => false,
        },
        _ => false,
    }
}

fn sqlx_unavailable(error: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match error {
        Error::Io(_)
        | Error::Tls(_)
        | Error::PoolTimedOut
        | Error::PoolClosed
        | Error::WorkerCrashed
        | Error::Protocol(_) => true,
        Error::Database(db) => db.code().is_some_and(|code| unavailable_code(&code)),
        _ => false,
    }
}

/// PostgreSQL SQLSTATEs and SQLite result codes of an unreachable or unwritable database.
fn unavailable_code(code: &str) -> bool {
    // PostgreSQL: 08xxx connection exception; 57P01-57P03 admin shutdown, crash shutdown,
    // cannot connect now; 53300 too many connections; 55000 a database that does not
    // accept connections (`ALLOW_CONNECTIONS false`); 25006 a read-only standby.
    if code.starts_with("08")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "53300" | "55000" | "25006"
        )
    {
        return true;
    }
    // SQLite reports extended result codes (at most four digits; SQLSTATEs have five); the
    // primary code is the low byte: BUSY (5), LOCKED (6), READONLY (8), IOERR (10), FULL
    // (13), CANTOPEN (14).
    code.len() < 5
        && code
            .parse::<u32>()
            .is_ok_and(|code| matches!(code & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
}

struct Clock {
    start: Instant,
    fault: AtomicU64,
    outage: AtomicU64,
}

/// Milliseconds since the clock started, plus one, so that 0 means "never".
fn clock() -> &'static Clock {
    static CLOCK: OnceLock<Clock> = OnceLock::new();
    CLOCK.get_or_init(|| Clock {
        start: Instant::now(),
        fault: AtomicU64::new(0),
        outage: AtomicU64::new(0),
    })
}

fn stamp() -> u64 {
    u64::try_from(clock().start.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
}

fn since(stamped: u64) -> Option<Duration> {
    (stamped != 0).then(|| Duration::from_millis(stamp().saturating_sub(stamped)))
}

/// A connection may have died (the listener lost its connection, or a statement failed
/// for want of the database).
pub fn record_fault() {
    clock().fault.store(stamp(), Ordering::Release);
}

/// A request failed because the database could not be reached.
pub fn record_outage() {
    record_fault();
    clock().outage.store(stamp(), Ordering::Release);
}

/// Records `err` when it is an outage; returns whether it was.
pub fn observe(err: &DbErr) -> bool {
    let unavailable = is_unavailable(err);
    if unavailable {
        record_outage();
    }
    unavailable
}

/// Whether a request failed for want of the database within the last [`RETRY_AFTER`].
pub fn down() -> bool {
    since(clock().outage.load(Ordering::Acquire)).is_some_and(|ago| ago < RETRY_AFTER)
}

/// Whether a pooled connection of this `age` is to be pinged before use: it was opened
/// before a fault of the last minute, so it may have died in it.
pub fn checked_since_fault(age: Duration) -> bool {
    since(clock().fault.load(Ordering::Acquire))
        .is_some_and(|ago| ago < CHECK_AFTER_FAULT && ago < age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outage_codes_are_told_from_request_faults() {
        for code in [
            "08006", "08001", "57P01", "57P03", "53300", "55000", "5", "517", "8", "1032", "14",
        ] {
            assert!(unavailable_code(code), "{code}");
        }
        // Unique (23505) and foreign-key (23503) violations, a syntax error (42601);
        // SQLite's CONSTRAINT (19, 2067) and ERROR (1).
        for code in ["23505", "23503", "42601", "19", "2067", "1"] {
            assert!(!unavailable_code(code), "{code}");
        }
        assert!(is_unavailable(&DbErr::ConnectionAcquire(
            sea_orm::ConnAcquireErr::Timeout
        )));
        assert!(!is_unavailable(&DbErr::RecordNotFound("x".into())));
    }

    #[test]
    fn connections_older_than_a_fault_are_checked() {
        record_fault();
        assert!(checked_since_fault(Duration::from_secs(5)));
        assert!(!checked_since_fault(Duration::ZERO));
    }
}
