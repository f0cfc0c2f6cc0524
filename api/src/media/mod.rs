//! The media library's files: what an upload is ([`sniff`]), making an image safe to serve
//! ([`process`]: orientation applied, every metadata block dropped), and where the bytes
//! live ([`store`]: a local folder or S3-compatible storage).
//!
//! Nothing here touches the database; `content::media` keeps the rows.

pub mod address;
mod avif;
pub mod process;
pub mod sniff;
pub mod store;

pub use address::{Addresses, MediaObject};
pub use process::{Processed, process};
pub use sniff::MediaType;
pub use store::MediaStore;

/// Why an upload is refused, or its bytes cannot be kept or read.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// Not one of the accepted types (judged from the bytes).
    #[error("{0}")]
    Unsupported(String),
    /// Over the byte or pixel limit.
    #[error("{0}")]
    TooLarge(String),
    /// Claims to be an accepted type but does not decode.
    #[error("the file could not be read as {0}: it is damaged or not what it claims to be")]
    Damaged(&'static str),
    /// The media store failed (details go to the log).
    #[error("media storage failed: {0}")]
    Storage(String),
}

pub use process::Limits;

/// The media library as the API and the `/media` route use it: the store, the upload
/// limits, and how addresses are spelt.
#[derive(Debug, Clone)]
pub struct MediaLibrary {
    /// Where the bytes are.
    pub store: MediaStore,
    /// Upload limits.
    pub limits: Limits,
    /// How addresses are spelt.
    pub addresses: Addresses,
}

impl MediaLibrary {
    /// Stores an upload's original and variants.
    pub async fn put(&self, processed: &Processed) -> Result<(), MediaError> {
        let hash = &processed.content_hash;
        for variant in &processed.variants {
            self.store
                .put(&store::variant(hash, variant.width), variant.bytes.clone())
                .await?;
        }
        // The original last: an item whose original is stored has its variants too.
        let name = store::original(hash, processed.media_type.extension());
        self.store.put(&name, processed.bytes.clone()).await
    }

    /// Removes the objects of bytes no item holds any more: the original and the variants
    /// of an image of `dimensions`.
    pub async fn remove(
        &self,
        content_hash: &str,
        extension: &str,
        dimensions: Option<(u32, u32)>,
    ) -> Result<(), MediaError> {
        for name in store::objects(content_hash, extension, dimensions) {
            self.store.delete(&name).await?;
        }
        Ok(())
    }
}
