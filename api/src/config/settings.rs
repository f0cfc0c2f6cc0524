//! Settings that other modules act on, as plain data: configuration builds them, and
//! `auth`, `graphql` and `http` read them (configuration knows none of those modules).

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;

/// The deepest nesting `QueryLimits::max_nesting` may be set to: what validation and
/// execution, which recurse over the parsed document, are tested with on a worker thread's
/// stack (tests/e2e/nesting.rs).
pub const MAX_NESTING: usize = 128;

/// Shortest accepted `DERMIS_JWT_SECRET`, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// What a request may cost. Every value is configurable (`DERMIS_MAX_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryLimits {
    /// Deepest field nesting, counting the root field as 1.
    pub max_depth: usize,
    /// Deepest nesting of brackets (selection sets, argument lists, list and object
    /// values, list types), checked before the document is parsed.
    pub max_nesting: usize,
    /// Largest weighted complexity.
    pub max_complexity: usize,
    /// Most aliased fields in the operation, fragments expanded.
    pub max_aliases: usize,
    /// Most fields at the root of the operation.
    pub max_root_fields: usize,
    /// Longest query document, in bytes.
    pub max_document_bytes: usize,
    /// Largest `variables` object, in bytes of JSON.
    pub max_variables_bytes: usize,
    /// Whether `__schema` and `__type` may be queried.
    pub introspection: bool,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_depth: 15,
            max_nesting: 32,
            max_complexity: 20_000,
            max_aliases: 30,
            max_root_fields: 20,
            max_document_bytes: 64 * 1024,
            max_variables_bytes: 512 * 1024,
            introspection: true,
        }
    }
}

/// Lifetimes and limits of authentication.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Lifetime of an access token.
    pub access_ttl: Duration,
    /// Lifetime of a refresh token.
    pub refresh_ttl: Duration,
    /// How long an exchanged refresh token still returns its successor.
    pub refresh_reuse_interval: Duration,
    /// Lifetime of a preview link's token.
    pub preview_ttl: Duration,
    /// The frontend's preview address, with `{token}`, `{slug}`, `{id}`, `{type}`.
    pub preview_url: Option<String>,
    /// Days from a medical approval to the next review's due date (what the approval
    /// entitles, like the other lifetimes here).
    pub review_interval_days: u64,
    /// Login throttle.
    pub throttle: ThrottleSettings,
}

/// Throttle limits.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    /// Failures allowed per account within `window`.
    pub per_account: u64,
    /// Failures allowed per client address within `window`.
    pub per_client: u64,
    /// The sliding window.
    pub window: Duration,
}

/// Parses `DERMIS_TRUSTED_PROXIES`: a comma-separated list of addresses and CIDR ranges
/// (`10.0.0.0/8, ::1`); the entry that is neither on failure.
pub fn parse_networks(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| item.to_owned())
        })
        .collect()
}

/// How long an entry may be answered.
#[derive(Debug, Clone, Copy)]
pub struct CacheAges {
    /// The last resort against a missed announcement: an entry older than this is read
    /// again, whatever was announced.
    pub max_age: Duration,
    /// While the database cannot be reached, entries (distrusted ones too) younger than
    /// this are answered, marked stale; zero: never.
    pub stale_while_unavailable: Duration,
}

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Deliver to loopback, private and link-local addresses too (tests, internal networks).
    pub allow_private: bool,
    /// The waits before the second, third, ... attempt; after the last, a delivery fails.
    pub retry_schedule: Vec<Duration>,
    /// How long one attempt may take.
    pub timeout: Duration,
}

/// The default waits between attempts: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (eight
/// attempts over about 28 hours).
pub const DEFAULT_RETRY_SCHEDULE: [u64; 7] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            retry_schedule: DEFAULT_RETRY_SCHEDULE
                .iter()
                .map(|s| Duration::from_secs(*s))
                .collect(),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Limits and timings of GraphQL over WebSocket (subscriptions).
#[derive(Debug, Clone)]
pub struct SocketSettings {
    /// Open sockets per client address (an IPv6 client by its /64).
    pub max_per_client: usize,
    /// Open sockets per node.
    pub max_per_node: usize,
    /// Operations (subscriptions, and queries in flight) per socket.
    pub max_operations: usize,
    /// How long a new socket may take to send `connection_init`.
    pub init_timeout: Duration,
    /// How often the server pings; a client silent for three times this is dropped.
    pub keepalive: Duration,
    /// How often an idle socket's credential is checked again (a revoked or expired one
    /// closes the socket); content is only sent after a check made since it was produced.
    pub recheck: Duration,
}

impl Default for SocketSettings {
    fn default() -> Self {
        Self {
            max_per_client: 20,
            max_per_node: 10_000,
            max_operations: 50,
            init_timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(15),
            recheck: Duration::from_secs(5),
        }
    }
}

/// Where media bytes are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaLocation {
    /// A local folder.
    Folder(std::path::PathBuf),
    /// An S3-compatible bucket, under a key prefix (may be empty).
    S3 {
        /// The bucket.
        bucket: String,
        /// The key prefix, without slashes at its ends.
        prefix: String,
    },
}

/// The media library's storage and limits.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    /// `DERMIS_MEDIA_URL`, checked to parse ([`MediaLocation::parse`]); the default folder
    /// depends on the database file, known once it is open.
    pub url: Option<String>,
    /// Largest upload, in bytes.
    pub max_bytes: usize,
    /// Most pixels of an image.
    pub max_pixels: u64,
    /// Prefix of the addresses `Media.url` gives (a CDN in front of `/media`, say); empty:
    /// addresses are paths on this server (`/media/...`).
    pub public_base: String,
}

impl MediaSettings {
    /// Where the bytes are kept, for a database whose SQLite file (if any) is `sqlite_file`.
    pub fn location(&self, sqlite_file: Option<&std::path::Path>) -> MediaLocation {
        MediaLocation::resolve(self.url.as_deref(), sqlite_file)
    }
}

impl MediaLocation {
    /// Where the bytes are kept for `DERMIS_MEDIA_URL` = `url` (checked to parse before)
    /// and a database whose SQLite file (if any) is `sqlite_file`.
    pub fn resolve(url: Option<&str>, sqlite_file: Option<&std::path::Path>) -> Self {
        Self::parse(url, sqlite_file).unwrap_or_else(|| Self::Folder("dermis-media".into()))
    }

    /// Reads `DERMIS_MEDIA_URL`: `s3://bucket/prefix`, `file:///path`, or a path. Without
    /// one: a `dermis-media` folder beside a SQLite database file, else in the working
    /// directory.
    pub fn parse(value: Option<&str>, sqlite_file: Option<&std::path::Path>) -> Option<Self> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => {
                let folder = sqlite_file.and_then(std::path::Path::parent).map_or_else(
                    || std::path::PathBuf::from("."),
                    std::path::Path::to_path_buf,
                );
                Some(Self::Folder(folder.join("dermis-media")))
            }
            Some(url) => {
                if let Some(rest) = url.strip_prefix("s3://") {
                    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                    (!bucket.is_empty()).then(|| Self::S3 {
                        bucket: bucket.to_owned(),
                        prefix: prefix.trim_matches('/').to_owned(),
                    })
                } else if let Some(path) = url.strip_prefix("file://") {
                    (!path.is_empty()).then(|| Self::Folder(path.into()))
                } else if url.contains("://") {
                    None
                } else {
                    Some(Self::Folder(url.into()))
                }
            }
        }
    }
}

#[cfg(test)]
mod media_location_tests {
    use super::MediaLocation;
    use std::path::Path;

    #[test]
    fn media_locations_parse() {
        assert_eq!(
            MediaLocation::parse(None, Some(Path::new("/srv/data/dermis.db"))),
            Some(MediaLocation::Folder("/srv/data/dermis-media".into()))
        );
        assert_eq!(
            MediaLocation::parse(Some("s3://bucket/a/b/"), None),
            Some(MediaLocation::S3 {
                bucket: "bucket".into(),
                prefix: "a/b".into()
            })
        );
        assert_eq!(
            MediaLocation::parse(Some("file:///m"), None),
            Some(MediaLocation::Folder("/m".into()))
        );
        assert_eq!(MediaLocation::parse(Some("ftp://x"), None), None);
        assert_eq!(MediaLocation::parse(Some("s3://"), None), None);
    }
}
