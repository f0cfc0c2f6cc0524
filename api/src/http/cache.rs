//! The in-process cache of anonymous published reads, and its invalidation.
//!
//! Anonymous callers only ever see published content, so the answer to an anonymous
//! query depends on the request and the published content alone. The cache keeps such
//! answers (without errors) by operation, query and variables, bounded in bytes (LRU).
//! Any content write empties it at once on this node and, through PostgreSQL
//! `LISTEN/NOTIFY`, on every other node. A read that began before a write must not refill
//! the cache with what it saw: entries carry the content generation their read started
//! in, and are only kept when no write happened meanwhile.
//!
//! Editors' requests (anything with `Authorization`) and previews bypass it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::web::Bytes;
use lru::LruCache;
use sha2::{Digest, Sha256};

/// Keys longer than this are not cached (a request that large is rare and costly to hold).
const MAX_KEY_BYTES: usize = 16 * 1024;

/// A cached answer.
#[derive(Debug, Clone)]
pub struct Cached {
    /// The response body (JSON).
    pub body: Bytes,
    /// Its strong `ETag`, quoted.
    pub etag: String,
    /// The operation's name, for logs and metrics (the name sent, else the document's only
    /// operation's).
    pub operation: Option<String>,
}

impl Cached {
    /// An entry for `body`, the answer of `operation`, with its `ETag`.
    pub fn new(body: Bytes, operation: Option<String>) -> Self {
        let etag = etag(&body);
        Self {
            body,
            etag,
            operation,
        }
    }
}

/// The strong `ETag` of a body: a quoted, truncated SHA-256.
pub fn etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

struct Entries {
    lru: LruCache<String, Cached>,
    bytes: usize,
}

/// The cache, shared by every worker of a node.
pub struct ResponseCache {
    entries: Option<Mutex<Entries>>,
    max_bytes: usize,
    generation: AtomicU64,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl ResponseCache {
    /// A cache holding at most `max_bytes` of keys and bodies; `0` switches it off.
    pub fn new(max_bytes: usize) -> Self {
        Self {
            entries: (max_bytes > 0).then(|| {
                Mutex::new(Entries {
                    lru: LruCache::unbounded(),
                    bytes: 0,
                })
            }),
            max_bytes,
            generation: AtomicU64::new(0),
        }
    }

    /// Whether the cache is on.
    pub fn enabled(&self) -> bool {
        self.entries.is_some()
    }

    /// The key of a request.
    pub fn key(operation: Option<&str>, query: &str, variables: &str) -> Option<String> {
        let key = format!("{}\n{query}\n{variables}", operation.unwrap_or(""));
        (key.len() <= MAX_KEY_BYTES).then_some(key)
    }

    /// The current content generation; pass it to [`ResponseCache::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The cached answer for `key`.
    pub fn get(&self, key: &str) -> Option<Cached> {
        self.entries
            .as_ref()?
            .lock()
            .ok()
            .and_then(|mut entries| entries.lru.get(key).cloned())
    }

    /// Keeps `value` unless content changed since `generation` was read.
    pub fn put(&self, generation: u64, key: String, value: Cached) {
        let Some(entries) = &self.entries else {
            return;
        };
        let size = key.len() + value.body.len();
        if size > self.max_bytes / 4 {
            return;
        }
        let Ok(mut entries) = entries.lock() else {
            return;
        };
        // Checked under the lock that `invalidate` also takes: no write slips between.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if let Some(old) = entries.lru.put(key.clone(), value) {
            entries.bytes = entries.bytes.saturating_sub(key.len() + old.body.len());
        }
        entries.bytes += size;
        while entries.bytes > self.max_bytes {
            match entries.lru.pop_lru() {
                Some((k, v)) => {
                    entries.bytes = entries.bytes.saturating_sub(k.len() + v.body.len())
                }
                None => break,
            }
        }
    }

    /// Empties the cache: content changed.
    pub fn invalidate(&self) {
        match &self.entries {
            Some(entries) => {
                if let Ok(mut entries) = entries.lock() {
                    self.generation.fetch_add(1, Ordering::AcqRel);
                    entries.lru.clear();
                    entries.bytes = 0;
                }
            }
            None => {
                self.generation.fetch_add(1, Ordering::AcqRel);
            }
        }
    }

    /// Entries and bytes held.
    pub fn size(&self) -> (usize, usize) {
        self.entries
            .as_ref()
            .and_then(|e| e.lock().ok().map(|e| (e.lru.len(), e.bytes)))
            .unwrap_or((0, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(s: &str) -> Cached {
        Cached::new(Bytes::copy_from_slice(s.as_bytes()), None)
    }

    #[test]
    fn a_write_during_a_read_keeps_the_stale_answer_out() {
        let cache = ResponseCache::new(1024);
        let before = cache.generation();
        cache.invalidate();
        cache.put(before, "k".into(), body("stale"));
        assert!(cache.get("k").is_none());
        cache.put(cache.generation(), "k".into(), body("fresh"));
        assert_eq!(cache.get("k").map(|c| c.body), Some(Bytes::from("fresh")));
        cache.invalidate();
        assert!(cache.get("k").is_none());
    }

    #[test]
    fn bytes_are_bounded_least_recently_used_first() {
        let cache = ResponseCache::new(100);
        let g = cache.generation();
        for i in 0..10 {
            cache.put(g, format!("k{i}"), body(&"x".repeat(20)));
        }
        let (entries, bytes) = cache.size();
        assert!(
            bytes <= 100 && entries == 4,
            "{entries} entries, {bytes} bytes"
        );
        assert!(cache.get("k9").is_some() && cache.get("k0").is_none());
        assert_eq!(etag(b"a"), etag(b"a"));
        assert_ne!(etag(b"a"), etag(b"b"));
        assert!(!ResponseCache::new(0).enabled());
    }
}
