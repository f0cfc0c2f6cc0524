//! Loading an archive: read on a blocking thread and handed over a short queue, inserted
//! chunk by chunk in one transaction, media objects checked and put in the store; the
//! transaction commits only once the archive's end marker has come and agrees.

use std::collections::BTreeSet;
use std::io::Read;

use entity::{
    condition, media, media_use, revision, side_effect, topic, topic_condition, topic_side_effect,
    user,
};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, IntoActiveModel, PaginatorTrait,
};
use tokio::sync::mpsc;

use super::{BackupError, Counts, Item, Rows, archive};
use crate::media::{MediaStore, MediaType, process, store};

/// Rows per `INSERT` (well under both databases' bind-parameter limits).
const INSERT_ROWS: usize = 200;
/// Items read ahead of the database: a few chunks, so memory stays flat.
const READ_AHEAD: usize = 4;

/// The items of the export `input` (any format this build reads), read on a blocking
/// thread as the receiver takes them; an error ends the sequence.
pub fn read(input: Box<dyn Read + Send>) -> mpsc::Receiver<Result<Item, BackupError>> {
    let (items, receiver) = mpsc::channel(READ_AHEAD);
    tokio::task::spawn_blocking(move || {
        let mut emit = |item| {
            items
                .blocking_send(Ok(item))
                .map_err(|_| BackupError::Io("the import stopped".into()))
        };
        if let Err(error) = archive::read(input, &mut emit) {
            // Nobody listens any more when the import stopped first.
            let _ = items.blocking_send(Err(error));
        }
    });
    receiver
}

/// Loads `items` into an empty (migrated) database and its media into `media`, in one
/// transaction; returns what was loaded.
pub async fn import(
    db: &DatabaseConnection,
    media: &MediaStore,
    mut items: mpsc::Receiver<Result<Item, BackupError>>,
) -> Result<Counts, BackupError> {
    let txn = crate::db::begin_content_write(db).await?;
    refuse_unless_empty(&txn).await?;
    let mut counts = Counts::default();
    // The originals the media rows name, and those the archive brought.
    let mut wanted = BTreeSet::new();
    let mut brought = BTreeSet::new();
    loop {
        let item = items.recv().await.ok_or_else(|| {
            BackupError::Format(format!("the archive ends before {}", archive::END))
        })??;
        match item {
            Item::Rows(rows) => {
                counts.add(rows.table(), rows.len());
                if let Rows::Media(items) = &rows {
                    wanted.extend(
                        items
                            .iter()
                            .map(|m| store::original(&m.content_hash, &m.extension)),
                    );
                }
                insert(&txn, rows).await?;
            }
            Item::Object { name, bytes } => {
                if check_object(&name, &bytes)? {
                    brought.insert(name.clone());
                }
                media.put(&name, bytes).await?;
                counts.objects += 1;
            }
            Item::End(claimed) => {
                if claimed != counts {
                    return Err(BackupError::Format(format!(
                        "the archive's end lists {} but it held {}",
                        claimed.summary(),
                        counts.summary()
                    )));
                }
                break;
            }
        }
    }
    if let Some(missing) = wanted.difference(&brought).next() {
        return Err(BackupError::Format(format!(
            "the archive lacks media file {missing}"
        )));
    }
    if txn.get_database_backend() == DbBackend::Postgres {
        // Rows came with their ids: move each sequence past the largest.
        for table in [
            "users",
            "conditions",
            "side_effects",
            "topics",
            "revisions",
            "media",
        ] {
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            ))
            .await?;
        }
    }
    txn.commit().await?;
    Ok(counts)
}

/// Refuses a database that holds content or accounts.
async fn refuse_unless_empty(txn: &impl ConnectionTrait) -> Result<(), BackupError> {
    let present = [
        ("users", user::Entity::find().count(txn).await?),
        ("topics", topic::Entity::find().count(txn).await?),
        ("conditions", condition::Entity::find().count(txn).await?),
        (
            "side effects",
            side_effect::Entity::find().count(txn).await?,
        ),
        ("revisions", revision::Entity::find().count(txn).await?),
        ("media items", media::Entity::find().count(txn).await?),
    ];
    let held: Vec<String> = present
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{n} {what}"))
        .collect();
    if held.is_empty() {
        Ok(())
    } else {
        Err(BackupError::NotEmpty(held.join(", ")))
    }
}

/// Inserts one chunk of rows.
async fn insert(txn: &impl ConnectionTrait, rows: Rows) -> Result<(), BackupError> {
    match rows {
        Rows::Users(rows) => insert_all::<user::Entity, _>(txn, rows).await,
        Rows::Conditions(rows) => insert_all::<condition::Entity, _>(txn, rows).await,
        Rows::SideEffects(rows) => insert_all::<side_effect::Entity, _>(txn, rows).await,
        Rows::Media(rows) => insert_all::<media::Entity, _>(txn, rows).await,
        Rows::Topics(rows) => {
            let rows = rows.into_iter().map(|t| t.into_model());
            insert_all::<topic::Entity, _>(txn, rows).await
        }
        Rows::TopicConditions(rows) => {
            let rows = rows.into_iter().map(|r| r.link.into_model(r.topic_id));
            insert_all::<topic_condition::Entity, _>(txn, rows).await
        }
        Rows::TopicSideEffects(rows) => {
            let rows = rows.into_iter().map(|r| r.link.into_model(r.topic_id));
            insert_all::<topic_side_effect::Entity, _>(txn, rows).await
        }
        Rows::Revisions(rows) => insert_all::<revision::Entity, _>(txn, rows).await,
        Rows::MediaUses(rows) => insert_all::<media_use::Entity, _>(txn, rows).await,
    }
}

/// Inserts `rows` in statements of [`INSERT_ROWS`].
async fn insert_all<E, R>(
    txn: &impl ConnectionTrait,
    rows: impl IntoIterator<Item = R>,
) -> Result<(), BackupError>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel>,
    R: Into<E::Model>,
{
    let mut rows = rows.into_iter().map(Into::into).peekable();
    while rows.peek().is_some() {
        let chunk: Vec<E::ActiveModel> = rows
            .by_ref()
            .take(INSERT_ROWS)
            .map(IntoActiveModel::into_active_model)
            .collect();
        E::insert_many(chunk).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// Checks that an object is named as the store names media and that an original's bytes
/// are what its name says (their SHA-256), so an archive cannot put a file anywhere or
/// swap an image; returns whether it is an original.
fn check_object(name: &str, bytes: &[u8]) -> Result<bool, BackupError> {
    let refuse = |why: &str| Err(BackupError::Format(format!("media file {name}: {why}")));
    let is_hash =
        |s: &str| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if let Some(file) = name.strip_prefix("originals/") {
        let Some((hash, extension)) = file.split_once('.') else {
            return refuse("not a media file name");
        };
        if !is_hash(hash) || MediaType::from_extension(extension).is_none() {
            return refuse("not a media file name");
        }
        if process::content_hash(bytes) != hash {
            return refuse("its bytes do not match its name (damaged)");
        }
        return Ok(true);
    }
    if let Some(file) = name.strip_prefix("variants/")
        && let Some((hash, width)) = file.split_once('/')
        && is_hash(hash)
        && let Some(width) = width.strip_suffix(".webp")
        && !width.is_empty()
        && width.len() <= 5
        && width.bytes().all(|b| b.is_ascii_digit())
    {
        if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WEBP" {
            return refuse("not a WebP image");
        }
        return Ok(false);
    }
    refuse("not a media file name")
}
