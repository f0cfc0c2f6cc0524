//! The HTML stored beside every document's Markdown (`topics.body_html`,
//! `conditions.description_html`, `side_effects.description_html`).
//!
//! Every write stores the rendered HTML with the text (`content::write`, `content::edit`).
//! Rows that have none (written before the column existed, or loaded by `dermis import`,
//! whose export leaves derived data out) are rendered by [`fill`], which the server runs
//! before it serves and `dermis import` runs after loading. When the renderer's output
//! changes, [`RENDERER_VERSION`] changes with it and [`fill`] renders every row again.

use chrono::Utc;
use entity::{condition, setting, side_effect, topic};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::document::Document;
use super::embeds::{self, Missing};
use crate::errors::ApiResult;
#[cfg(doc)]
use crate::markdown;
use crate::media::Addresses;

/// The version of [`markdown::render`]'s output. Change it whenever a change of the
/// renderer (its options, ammonia's rules, a crate update that renders differently) should
/// reach the HTML already stored. The stored HTML also carries the media addresses'
/// prefix (`DERMIS_MEDIA_PUBLIC_URL`), which the recorded version includes.
pub const RENDERER_VERSION: &str = "2";

/// The `settings` key that records which renderer version wrote the stored HTML.
const VERSION_KEY: &str = "markdown_renderer_version";

/// Rows rendered per transaction.
const BATCH: u64 = 500;

/// Renders the HTML of every row that has none (every row, when the stored HTML came from
/// another renderer version). Returns how many rows it rendered. Safe to run on several
/// nodes at once: a row is only written while it still has no HTML, so a concurrent
/// editor's save (which stores its own HTML) is never overwritten.
pub async fn fill(db: &DatabaseConnection, addresses: &Addresses) -> ApiResult<u64> {
    let version = format!("{RENDERER_VERSION} {}", addresses.public_base);
    let stored = setting::Entity::find_by_id(VERSION_KEY.to_owned())
        .one(db)
        .await?
        .map(|row| row.value);
    if stored.as_deref().is_some_and(|v| v != version) {
        forget::<topic::Entity>(db).await?;
        forget::<condition::Entity>(db).await?;
        forget::<side_effect::Entity>(db).await?;
    }
    let rendered = fill_table::<topic::Entity>(db, addresses).await?
        + fill_table::<condition::Entity>(db, addresses).await?
        + fill_table::<side_effect::Entity>(db, addresses).await?;
    if stored.as_deref() != Some(version.as_str()) {
        setting::Entity::insert(setting::ActiveModel {
            key: Set(VERSION_KEY.to_owned()),
            value: Set(version),
            updated_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(setting::Column::Key)
                .update_columns([setting::Column::Value, setting::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(db)
        .await?;
    }
    Ok(rendered)
}

/// Drops the stored HTML of every row of `E`, so that [`fill_table`] renders it again.
async fn forget<E: Document>(db: &DatabaseConnection) -> ApiResult<()> {
    E::update_many()
        .col_expr(E::HTML, Expr::value(Option::<String>::None))
        .exec(db)
        .await?;
    Ok(())
}

/// Renders the rows of `E` without HTML, in batches of [`BATCH`] by id.
async fn fill_table<E: Document>(db: &DatabaseConnection, addresses: &Addresses) -> ApiResult<u64> {
    let mut after = 0;
    let mut rendered = 0;
    loop {
        let rows: Vec<(i32, String)> = E::find()
            .select_only()
            .column(E::ID)
            .column(E::TEXT)
            .filter(E::HTML.is_null())
            .filter(E::ID.gt(after))
            .order_by_asc(E::ID)
            .limit(BATCH)
            .into_tuple()
            .all(db)
            .await?;
        let Some(&(last, _)) = rows.last() else {
            return Ok(rendered);
        };
        let txn = crate::db::begin_content_write(db).await?;
        for (id, text) in rows {
            let html = embeds::render(&txn, addresses, &text, Missing::Skip).await?;
            let result = E::update_many()
                .col_expr(E::HTML, Expr::value(html.html))
                .filter(E::ID.eq(id))
                .filter(E::HTML.is_null())
                .exec(&txn)
                .await?;
            // Every write records what its text shows; a row without HTML was loaded
            // without (an import), so only what it shows needs recording.
            if result.rows_affected > 0 && !html.media.is_empty() {
                embeds::record::<E, _>(&txn, id, &html.media).await?;
            }
            rendered += result.rows_affected;
        }
        txn.commit().await?;
        after = last;
    }
}
