//! The media library's rows: creating, describing, listing and deleting items, and who
//! uses them (a topic's hero image, documents whose Markdown shows them: `content::embeds`).
//! The bytes are `media::MediaStore`'s.
//!
//! Visibility: an item is public while published content uses it; otherwise only signed-in
//! users (through signed addresses) get its bytes.

use entity::{condition, media, media_use, side_effect, topic};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LockType, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::Author;
use super::document::Document;
use super::edit::document_ref;
use super::embeds;
use super::read_model::public_status;
use super::validate::{self, FieldError, InputError};
use crate::db::now;
use crate::errors::{ApiError, ApiResult, ConflictReason, DocumentRef};
use crate::media::{Addresses, MediaType, Processed, process};

/// Longest alt text.
pub const MAX_ALT: usize = 1_000;
/// Longest caption.
pub const MAX_CAPTION: usize = 2_000;
/// Longest kept file name.
const MAX_FILENAME: usize = 255;

/// An image's pixel size.
pub fn dimensions(item: &media::Model) -> Option<(u32, u32)> {
    let width = u32::try_from(item.width?).ok()?;
    let height = u32::try_from(item.height?).ok()?;
    Some((width, height))
}

/// The (width, height) of a still image's variants, narrowest first; none for animations
/// and files.
pub fn variant_sizes(item: &media::Model) -> Vec<(u32, u32)> {
    match dimensions(item) {
        Some((width, height))
            if MediaType::from_mime(&item.mime_type).is_some_and(MediaType::has_variants) =>
        {
            process::variant_sizes(width, height)
        }
        _ => Vec::new(),
    }
}

/// Alt text: required for images (screen readers read it), optional for files.
pub fn alt(value: &str, is_image: bool, field: &str) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() && is_image {
        return Err(FieldError::new(field, InputError::Required));
    }
    validate::max_chars(value, field, MAX_ALT)?;
    Ok(value.to_owned())
}

/// A caption, trimmed.
pub fn caption(value: &str, field: &str) -> Result<String, FieldError> {
    let value = value.trim();
    validate::max_chars(value, field, MAX_CAPTION)?;
    Ok(value.to_owned())
}

/// The uploaded file's name as kept: its last path segment, without control characters,
/// at most 255 characters.
pub fn filename(value: &str) -> String {
    let last = value.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_FILENAME)
        .collect();
    let clean = clean.trim();
    if clean.is_empty() {
        "upload".to_owned()
    } else {
        clean.to_owned()
    }
}

/// Refuses `id` as a hero image unless it is an image of the library (`BAD_USER_INPUT` at
/// `field`).
pub async fn ensure_image<C: ConnectionTrait>(db: &C, id: i32, field: &str) -> ApiResult<()> {
    // Held until the save commits, so a concurrent `deleteMedia` waits and then sees the
    // use (or deleted first, and this finds no item): never a hero image lost in between.
    let item = media::Entity::find_by_id(id)
        .lock(LockType::KeyShare)
        .one(db)
        .await?;
    match item {
        Some(item) if item.width.is_some() => Ok(()),
        Some(_) => Err(ApiError::bad_input(
            field,
            format!("media item {id} is not an image"),
        )),
        None => Err(ApiError::bad_input(
            field,
            format!("no media item with id {id}"),
        )),
    }
}

/// Records an upload whose bytes are stored.
pub async fn create(
    db: &DatabaseConnection,
    processed: &Processed,
    filename: String,
    alt: String,
    caption: String,
    author: Author,
) -> ApiResult<media::Model> {
    let at = now();
    let (width, height) = processed.dimensions.unzip();
    let dimension = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    let txn = crate::db::begin_content_write(db).await?;
    let model = media::ActiveModel {
        content_hash: Set(processed.content_hash.clone()),
        mime_type: Set(processed.media_type.mime().to_owned()),
        extension: Set(processed.media_type.extension().to_owned()),
        filename: Set(filename),
        byte_size: Set(i64::try_from(processed.bytes.len()).unwrap_or(i64::MAX)),
        width: Set(width.map(dimension)),
        height: Set(height.map(dimension)),
        dominant_color: Set(processed.dominant_color.clone()),
        alt: Set(alt),
        caption: Set(caption),
        version: Set(1),
        created_by: Set(Some(author.user)),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// The item with `id`.
pub async fn find<C: ConnectionTrait>(db: &C, id: i32) -> ApiResult<media::Model> {
    media::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no media item with id {id}")))
}

/// Changes an item's alt text and caption at `expected` version; documents that show it
/// are rendered again (their HTML carries its alt text).
pub async fn describe(
    db: &DatabaseConnection,
    addresses: &Addresses,
    id: i32,
    expected: i32,
    alt: Option<String>,
    caption: Option<String>,
) -> ApiResult<media::Model> {
    let txn = crate::db::begin_content_write(db).await?;
    let current = find(&txn, id).await?;
    if current.version != expected {
        return Err(ApiError::stale("media item", current.version));
    }
    let is_image = current.width.is_some();
    let alt = alt
        .map(|value| self::alt(&value, is_image, "input.alt"))
        .transpose()?;
    let caption = caption
        .map(|value| self::caption(&value, "input.caption"))
        .transpose()?;
    if alt.as_ref().is_none_or(|a| *a == current.alt)
        && caption.as_ref().is_none_or(|c| *c == current.caption)
    {
        // Nothing changes: no new version.
        return Ok(current);
    }
    let mut model: media::ActiveModel = current.clone().into();
    if let Some(alt) = alt {
        model.alt = Set(alt);
    }
    if let Some(caption) = caption {
        model.caption = Set(caption);
    }
    model.version = Set(current.version + 1);
    model.updated_at = Set(now());
    let updated = model.update(&txn).await?;
    let shown_by = embeds::shown_by(&txn, id).await?;
    embeds::render_again(&txn, addresses, &shown_by).await?;
    txn.commit().await?;
    Ok(updated)
}

/// An item deleted; `orphaned` when no other row holds its bytes (the caller removes them).
#[derive(Debug)]
pub struct Deleted {
    /// The row as it was.
    pub item: media::Model,
    /// Whether its stored object is no longer used by any row.
    pub orphaned: bool,
}

/// Deletes an item, unless published content uses it (`CONFLICT`, `IN_USE`, naming the
/// documents); drafts that use it lose it (their HTML is rendered again without it).
pub async fn delete(db: &DatabaseConnection, addresses: &Addresses, id: i32) -> ApiResult<Deleted> {
    let txn = crate::db::begin_content_write(db).await?;
    // Locked first: a save pointing at the item holds it (`ensure_image`, `embeds::render`)
    // until it commits, and the uses read below come after that commit.
    let item = media::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no media item with id {id}")))?;
    let published = users(&txn, id, true).await?;
    if !published.is_empty() {
        return Err(ApiError::Conflict {
            reason: ConflictReason::InUse,
            message: format!(
                "published content uses this media item ({}): change or unpublish it first",
                published
                    .iter()
                    .map(|d| d.slug.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            current_version: None,
            documents: published,
        });
    }
    let shown_by = embeds::shown_by(&txn, id).await?;
    media::Entity::delete_by_id(id).exec(&txn).await?;
    embeds::render_again(&txn, addresses, &shown_by).await?;
    let others = media::Entity::find()
        .filter(media::Column::ContentHash.eq(item.content_hash.clone()))
        .count(&txn)
        .await?;
    txn.commit().await?;
    Ok(Deleted {
        item,
        orphaned: others == 0,
    })
}

/// The documents that use item `id` (only published ones when `published_only`): topics
/// with it as hero image, then documents whose Markdown shows it.
pub async fn users<C: ConnectionTrait>(
    db: &C,
    id: i32,
    published_only: bool,
) -> ApiResult<Vec<DocumentRef>> {
    let mut query = topic::Entity::find()
        .filter(topic::Column::ImageId.eq(id))
        .order_by_asc(topic::Column::Id);
    if published_only {
        query = query.filter(topic::Column::Status.eq(super::read_model::PUBLIC_STATUS));
    }
    let mut users: Vec<DocumentRef> = query
        .all(db)
        .await?
        .iter()
        .map(document_ref::<topic::Entity>)
        .collect();
    for user in showing::<topic::Entity, C>(db, id, published_only)
        .await?
        .iter()
        .map(document_ref::<topic::Entity>)
    {
        if !users.iter().any(|u| u.kind == user.kind && u.id == user.id) {
            users.push(user);
        }
    }
    users.extend(
        showing::<condition::Entity, C>(db, id, published_only)
            .await?
            .iter()
            .map(document_ref::<condition::Entity>),
    );
    users.extend(
        showing::<side_effect::Entity, C>(db, id, published_only)
            .await?
            .iter()
            .map(document_ref::<side_effect::Entity>),
    );
    Ok(users)
}

/// The documents of `E` whose Markdown shows item `id`.
async fn showing<E: Document, C: ConnectionTrait>(
    db: &C,
    id: i32,
    published_only: bool,
) -> ApiResult<Vec<E::Model>> {
    let mut query = E::find()
        .filter(
            E::ID.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(media_use::Column::DocumentId)
                    .from(media_use::Entity)
                    .and_where(media_use::Column::MediaId.eq(id))
                    .and_where(media_use::Column::DocumentType.eq(E::KIND))
                    .to_owned(),
            ),
        )
        .order_by_asc(E::ID);
    if published_only {
        query = query.filter(E::STATUS.eq(super::read_model::PUBLIC_STATUS));
    }
    Ok(query.all(db).await?)
}

/// Whether anonymous callers may fetch the bytes named `content_hash`: published content
/// uses an item holding them (as a hero image, or in its Markdown).
pub async fn is_public(db: &DatabaseConnection, content_hash: &str) -> ApiResult<bool> {
    // One statement (it runs for every anonymous fetch of an image).
    let hero = Query::select()
        .expr(Expr::val(1))
        .from(topic::Entity)
        .and_where(
            Expr::col((topic::Entity, topic::Column::ImageId))
                .equals((media::Entity, media::Column::Id)),
        )
        .and_where(Expr::col((topic::Entity, topic::Column::Status)).eq(public_status()))
        .to_owned();
    let found = media::Entity::find()
        .select_only()
        .column(media::Column::Id)
        .filter(media::Column::ContentHash.eq(content_hash))
        .filter(
            Condition::any()
                .add(Expr::exists(hero))
                .add(Expr::exists(published_showing::<topic::Entity>()))
                .add(Expr::exists(published_showing::<condition::Entity>()))
                .add(Expr::exists(published_showing::<side_effect::Entity>())),
        )
        .limit(1)
        .into_tuple::<i32>()
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// The published documents of `E` whose Markdown shows the outer query's media item.
fn published_showing<E: Document + Default>() -> SelectStatement {
    Query::select()
        .expr(Expr::val(1))
        .from(media_use::Entity)
        .inner_join(
            E::default(),
            Expr::col((E::default(), E::ID))
                .equals((media_use::Entity, media_use::Column::DocumentId)),
        )
        .and_where(
            Expr::col((media_use::Entity, media_use::Column::MediaId))
                .equals((media::Entity, media::Column::Id)),
        )
        .and_where(Expr::col((media_use::Entity, media_use::Column::DocumentType)).eq(E::KIND))
        .and_where(Expr::col((E::default(), E::STATUS)).eq(public_status()))
        .to_owned()
}

/// The item holding the bytes `content_hash` stored as `extension` (the oldest, when the
/// same file was uploaded twice).
pub async fn by_hash(
    db: &DatabaseConnection,
    content_hash: &str,
    extension: &str,
) -> ApiResult<Option<media::Model>> {
    Ok(media::Entity::find()
        .filter(media::Column::ContentHash.eq(content_hash))
        .filter(media::Column::Extension.eq(extension))
        .order_by_asc(media::Column::Id)
        .one(db)
        .await?)
}

/// A page of the library, newest first.
#[derive(Debug)]
pub struct Listed {
    /// The items.
    pub items: Vec<media::Model>,
    /// Whether older items follow.
    pub has_more: bool,
    /// How many items match, across pages.
    pub total: u64,
}

/// Lists items newest first: `limit` after item `after` (its id), matching `search` in the
/// file name, alt text or caption (any case).
pub async fn list(
    db: &DatabaseConnection,
    search: Option<&str>,
    limit: u64,
    after: Option<i32>,
) -> ApiResult<Listed> {
    let mut filter = Condition::all();
    if let Some(search) = search.map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        let like = |column: media::Column| {
            Expr::expr(Func::lower(Expr::col(column)))
                .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\'))
        };
        filter = filter.add(
            Condition::any()
                .add(like(media::Column::Filename))
                .add(like(media::Column::Alt))
                .add(like(media::Column::Caption)),
        );
    }
    let total = media::Entity::find()
        .filter(filter.clone())
        .count(db)
        .await?;
    let mut page = filter;
    if let Some(after) = after {
        page = page.add(media::Column::Id.lt(after));
    }
    let mut items = media::Entity::find()
        .filter(page)
        .order_by_desc(media::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let has_more = items.len() as u64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(Listed {
        items,
        has_more,
        total,
    })
}

/// `text` with LIKE's wildcards taken literally.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
