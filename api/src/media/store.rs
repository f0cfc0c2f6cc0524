//! Where media bytes live: a local folder, or S3-compatible object storage, behind
//! `object_store`'s one interface. Objects are named by content hash, so they are written
//! once and never change; several nodes share one bucket (or one shared folder).

use std::ops::Range;
use std::sync::Arc;

use actix_web::web::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload};

use super::MediaError;
use crate::config::settings::MediaLocation;

/// The media store.
#[derive(Clone)]
pub struct MediaStore {
    store: Arc<dyn ObjectStore>,
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
        Ok(Self { store })
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
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = match self.store.get_opts(&Path::from(name), options).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(storage(e)),
        };
        Ok(Some(Fetched {
            size: result.meta.size,
            range: result.range.clone(),
            body: result.into_stream().map_err(storage).boxed(),
        }))
    }

    /// The size of `name`, `None` when there is no such object.
    pub async fn size(&self, name: &str) -> Result<Option<u64>, MediaError> {
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

/// The object name of an image's variant `width` pixels wide (always WebP).
pub fn variant(content_hash: &str, width: u32) -> String {
    format!("variants/{content_hash}/{width}.webp")
}
