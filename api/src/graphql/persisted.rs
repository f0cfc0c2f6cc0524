//! Automatic persisted queries: the Apollo APQ protocol, with async-graphql's
//! `LruCacheStorage` (from its `ApolloPersistedQueries` extension) holding the documents.
//!
//! A client sends `extensions.persistedQuery = { version: 1, sha256Hash }` without the
//! query; on `PERSISTED_QUERY_NOT_FOUND` it sends query and hash together once, and from
//! then on the hash alone (also over `GET`, which CDNs can cache). The protocol runs here,
//! before the query limits, instead of inside the extension at execution: a persisted
//! document is checked against the limits when it is registered and again on every use.
//! Each node keeps its own store; a node that has not seen a hash asks for the query.

use async_graphql::extensions::apollo_persisted_queries::{CacheStorage, LruCacheStorage};
use async_graphql::parser::types::ExecutableDocument;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// What a request's `extensions.persistedQuery` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistedQuery {
    /// The lower-case hex SHA-256 of the query text.
    pub hash: String,
}

impl PersistedQuery {
    /// Reads `extensions.persistedQuery`, if any.
    pub fn from_extensions(extensions: Option<&Value>) -> Result<Option<Self>, &'static str> {
        let Some(persisted) = extensions.and_then(|e| e.get("persistedQuery")) else {
            return Ok(None);
        };
        if persisted.get("version").and_then(Value::as_i64) != Some(1) {
            return Err("`extensions.persistedQuery.version` must be 1");
        }
        let hash = persisted
            .get("sha256Hash")
            .and_then(Value::as_str)
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or("`extensions.persistedQuery.sha256Hash` must be 64 hex digits")?;
        Ok(Some(Self {
            hash: hash.to_ascii_lowercase(),
        }))
    }

    /// Whether `query` is the text this hash names.
    pub fn matches(&self, query: &str) -> bool {
        let digest = Sha256::digest(query.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        hex == self.hash
    }
}

/// The documents registered so far, by hash.
#[derive(Clone)]
pub struct PersistedQueries(LruCacheStorage);

impl std::fmt::Debug for PersistedQueries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersistedQueries").finish_non_exhaustive()
    }
}

impl PersistedQueries {
    /// A store of at most `capacity` documents (least recently used go first).
    pub fn new(capacity: usize) -> Self {
        Self(LruCacheStorage::new(capacity.max(1)))
    }

    /// The document registered under `hash`.
    pub async fn get(&self, hash: &str) -> Option<ExecutableDocument> {
        self.0.get(hash.to_owned()).await
    }

    /// Registers a document that passed the limits.
    pub async fn set(&self, hash: &str, document: ExecutableDocument) {
        self.0.set(hash.to_owned(), document).await;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_and_checks_the_extension() {
        let hash = "ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38";
        let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
        let persisted = PersistedQuery::from_extensions(Some(&ext))
            .expect("valid")
            .expect("present");
        assert_eq!(persisted.hash, hash);
        assert_eq!(PersistedQuery::from_extensions(None), Ok(None));
        let bad = json!({ "persistedQuery": { "version": 2, "sha256Hash": hash } });
        assert!(PersistedQuery::from_extensions(Some(&bad)).is_err());
        let bad = json!({ "persistedQuery": { "version": 1, "sha256Hash": "xyz" } });
        assert!(PersistedQuery::from_extensions(Some(&bad)).is_err());
        let own = PersistedQuery {
            hash: Sha256::digest(b"{ a }")
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        };
        assert!(own.matches("{ a }"));
        assert!(!own.matches("{ b }"));
    }
}
