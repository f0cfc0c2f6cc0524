//! The in-process cache of anonymous published reads, and its invalidation.
//!
//! Anonymous callers only ever see published content, so the answer to an anonymous
//! query depends on the request and the published content alone. The cache keeps such
//! answers (without errors) by operation, query and variables, and by the exact body of
//! the `POST` that asked (a repeat is then answered before its JSON is even read),
//! bounded in bytes (LRU).
//! Any content write empties it at once on this node and, through PostgreSQL
//! `LISTEN/NOTIFY`, on every other node. A read that began before a write must not refill
//! the cache with what it saw: entries carry the content generation their read started
//! in, and are only kept when no write happened meanwhile.
//!
//! When this node may have missed an announcement (its listening connection dropped), its
//! entries are *distrusted*: no longer answered, but kept, so that while the database cannot
//! be reached anonymous readers still get the last answers (stale-while-unavailable,
//! [`ResponseCache::get_stale`]); nothing is kept while the node is not listening. As a
//! last resort every entry has a bounded age ([`CacheAges`]).
//!
//! Editors' requests (anything with `Authorization`) and previews bypass it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::web::Bytes;
use lru::LruCache;
use sha2::{Digest, Sha256};

pub use crate::config::settings::CacheAges;

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
    /// When it was read from the database.
    pub read_at: Instant,
}

impl Cached {
    /// An entry for `body`, the answer of `operation`, with its `ETag`.
    pub fn new(body: Bytes, operation: Option<String>) -> Self {
        let etag = etag(&body);
        Self {
            body,
            etag,
            operation,
            read_at: Instant::now(),
        }
    }
}

/// The strong `ETag` of a body: a quoted, truncated SHA-256.
pub fn etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// What a cached answer is found by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CacheKey {
    /// The exact body of an anonymous `POST`: the same bytes are the same operation name,
    /// text and variables, so a repeat needs no JSON parsing.
    Body(Bytes),
    /// The operation name, the document's text (or `#hash` of a persisted query) and the
    /// variables, however the request carried them.
    Request(String),
}

impl CacheKey {
    /// The key of an anonymous `POST`'s body, unless it is too large to keep.
    pub fn body(body: &Bytes) -> Option<Self> {
        (body.len() <= MAX_KEY_BYTES).then(|| Self::Body(body.clone()))
    }

    /// The key of a request, unless it is too large to keep.
    pub fn request(operation: Option<&str>, query: &str, variables: &str) -> Option<Self> {
        let key = format!("{}\n{query}\n{variables}", operation.unwrap_or(""));
        (key.len() <= MAX_KEY_BYTES).then_some(Self::Request(key))
    }

    fn len(&self) -> usize {
        match self {
            Self::Body(body) => body.len(),
            Self::Request(text) => text.len(),
        }
    }
}

/// An answer and the trust epoch it was kept in.
struct Entry {
    cached: Arc<Cached>,
    epoch: u64,
}

struct Entries {
    lru: LruCache<CacheKey, Entry>,
    bytes: usize,
}

/// The cache, shared by every worker of a node.
pub struct ResponseCache {
    entries: Option<Mutex<Entries>>,
    max_bytes: usize,
    ages: CacheAges,
    generation: AtomicU64,
    /// Entries kept in an earlier epoch are distrusted.
    epoch: AtomicU64,
    /// Whether this node hears every announcement now (false while its listener is cut).
    listening: AtomicBool,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl ResponseCache {
    /// A cache holding at most `max_bytes` of keys and bodies (`0` switches it off), each
    /// answered for at most `ages`.
    pub fn new(max_bytes: usize, ages: CacheAges) -> Self {
        Self {
            entries: (max_bytes > 0).then(|| {
                Mutex::new(Entries {
                    lru: LruCache::unbounded(),
                    bytes: 0,
                })
            }),
            max_bytes,
            ages,
            generation: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            listening: AtomicBool::new(true),
        }
    }

    /// Whether the cache is on.
    pub fn enabled(&self) -> bool {
        self.entries.is_some()
    }

    /// The current content generation; pass it to [`ResponseCache::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The cached answer for `key`.
    pub fn get(&self, key: &CacheKey) -> Option<Arc<Cached>> {
        let epoch = self.epoch.load(Ordering::Acquire);
        let mut entries = self.entries.as_ref()?.lock().ok()?;
        let entry = entries.lru.get(key)?;
        (entry.epoch == epoch && entry.cached.read_at.elapsed() < self.ages.max_age)
            .then(|| entry.cached.clone())
    }

    /// The last answer kept for `key`, distrusted or old, within
    /// [`CacheAges::stale_while_unavailable`]: for when the database cannot be reached.
    pub fn get_stale(&self, key: &CacheKey) -> Option<Arc<Cached>> {
        let mut entries = self.entries.as_ref()?.lock().ok()?;
        let entry = entries.lru.get(key)?;
        (entry.cached.read_at.elapsed() < self.ages.stale_while_unavailable)
            .then(|| entry.cached.clone())
    }

    /// Keeps `value` under every one of `keys` unless content changed since `generation`
    /// was read. Each key counts with the body's bytes (a body under two keys is held once,
    /// so the bound is conservative).
    pub fn put(
        &self,
        generation: u64,
        keys: impl IntoIterator<Item = CacheKey>,
        value: Arc<Cached>,
    ) {
        let Some(entries) = &self.entries else {
            return;
        };
        let Ok(mut entries) = entries.lock() else {
            return;
        };
        // Checked under the lock that `invalidate` also takes: no write slips between.
        if self.generation.load(Ordering::Acquire) != generation
            || !self.listening.load(Ordering::Acquire)
        {
            return;
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        for key in keys {
            let size = key.len() + value.body.len();
            if size > self.max_bytes / 4 {
                continue;
            }
            let key_len = key.len();
            let entry = Entry {
                cached: value.clone(),
                epoch,
            };
            if let Some(old) = entries.lru.put(key, entry) {
                entries.bytes = entries
                    .bytes
                    .saturating_sub(key_len + old.cached.body.len());
            }
            entries.bytes += size;
        }
        while entries.bytes > self.max_bytes {
            match entries.lru.pop_lru() {
                Some((k, v)) => {
                    entries.bytes = entries.bytes.saturating_sub(k.len() + v.cached.body.len())
                }
                None => break,
            }
        }
    }

    /// Stops answering what is kept, but keeps it for [`ResponseCache::get_stale`]: this
    /// node may have missed an announcement. Reads that began before are not kept.
    pub fn distrust(&self) {
        if let Some(entries) = &self.entries
            && let Ok(_entries) = entries.lock()
        {
            self.generation.fetch_add(1, Ordering::AcqRel);
            self.epoch.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Whether this node hears every announcement (its listener is connected). Either way
    /// what is kept is distrusted: anything may have changed while it was not; and nothing
    /// is kept while it is not.
    pub fn set_listening(&self, listening: bool) {
        self.listening.store(listening, Ordering::Release);
        self.distrust();
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

    use std::time::Duration;

    const AGES: CacheAges = CacheAges {
        max_age: Duration::from_secs(300),
        stale_while_unavailable: Duration::from_secs(3600),
    };

    fn body(s: &str) -> Arc<Cached> {
        Arc::new(Cached::new(Bytes::copy_from_slice(s.as_bytes()), None))
    }

    fn key(s: &str) -> CacheKey {
        CacheKey::Request(s.to_owned())
    }

    #[test]
    fn a_write_during_a_read_keeps_the_stale_answer_out() {
        let cache = ResponseCache::new(1024, AGES);
        let before = cache.generation();
        cache.invalidate();
        cache.put(before, [key("k")], body("stale"));
        assert!(cache.get(&key("k")).is_none());
        cache.put(cache.generation(), [key("k")], body("fresh"));
        assert_eq!(
            cache.get(&key("k")).map(|c| c.body.clone()),
            Some(Bytes::from("fresh"))
        );
        cache.invalidate();
        assert!(cache.get(&key("k")).is_none());
    }

    #[test]
    fn bytes_are_bounded_least_recently_used_first() {
        let cache = ResponseCache::new(100, AGES);
        let g = cache.generation();
        for i in 0..10 {
            cache.put(g, [key(&format!("k{i}"))], body(&"x".repeat(20)));
        }
        let (entries, bytes) = cache.size();
        assert!(
            bytes <= 100 && entries == 4,
            "{entries} entries, {bytes} bytes"
        );
        assert!(cache.get(&key("k9")).is_some() && cache.get(&key("k0")).is_none());
        assert_eq!(etag(b"a"), etag(b"a"));
        assert_ne!(etag(b"a"), etag(b"b"));
        assert!(!ResponseCache::new(0, AGES).enabled());
    }

    #[test]
    fn one_answer_under_two_keys_goes_with_the_next_write() {
        let cache = ResponseCache::new(1024, AGES);
        let raw = Bytes::from_static(br#"{"query":"{ a }"}"#);
        let keys = [CacheKey::body(&raw), CacheKey::request(None, "{ a }", "")];
        cache.put(
            cache.generation(),
            keys.iter().flatten().cloned(),
            body("answer"),
        );
        assert_eq!(cache.size(), (2, 2 * 6 + raw.len() + "\n{ a }\n".len()));
        for key in keys.iter().flatten() {
            assert_eq!(
                cache.get(key).map(|c| c.body.clone()),
                Some(Bytes::from("answer"))
            );
        }
        // A body and a request key never stand for each other, whatever their bytes.
        let text = String::from_utf8(raw.to_vec()).unwrap_or_default();
        assert!(cache.get(&CacheKey::Request(text)).is_none());
        cache.invalidate();
        assert!(keys.iter().flatten().all(|key| cache.get(key).is_none()));
        let huge = Bytes::from(vec![b' '; MAX_KEY_BYTES + 1]);
        assert!(CacheKey::body(&huge).is_none());
    }

    #[test]
    fn distrusted_and_old_answers_are_only_stale() {
        let cache = ResponseCache::new(1024, AGES);
        cache.put(cache.generation(), [key("k")], body("kept"));
        cache.set_listening(false);
        assert!(cache.get(&key("k")).is_none());
        assert!(cache.get_stale(&key("k")).is_some());
        // Nothing is kept while not listening, and reads from before do not land after.
        let during = cache.generation();
        cache.put(during, [key("j")], body("unheard"));
        assert!(cache.get_stale(&key("j")).is_none());
        cache.set_listening(true);
        cache.put(during, [key("j")], body("late"));
        assert!(cache.get_stale(&key("j")).is_none());
        cache.put(cache.generation(), [key("j")], body("fresh"));
        assert!(cache.get(&key("j")).is_some());
        // An announced change leaves nothing, stale or not.
        cache.invalidate();
        assert!(cache.get_stale(&key("k")).is_none());

        let brief = ResponseCache::new(
            1024,
            CacheAges {
                max_age: Duration::ZERO,
                stale_while_unavailable: Duration::ZERO,
            },
        );
        brief.put(brief.generation(), [key("k")], body("old"));
        assert!(brief.get(&key("k")).is_none() && brief.get_stale(&key("k")).is_none());
    }
}
