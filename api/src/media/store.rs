//! Where media bytes live: a local folder, or S3-compatible object storage, behind
//! `object_store`'s one interface. Objects are named by content hash, so they are written
//! once and never change; several nodes share one bucket (or one shared folder).

use std::ops::Range;
use std::sync::{Arc, Mutex};

use actix_web::web::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use lru::LruCache;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload};

use super::MediaError;
use crate::config::settings::MediaLocation;

/// Objects up to this size are kept in memory once read (variants, most photos).
const SMALL_OBJECT: u64 = 512 * 1024;

/// Memory for small objects, per node.
const MEMORY_BUDGET: usize = 64 * 1024 * 1024;

/// The media store.
#[derive(Clone)]
pub struct MediaStore {
    store: Arc<dyn ObjectStore>,
    memory: Arc<Mutex<Memory>>,
}

/// Small objects read lately, least recently used first out. Objects are named by their
/// content hash and never change, so a copy never goes stale; who may read one is decided
/// before the store is asked.
struct Memory {
    objects: LruCache<String, Bytes>,
    bytes: usize,
}

impl Memory {
    fn get(&mut self, name: &str) -> Option<Bytes> {
        self.objects.get(name).cloned()
    }

    fn put(&mut self, name: &str, bytes: Bytes) {
        self.bytes += bytes.len();
        if let Some(old) = self.objects.put(name.to_owned(), bytes) {
            self.bytes -= old.len();
        }
        while self.bytes > MEMORY_BUDGET {
            match self.objects.pop_lru() {
                Some((_, old)) => self.bytes -= old.len(),
                None => break,
            }
        }
    }

    fn forget(&mut self, name: &str) {
        if let Some(old) = self.objects.pop(name) {
            self.bytes -= old.len();
        }
    }
}

/// `bytes`, or the `range` of them, as a fetched object.
fn from_memory(bytes: &Bytes, range: Option<Range<u64>>) -> Fetched {
    let size = bytes.len() as u64;
    let range = range.unwrap_or(0..size);
    let start = usize::try_from(range.start.min(size)).unwrap_or(0);
    let end = usize::try_from(range.end.min(size))
        .unwrap_or(start)
        .max(start);
    let part = bytes.slice(start..end);
    Fetched {
        size,
        range: start as u64..end as u64,
        body: futures_util::stream::once(async move { Ok(part) }).boxed(),
    }
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MediaStore({})", self.store)
    }
}

/// A stored object's bytes, or a range of them, as a stream.
pub struct Fetched {
    /// The object's whole size.
    pub size: u64,
    /// The bytes sent: the range asked for, or all.
    pub range: Range<u64>,
    /// Those bytes.
    pub body: BoxStream<'static, Result<Bytes, MediaError>>,
}

fn storage(error: object_store::Error) -> MediaError {
    MediaError::Storage(error.to_string())
}

impl MediaStore {
    /// Opens the store at `location` (a folder is created when missing). S3 takes its
    /// credentials, region and endpoint from the usual `AWS_*` variables.
    pub fn open(location: &MediaLocation) -> Result<Self, MediaError> {
        let store: Arc<dyn ObjectStore> = match location {
            MediaLocation::Folder(path) => {
                std::fs::create_dir_all(path).map_err(|e| {
                    MediaError::Storage(format!("cannot create {}: {e}", path.display()))
                })?;
                Arc::new(LocalFileSystem::new_with_prefix(path).map_err(storage)?)
            }
            MediaLocation::S3 { bucket, prefix } => {
                let s3 = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .map_err(storage)?;
                if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(PrefixStore::new(s3, prefix.as_str()))
                }
            }
        };
        Ok(Self {
            store,
            memory: Arc::new(Mutex::new(Memory {
                objects: LruCache::unbounded(),
                bytes: 0,
            })),
        })
    }

    fn remembered(&self, name: &str) -> Option<Bytes> {
        self.memory
            .lock()
            .ok()
            .and_then(|mut memory| memory.get(name))
    }

    /// Stores `bytes` as `name` (an object of that name holds the same bytes already, as
    /// names are content hashes, so writing it again changes nothing).
    pub async fn put(&self, name: &str, bytes: Vec<u8>) -> Result<(), MediaError> {
        self.store
            .put(&Path::from(name), PutPayload::from(bytes))
            .await
            .map_err(storage)?;
        Ok(())
    }

    /// Removes `name`; a missing object is not an error.
    pub async fn delete(&self, name: &str) -> Result<(), MediaError> {
        if let Ok(mut memory) = self.memory.lock() {
            memory.forget(name);
        }
        match self.store.delete(&Path::from(name)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(storage(e)),
        }
    }

    /// Reads `name`, or the bytes of `range` of it; `None` when there is no such object.
    pub async fn get(
        &self,
        name: &str,
        range: Option<Range<u64>>,
    ) -> Result<Option<Fetched>, MediaError> {
        if let Some(bytes) = self.remembered(name) {
            return Ok(Some(from_memory(&bytes, range)));
        }
        let options = GetOptions {
            range: range.clone().map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = match self.store.get_opts(&Path::from(name), options).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(storage(e)),
        };
        if range.is_none() && result.meta.size <= SMALL_OBJECT {
            let bytes = result.bytes().await.map_err(storage)?;
            if let Ok(mut memory) = self.memory.lock() {
                memory.put(name, bytes.clone());
            }
            return Ok(Some(from_memory(&bytes, None)));
        }
        Ok(Some(Fetched {
            size: result.meta.size,
            range: result.range.clone(),
            body: result.into_stream().map_err(storage).boxed(),
        }))
    }

    /// All of `name`'s bytes, without keeping them in memory afterwards (for backups, which
    /// read every object once); `None` when there is no such object.
    pub async fn read(&self, name: &str) -> Result<Option<Vec<u8>>, MediaError> {
        if let Some(bytes) = self.remembered(name) {
            return Ok(Some(bytes.to_vec()));
        }
        match self.store.get(&Path::from(name)).await {
            Ok(result) => Ok(Some(result.bytes().await.map_err(storage)?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(storage(e)),
        }
    }

    /// The size of `name`, `None` when there is no such object.
    pub async fn size(&self, name: &str) -> Result<Option<u64>, MediaError> {
        if let Some(bytes) = self.remembered(name) {
            return Ok(Some(bytes.len() as u64));
        }
        match self.store.head(&Path::from(name)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(storage(e)),
        }
    }
}

/// The object name of an original upload.
pub fn original(content_hash: &str, extension: &str) -> String {
    format!("originals/{content_hash}.{extension}")
}

/// Every object of stored bytes: the original, then, for an image of `dimensions` whose
/// type has variants, each variant.
pub fn objects(content_hash: &str, extension: &str, dimensions: Option<(u32, u32)>) -> Vec<String> {
    let mut names = vec![original(content_hash, extension)];
    if super::MediaType::from_extension(extension).is_some_and(super::MediaType::has_variants)
        && let Some((width, height)) = dimensions
    {
        names.extend(
            super::process::variant_sizes(width, height)
                .into_iter()
                .map(|(w, _)| variant(content_hash, w)),
        );
    }
    names
}

/// The object name of an image's variant `width` pixels wide (always WebP).
pub fn variant(content_hash: &str, width: u32) -> String {
    format!("variants/{content_hash}/{width}.webp")
}
