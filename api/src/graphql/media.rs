//! The media library in the API: the `Media` type, `uploadMedia` (GraphQL multipart
//! request spec), `updateMedia`, `deleteMedia`, and the `media` list.

use std::borrow::Cow;
use std::io::{Read, Seek};

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::media;

use super::context::{auth, media_addresses, media_library, request};
use super::enums::ContentStatus;
use super::guard::RoleGuard;
use super::types::{DocumentType, User};
use crate::content::media as library;
use crate::content::validate;
use crate::errors::{ApiError, ApiResult, DocumentRef};
use crate::media::store;

/// The query that signs the address of object `name` for this caller, or `None` when the
/// caller gets public addresses.
fn signature(ctx: &Context<'_>, name: &str) -> ApiResult<Option<String>> {
    let (request, _) = request(ctx)?;
    if !request.viewer.sees_drafts() {
        return Ok(None);
    }
    Ok(Some(auth(ctx)?.media_link_query(name)))
}

/// Stored HTML as this reader gets it: for readers of drafts (`drafts`), every media
/// address in it signed, so that the items a draft shows, which the public may not fetch
/// yet, load in an editor's preview; as stored for everyone else.
pub fn html_for<'a>(
    ctx: &Context<'_>,
    html: Cow<'a, str>,
    drafts: bool,
) -> ApiResult<Cow<'a, str>> {
    if !drafts || !html.contains("/media/") {
        return Ok(html);
    }
    let auth = auth(ctx)?;
    // The query goes into an HTML attribute, where `&` is written `&amp;`.
    let signed = media_addresses(ctx)?.sign_all(&html, |name| {
        auth.media_link_query(name).replace('&', "&amp;")
    });
    Ok(Cow::Owned(signed))
}

/// The variants of `item`, with addresses for this caller.
fn variants(item: &media::Model, ctx: &Context<'_>) -> ApiResult<Vec<MediaVariant>> {
    let library_ = media_library(ctx)?;
    let hash = &item.content_hash;
    library::variant_sizes(item)
        .into_iter()
        .map(|(width, height)| {
            let query = signature(ctx, &store::variant(hash, width))?;
            Ok(MediaVariant {
                width: i32::try_from(width).unwrap_or(i32::MAX),
                height: i32::try_from(height).unwrap_or(i32::MAX),
                url: library_
                    .addresses
                    .variant_url(hash, width, query.as_deref()),
            })
        })
        .collect()
}

/// What a media item is.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum MediaKind {
    /// A picture (JPEG, PNG, WebP, GIF): it has pixel dimensions and requires alt text.
    Image,
    /// A document (PDF).
    File,
}

/// An image or file of the media library. Its bytes are served at `url`, named by their
/// SHA-256, so they never change there (`Cache-Control: immutable`).
pub struct Media(pub media::Model);

/// An image or file of the media library. Its bytes are served at `url`, named by their
/// SHA-256, so they never change there (`Cache-Control: immutable`).
#[Object]
impl Media {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Where the bytes are served. For signed-in users it carries a signature valid for
    /// one to two hours, so that an item no published content uses yet can be shown to
    /// them; the public gets an item only while published content uses it.
    async fn url(&self, ctx: &Context<'_>) -> ApiResult<String> {
        let name = store::original(&self.0.content_hash, &self.0.extension);
        let query = signature(ctx, &name)?;
        Ok(media_library(ctx)?.addresses.url(
            &self.0.content_hash,
            &self.0.extension,
            query.as_deref(),
        ))
    }

    /// Smaller copies of a still image as WebP, narrowest first: 320, 640 and 1280 pixels
    /// wide where the image is wider, and its own width when it is narrower than 1280.
    /// Made once, at upload. Empty for animations and files.
    async fn variants(&self, ctx: &Context<'_>) -> ApiResult<Vec<MediaVariant>> {
        variants(&self.0, ctx)
    }

    /// The variants as an `<img srcset>` value (`URL 320w, URL 640w, ...`); `widths` keeps
    /// only those widths (each must be one of `variants`). Empty when there are none.
    async fn srcset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only these widths, in pixels; default: every variant.")] widths: Option<
            Vec<i32>,
        >,
    ) -> ApiResult<String> {
        let variants = variants(&self.0, ctx)?;
        if let Some(widths) = &widths
            && let Some(unknown) = widths
                .iter()
                .find(|w| !variants.iter().any(|v| v.width == **w))
        {
            let known: Vec<String> = variants.iter().map(|v| v.width.to_string()).collect();
            return Err(ApiError::bad_input(
                "widths",
                format!(
                    "this image has no {unknown} pixel wide variant (it has: {})",
                    known.join(", ")
                ),
            ));
        }
        Ok(variants
            .iter()
            .filter(|v| widths.as_ref().is_none_or(|w| w.contains(&v.width)))
            .map(|v| format!("{} {}w", v.url, v.width))
            .collect::<Vec<_>>()
            .join(", "))
    }

    /// Image or file.
    async fn kind(&self) -> MediaKind {
        if self.0.width.is_some() {
            MediaKind::Image
        } else {
            MediaKind::File
        }
    }

    /// The media type of the stored file, from the bytes (`image/jpeg`, `image/png`,
    /// `image/webp`, `image/gif`, `application/pdf`; an AVIF upload is kept as WebP).
    async fn mime_type(&self) -> &str {
        &self.0.mime_type
    }

    /// Size of the served bytes.
    async fn byte_size(&self) -> i64 {
        self.0.byte_size
    }

    /// Width in pixels (upright, as displayed); null for files.
    async fn width(&self) -> Option<i32> {
        self.0.width
    }

    /// Height in pixels (upright, as displayed); null for files.
    async fn height(&self) -> Option<i32> {
        self.0.height
    }

    /// The image's average colour as `#rrggbb`: a placeholder while it loads; null for
    /// files.
    async fn dominant_color(&self) -> Option<&str> {
        self.0.dominant_color.as_deref()
    }

    /// Alternative text for people who cannot see the image (required for images).
    async fn alt(&self) -> &str {
        &self.0.alt
    }

    /// A caption to show with it; empty when there is none.
    async fn caption(&self) -> &str {
        &self.0.caption
    }

    /// SHA-256 of the served bytes, in hex.
    async fn content_hash(&self) -> &str {
        &self.0.content_hash
    }

    /// The uploaded file's name (it may name a patient, so only signed-in users and
    /// tokens that read drafts see it).
    #[graphql(guard = "RoleGuard::Drafts")]
    async fn filename(&self) -> &str {
        &self.0.filename
    }

    /// Raised by every change of alt text or caption; pass it as `expectedVersion`.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When it was uploaded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When its description last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Who uploaded it; null for a deleted account.
    #[graphql(guard = "RoleGuard::Drafts")]
    async fn created_by(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        User::account_by_id(ctx, self.0.created_by).await
    }

    /// The documents that use it, drafts included (a topic's hero image).
    #[graphql(guard = "RoleGuard::Drafts")]
    async fn used_by(&self, ctx: &Context<'_>) -> ApiResult<Vec<MediaUse>> {
        let (_, db) = request(ctx)?;
        Ok(library::users(db, self.0.id, false)
            .await?
            .into_iter()
            .map(MediaUse::from)
            .collect())
    }
}

/// A smaller copy of an image, as WebP.
#[derive(SimpleObject)]
pub struct MediaVariant {
    /// Width in pixels.
    pub width: i32,
    /// Height in pixels.
    pub height: i32,
    /// Where it is served (signed for signed-in users, as `Media.url`).
    pub url: String,
}

/// A document that uses a media item.
#[derive(SimpleObject)]
pub struct MediaUse {
    /// The kind of document.
    pub document_type: DocumentType,
    /// Its id.
    pub id: ID,
    /// Its slug.
    pub slug: String,
    /// Its status: a published one keeps the item from being deleted.
    pub status: ContentStatus,
}

impl From<DocumentRef> for MediaUse {
    fn from(document: DocumentRef) -> Self {
        Self {
            document_type: DocumentType::from_kind(&document.kind.to_ascii_lowercase()),
            id: ID(document.id),
            slug: document.slug,
            status: document.status.into(),
        }
    }
}

/// A file to add to the media library.
#[derive(InputObject)]
pub struct UploadMediaInput {
    /// The file, sent as a part of a GraphQL multipart request. JPEG, PNG, WebP, AVIF, GIF
    /// or PDF, judged from its bytes; up to the server's byte and pixel limits. Images are
    /// stored without any metadata (EXIF, GPS, XMP), turned upright first; an AVIF is kept
    /// as WebP.
    pub file: super::upload::FilePart,
    /// Alternative text: required for images.
    #[graphql(default)]
    pub alt: String,
    /// A caption.
    #[graphql(default)]
    pub caption: String,
}

/// A new description of a media item; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateMediaInput {
    /// The item.
    pub id: ID,
    /// The version the change was made on; a stale one gives `CONFLICT`.
    pub expected_version: i32,
    /// Alternative text (cannot be emptied for images).
    pub alt: Option<String>,
    /// A caption.
    pub caption: Option<String>,
}

/// A media item to delete.
#[derive(InputObject)]
pub struct DeleteMediaInput {
    /// The item.
    pub id: ID,
}

/// Result of a media mutation.
#[derive(SimpleObject)]
pub struct MediaPayload {
    /// The item as it is now (as it was, for `deleteMedia`).
    pub media: Media,
}

/// Reads an upload's bytes, at most `max` of them (a multipart part is already bounded
/// by the same limit; this is the check that holds whatever the transport).
fn read_upload(upload: async_graphql::UploadValue, max: usize) -> ApiResult<Vec<u8>> {
    let mut file = upload.content;
    // A clone of the request's file shares its offset with any earlier read.
    file.rewind()
        .map_err(|e| ApiError::Internal(format!("upload unreadable: {e}")))?;
    let mut bytes = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ApiError::Internal(format!("upload unreadable: {e}")))?;
    if bytes.len() > max {
        return Err(crate::media::process::too_many_bytes(max).into());
    }
    Ok(bytes)
}

/// The media library's mutations.
#[derive(Default)]
pub struct MediaMutations;

/// The media library's mutations.
#[Object]
impl MediaMutations {
    /// Adds a file to the media library. Send it as a GraphQL multipart request (the
    /// `Upload` scalar; Apollo's and urql's upload links speak it). Refused with
    /// `UNSUPPORTED_FILE_TYPE` (anything but JPEG, PNG, WebP, AVIF, GIF or PDF, judged from
    /// the bytes; SVG included), `MEDIA_TOO_LARGE` (bytes or pixels, checked before the image
    /// is decoded) or `BAD_USER_INPUT` (damaged file; missing alt text for an image).
    #[graphql(guard = "RoleGuard::ContentWrite")]
    async fn upload_media(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The file and its description.")] input: UploadMediaInput,
    ) -> ApiResult<MediaPayload> {
        let (request, db) = request(ctx)?;
        let author = request.viewer.author()?;
        let library_ = media_library(ctx)?;
        let no_file = |why: String| {
            ApiError::bad_input(
                "input.file",
                format!("no file was sent{why}: send it as a part of a GraphQL multipart request"),
            )
        };
        if input.file.0.0 >= request.uploads {
            return Err(no_file(String::new()));
        }
        let upload = input
            .file
            .0
            .value(ctx)
            .map_err(|e| no_file(format!(" ({e})")))?;
        let filename = library::filename(&upload.filename);
        let caption = library::caption(&input.caption, "input.caption")?;
        let limits = library_.limits;
        let processed = tokio::task::spawn_blocking(move || {
            read_upload(upload, limits.max_bytes)
                .and_then(|bytes| crate::media::process(bytes, limits).map_err(ApiError::from))
        })
        .await
        .map_err(|e| ApiError::Internal(format!("media processing stopped: {e}")))??;
        let alt = library::alt(&input.alt, processed.dimensions.is_some(), "input.alt")?;
        library_.put(&processed).await?;
        let model = library::create(db, &processed, filename, alt, caption, author).await?;
        Ok(MediaPayload {
            media: Media(model),
        })
    }

    /// Changes a media item's alt text or caption (a save without changes writes nothing).
    #[graphql(guard = "RoleGuard::ContentWrite")]
    async fn update_media(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The item and its new description.")] input: UpdateMediaInput,
    ) -> ApiResult<MediaPayload> {
        let (request, db) = request(ctx)?;
        request.viewer.author()?;
        let id = validate::id(&input.id, "input.id")?;
        let model = library::describe(
            db,
            media_addresses(ctx)?,
            id,
            input.expected_version,
            input.alt,
            input.caption,
        )
        .await?;
        Ok(MediaPayload {
            media: Media(model),
        })
    }

    /// Deletes a media item and, unless another item holds the same bytes, its file.
    /// `CONFLICT` (`IN_USE`, with the documents) while published content uses it; drafts
    /// that use it lose it.
    #[graphql(guard = "RoleGuard::ContentWrite")]
    async fn delete_media(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The item.")] input: DeleteMediaInput,
    ) -> ApiResult<MediaPayload> {
        let (request, db) = request(ctx)?;
        request.viewer.author()?;
        let library_ = media_library(ctx)?;
        let id = validate::id(&input.id, "input.id")?;
        let deleted = library::delete(db, media_addresses(ctx)?, id).await?;
        if deleted.orphaned {
            let item = &deleted.item;
            if let Err(e) = library_
                .remove(
                    &item.content_hash,
                    &item.extension,
                    library::dimensions(item),
                )
                .await
            {
                // The row is gone; a file left behind costs space, not correctness.
                tracing::warn!(error = %e, hash = %item.content_hash, "a deleted media item's files stay");
            }
        }
        Ok(MediaPayload {
            media: Media(deleted.item),
        })
    }
}

/// A page of the media library, newest first.
#[derive(SimpleObject)]
pub struct MediaPage {
    /// The items.
    pub items: Vec<Media>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_cursor: Option<ID>,
    /// How many items match, across pages.
    pub total_count: i64,
}

/// The most items one page holds.
const MAX_PAGE: u64 = 100;

/// The media library's queries.
#[derive(Default)]
pub struct MediaQueries;

/// The media library's queries.
#[Object]
impl MediaQueries {
    /// The media library, newest first; `search` matches file names, alt texts and
    /// captions (any case). Signed-in users and tokens that read drafts.
    #[graphql(
        guard = "RoleGuard::Drafts",
        complexity = "crate::graphql::limits::list_cost(child_complexity)"
    )]
    async fn media(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Words to look for.")] search: Option<String>,
        #[graphql(desc = "How many, 1 to 100.", default = 50)] first: i32,
        #[graphql(desc = "The `nextCursor` of the page before.")] after: Option<ID>,
    ) -> ApiResult<MediaPage> {
        let (_, db) = request(ctx)?;
        let limit = u64::try_from(first)
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::bad_input("first", format!("`first` must be 1 to {MAX_PAGE}"))
            })?;
        let after = after
            .map(|cursor| validate::id(&cursor, "after"))
            .transpose()?;
        if let Some(search) = &search {
            validate::max_chars(search, "search", 200)?;
        }
        let listed = library::list(db, search.as_deref(), limit, after).await?;
        let next_cursor = listed
            .has_more
            .then(|| listed.items.last().map(|item| ID(item.id.to_string())))
            .flatten();
        Ok(MediaPage {
            items: listed.items.into_iter().map(Media).collect(),
            next_cursor,
            total_count: i64::try_from(listed.total).unwrap_or(i64::MAX),
        })
    }

    /// One media item, or null when there is none with this id.
    #[graphql(guard = "RoleGuard::Drafts")]
    async fn media_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The item's id.")] id: ID,
    ) -> ApiResult<Option<Media>> {
        let (_, db) = request(ctx)?;
        let id = validate::id(&id, "id")?;
        match library::find(db, id).await {
            Ok(model) => Ok(Some(Media(model))),
            Err(ApiError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
