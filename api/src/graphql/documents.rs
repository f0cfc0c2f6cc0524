//! Parsed query documents by their text.
//!
//! A frontend sends the same few query texts over and over, with different variables.
//! Parsing one (async-graphql's pest parser) was the largest single cost of an uncached
//! topic page: 17% of the server's instructions per request (callgrind, see
//! BENCHMARKS.md). A text that parsed and passed the limits once is kept here with its
//! document, and a later request with the same text gets a copy of that document instead
//! of a parse. The limits that depend on the request (variables, operation) are still
//! checked every time; those that depend on the text alone gave the same answer before.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use lru::LruCache;

use super::limits::MAX_TEXT_BYTES;

/// How many documents are kept (the least recently used go first).
pub const DOCUMENTS_KEPT: usize = 128;

/// The cache: query text to parsed document.
pub struct ParsedDocuments {
    entries: Mutex<LruCache<String, Arc<ExecutableDocument>>>,
}

impl std::fmt::Debug for ParsedDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedDocuments").finish_non_exhaustive()
    }
}

impl Default for ParsedDocuments {
    fn default() -> Self {
        Self::new(DOCUMENTS_KEPT)
    }
}

impl ParsedDocuments {
    /// A cache of at most `capacity` documents (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self {
            entries: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// The document parsed from exactly `text`, if it is kept (shared, not copied: a copy
    /// is a deep clone of the whole tree).
    pub fn get(&self, text: &str) -> Option<Arc<ExecutableDocument>> {
        // A poisoned lock only means another thread panicked mid-update of an LRU order;
        // the cache is an optimisation, so it is skipped rather than trusted.
        let mut entries = self.entries.lock().ok()?;
        entries.get(text).cloned()
    }

    /// Keeps `document` as the parse of `text` (unless the text is too long to keep).
    pub fn put(&self, text: &str, document: &Arc<ExecutableDocument>) {
        if text.len() > MAX_TEXT_BYTES {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            entries.put(text.to_owned(), document.clone());
        }
    }

    /// How many documents are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |entries| entries.len())
    }

    /// Whether no document is kept.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Arc<ExecutableDocument> {
        Arc::new(
            crate::graphql::nesting::parse(text, crate::graphql::nesting::MAX_NESTING)
                .expect("a valid document"),
        )
    }

    #[test]
    fn keeps_by_exact_text_and_evicts_the_least_recently_used() {
        let cache = ParsedDocuments::new(2);
        let (a, b, c) = ("{ a }", "{ b }", "{ c }");
        cache.put(a, &parse(a));
        cache.put(b, &parse(b));
        assert!(cache.get(a).is_some());
        assert!(cache.get("{ a } ").is_none(), "only the exact text matches");
        cache.put(c, &parse(c));
        assert!(cache.get(b).is_none(), "b was the least recently used");
        assert!(cache.get(a).is_some() && cache.get(c).is_some());
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn does_not_keep_long_texts() {
        let cache = ParsedDocuments::new(4);
        let long = format!("{{ a {} }}", " ".repeat(MAX_TEXT_BYTES));
        cache.put(&long, &parse(&long));
        assert!(cache.is_empty());
    }
}
