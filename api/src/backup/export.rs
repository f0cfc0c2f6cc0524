//! Writing an archive: every table streamed from one consistent read, then the media
//! objects, so memory stays flat however large the database is.

use std::collections::BTreeSet;
use std::io::Write;

use entity::{
    condition, media, media_use, revision, side_effect, topic, topic_condition, topic_side_effect,
    user,
};
use futures_util::TryStreamExt;
use sea_orm::{
    AccessMode, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait, IsolationLevel,
    QueryOrder, Select, TransactionTrait,
};
use serde::Serialize;

use super::archive::{Header, Writer};
use super::{BackupError, Counts, LinkRow, MediaRow, MediaUseRow, RevisionRow, Table, UserRow};
use crate::content::snapshot::{ConditionLinkState, NamedState, SideEffectLinkState, TopicState};
use crate::media::MediaStore;

/// Writes the whole database, and the bytes of every media item from `store`, to `out` as
/// an archive; returns `out` and what was written.
pub async fn export<W: Write>(
    db: &DatabaseConnection,
    store: &MediaStore,
    out: W,
) -> Result<(W, Counts), BackupError> {
    let mut writer = Writer::new(out, &Header::now())?;
    // One snapshot for every table: SQLite's read transaction is one by itself;
    // PostgreSQL's default (read committed) would see each statement's own.
    let txn = if db.get_database_backend() == DbBackend::Postgres {
        db.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?
    } else {
        db.begin().await?
    };
    let select = user::Entity::find().order_by_asc(user::Column::Id);
    copy(&txn, &mut writer, Table::Users, select, |m| {
        Ok(UserRow::from(m))
    })
    .await?;
    let select = condition::Entity::find().order_by_asc(condition::Column::Id);
    copy(&txn, &mut writer, Table::Conditions, select, |m| {
        Ok(NamedState::from(&m))
    })
    .await?;
    let select = side_effect::Entity::find().order_by_asc(side_effect::Column::Id);
    copy(&txn, &mut writer, Table::SideEffects, select, |m| {
        Ok(NamedState::from(&m))
    })
    .await?;
    // Object names are kept for after the tables: a few per item, not per document.
    let mut objects = BTreeSet::new();
    let select = media::Entity::find().order_by_asc(media::Column::Id);
    copy(&txn, &mut writer, Table::Media, select, |m| {
        let row = MediaRow::from(m);
        objects.extend(row.objects());
        Ok(row)
    })
    .await?;
    let select = topic::Entity::find().order_by_asc(topic::Column::Id);
    copy(&txn, &mut writer, Table::Topics, select, |m| {
        Ok(TopicState::from(&m))
    })
    .await?;
    let select = topic_condition::Entity::find()
        .order_by_asc(topic_condition::Column::TopicId)
        .order_by_asc(topic_condition::Column::Position);
    copy(&txn, &mut writer, Table::TopicConditions, select, |l| {
        Ok(LinkRow {
            topic_id: l.topic_id,
            link: ConditionLinkState::from(&l),
        })
    })
    .await?;
    let select = topic_side_effect::Entity::find()
        .order_by_asc(topic_side_effect::Column::TopicId)
        .order_by_asc(topic_side_effect::Column::Position);
    copy(&txn, &mut writer, Table::TopicSideEffects, select, |l| {
        Ok(LinkRow {
            topic_id: l.topic_id,
            link: SideEffectLinkState::from(&l),
        })
    })
    .await?;
    let select = revision::Entity::find().order_by_asc(revision::Column::Id);
    copy(
        &txn,
        &mut writer,
        Table::Revisions,
        select,
        RevisionRow::export,
    )
    .await?;
    let select = media_use::Entity::find()
        .order_by_asc(media_use::Column::MediaId)
        .order_by_asc(media_use::Column::DocumentType)
        .order_by_asc(media_use::Column::DocumentId);
    copy(&txn, &mut writer, Table::MediaUses, select, |m| {
        Ok(MediaUseRow::from(m))
    })
    .await?;
    txn.commit().await?;

    // Objects are named by content and never change, so reading them after the rows is
    // safe; one that is gone (its item deleted meanwhile, or a damaged store) stops the
    // export rather than leaving a backup without it.
    for name in objects {
        let bytes = store.read(&name).await?.ok_or_else(|| {
            BackupError::Io(format!(
                "media file {name} is missing from the media store (an item deleted during \
                 the export? run it again)"
            ))
        })?;
        writer.object(&name, &bytes)?;
    }
    writer.finish()
}

/// Streams the rows `select` finds into `table` of the archive, converted by `row`.
async fn copy<E, T, W>(
    txn: &DatabaseTransaction,
    writer: &mut Writer<W>,
    table: Table,
    select: Select<E>,
    mut row: impl FnMut(E::Model) -> Result<T, BackupError>,
) -> Result<(), BackupError>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    T: Serialize,
    W: Write,
{
    let mut rows = select.stream(txn).await?;
    while let Some(model) = rows.try_next().await? {
        writer.row(table, &row(model)?)?;
    }
    Ok(())
}
