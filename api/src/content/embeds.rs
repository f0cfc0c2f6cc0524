//! Media items shown by documents' Markdown (`![alt](media:12)`, `[text](media:12)`):
//! rendering a text with them, and recording which document shows which item
//! (`media_uses`), so that an item's users are known, an item is public exactly while a
//! published document shows it, and documents are rendered again when an item changes.

use std::collections::{BTreeSet, HashMap};

use entity::{condition, media, media_use, side_effect, topic};
use sea_orm::sea_query::{Expr, LockType};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::document::Document;
use super::media::variant_sizes;
use crate::errors::{ApiError, ApiResult};
use crate::markdown::{self, Embed};
use crate::media::Addresses;

/// A text rendered with the media items it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The sanitized HTML.
    pub html: String,
    /// The items it shows (those named that exist).
    pub media: BTreeSet<i32>,
}

/// How a text naming an item that does not exist is taken.
#[derive(Debug, Clone, Copy)]
pub enum Missing {
    /// Refused with `BAD_USER_INPUT` at this field: an editor's new text.
    Refuse(&'static str),
    /// Rendered without it: a restored revision, an import, a text rendered again after
    /// an item was deleted.
    Skip,
}

/// Renders `text`, showing the media items it names with their addresses.
pub async fn render<C: ConnectionTrait>(
    conn: &C,
    addresses: &Addresses,
    text: &str,
    missing: Missing,
) -> ApiResult<Rendered> {
    let ids = markdown::media_ids(text);
    if ids.is_empty() {
        return Ok(Rendered {
            html: markdown::to_safe_html(text),
            media: BTreeSet::new(),
        });
    }
    // Held until a save commits, as `media::ensure_image` holds a hero image.
    let items = media::Entity::find()
        .filter(media::Column::Id.is_in(ids.iter().copied()))
        .lock(LockType::KeyShare)
        .all(conn)
        .await?;
    if let Missing::Refuse(field) = missing
        && let Some(absent) = ids.iter().find(|id| !items.iter().any(|m| m.id == **id))
    {
        return Err(ApiError::bad_input(
            field,
            format!("`media:{absent}` names no media item of the library"),
        ));
    }
    let embeds: HashMap<i32, Embed> = items
        .iter()
        .map(|item| (item.id, embed(addresses, item)))
        .collect();
    Ok(Rendered {
        html: markdown::render(text, &embeds),
        media: embeds.keys().copied().collect(),
    })
}

/// How `item` renders: its public addresses (never signed: stored HTML is the same for
/// every reader), size, variants and alt text.
fn embed(addresses: &Addresses, item: &media::Model) -> Embed {
    let hash = &item.content_hash;
    let srcset = variant_sizes(item)
        .into_iter()
        .map(|(width, _)| format!("{} {width}w", addresses.variant_url(hash, width, None)))
        .collect::<Vec<_>>()
        .join(", ");
    Embed {
        src: addresses.url(hash, &item.extension, None),
        size: super::media::dimensions(item),
        srcset,
        alt: item.alt.clone(),
    }
}

/// Records that document `id` of `E` shows exactly `media` (replacing what it showed).
pub async fn record<E: Document, C: ConnectionTrait>(
    conn: &C,
    id: i32,
    media: &BTreeSet<i32>,
) -> ApiResult<()> {
    forget::<E, C>(conn, id).await?;
    if media.is_empty() {
        return Ok(());
    }
    media_use::Entity::insert_many(media.iter().map(|media_id| media_use::ActiveModel {
        media_id: Set(*media_id),
        document_type: Set(E::KIND.to_owned()),
        document_id: Set(id),
    }))
    .exec(conn)
    .await?;
    Ok(())
}

/// Forgets what document `id` of `E` shows (it is deleted).
pub async fn forget<E: Document, C: ConnectionTrait>(conn: &C, id: i32) -> ApiResult<()> {
    media_use::Entity::delete_many()
        .filter(media_use::Column::DocumentType.eq(E::KIND))
        .filter(media_use::Column::DocumentId.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// The documents that show item `media_id`, as (type, id).
pub async fn shown_by<C: ConnectionTrait>(
    conn: &C,
    media_id: i32,
) -> ApiResult<Vec<(String, i32)>> {
    Ok(media_use::Entity::find()
        .select_only()
        .column(media_use::Column::DocumentType)
        .column(media_use::Column::DocumentId)
        .filter(media_use::Column::MediaId.eq(media_id))
        .into_tuple()
        .all(conn)
        .await?)
}

/// Renders again the text of `documents` (as [`shown_by`] gives them: an item they show
/// changed its alt text, or was deleted), storing the new HTML and what they now show.
/// Returns the documents whose HTML changed.
pub async fn render_again<C: ConnectionTrait>(
    conn: &C,
    addresses: &Addresses,
    documents: &[(String, i32)],
) -> ApiResult<Vec<(&'static str, i32)>> {
    let mut changed = Vec::new();
    for (kind, id) in documents {
        let again = match kind.as_str() {
            k if k == topic::Entity::KIND => {
                render_again_one::<topic::Entity, C>(conn, addresses, *id).await?
            }
            k if k == condition::Entity::KIND => {
                render_again_one::<condition::Entity, C>(conn, addresses, *id).await?
            }
            k if k == side_effect::Entity::KIND => {
                render_again_one::<side_effect::Entity, C>(conn, addresses, *id).await?
            }
            _ => None,
        };
        changed.extend(again);
    }
    Ok(changed)
}

async fn render_again_one<E: Document, C: ConnectionTrait>(
    conn: &C,
    addresses: &Addresses,
    id: i32,
) -> ApiResult<Option<(&'static str, i32)>> {
    let row: Option<(String, Option<String>)> = E::find()
        .select_only()
        .column(E::TEXT)
        .column(E::HTML)
        .filter(E::ID.eq(id))
        .into_tuple()
        .one(conn)
        .await?;
    let Some((text, html)) = row else {
        return Ok(None);
    };
    let rendered = render(conn, addresses, &text, Missing::Skip).await?;
    record::<E, C>(conn, id, &rendered.media).await?;
    if html.as_deref() == Some(rendered.html.as_str()) {
        return Ok(None);
    }
    E::update_many()
        .col_expr(E::HTML, Expr::value(rendered.html))
        .filter(E::ID.eq(id))
        .exec(conn)
        .await?;
    Ok(Some((E::KIND, id)))
}
