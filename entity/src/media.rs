//! An uploaded image or file of the media library.

use sea_orm::entity::prelude::*;

/// A row of `media`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "media")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// SHA-256 of the stored bytes, in hex: the object's name in the media store.
    pub content_hash: String,
    /// The type sniffed from the bytes (`image/jpeg`, `application/pdf`, ...).
    pub mime_type: String,
    /// The file extension of that type, without the dot.
    pub extension: String,
    /// The uploaded file's name, for editors.
    pub filename: String,
    /// Size of the stored bytes.
    pub byte_size: i64,
    /// Pixel width, for images.
    pub width: Option<i32>,
    /// Pixel height, for images.
    pub height: Option<i32>,
    /// `#rrggbb`, for images: a placeholder colour while the image loads.
    pub dominant_color: Option<String>,
    /// Alternative text (required for images).
    #[sea_orm(column_type = "Text")]
    pub alt: String,
    #[sea_orm(column_type = "Text")]
    pub caption: String,
    /// Raised by every change of alt text or caption.
    pub version: i32,
    pub created_by: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Media items have no navigable relations here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
