//! The content-events outbox: every change of a document's state appends one event, in the
//! transaction of the change, so a rolled-back write leaves none and a committed one always
//! has its event (webhooks and subscriptions deliver from here; integrators read it as a
//! feed). An event names the document, its version, its status before and after, and the
//! published topic pages the change affects, so a frontend can revalidate exactly those.

use entity::{ContentStatus, content_event, revision};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::Author;
use super::document::Document;
use super::snapshot::Snapshot;
use crate::db::now;
use crate::errors::ApiResult;

/// What happened to a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A new draft.
    Created,
    /// Saved (fields or links changed, whatever its status).
    Updated,
    /// Published (by itself, or with a topic that links to it).
    Published,
    /// Back to draft.
    Unpublished,
    /// Withdrawn, kept for history.
    Archived,
    /// Deleted (its history stays).
    Deleted,
    /// An old revision brought back as a new version.
    Restored,
    /// A step of the medical review (submitted, approved, changes requested): the event's
    /// old and new statuses say which.
    Reviewed,
}

impl Change {
    /// The event's type: `{document}.{verb}`, or `revision.restored`.
    pub fn event_type(self, kind: &str) -> String {
        let verb = match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Published => "published",
            Self::Unpublished => "unpublished",
            Self::Archived => "archived",
            Self::Deleted => "deleted",
            Self::Reviewed => "reviewed",
            Self::Restored => return "revision.restored".to_owned(),
        };
        format!("{kind}.{verb}")
    }
}

/// Every event type there is, for endpoints' filters and documentation.
pub fn event_types() -> Vec<String> {
    let mut types = Vec::new();
    for kind in ["topic", "condition", "side_effect"] {
        for change in [
            Change::Created,
            Change::Updated,
            Change::Published,
            Change::Unpublished,
            Change::Archived,
            Change::Deleted,
        ] {
            types.push(change.event_type(kind));
        }
    }
    types.push(Change::Reviewed.event_type("topic"));
    types.push(Change::Restored.event_type("topic"));
    types
}

fn stored(status: ContentStatus) -> String {
    status.to_value()
}

/// The snapshot a document's revision at `version` recorded, if any.
pub(super) async fn revision_snapshot<E: Document>(
    txn: &DatabaseTransaction,
    id: i32,
    version: i32,
) -> ApiResult<Option<Snapshot>> {
    let row = revision::Entity::find()
        .filter(revision::Column::EntityType.eq(E::KIND))
        .filter(revision::Column::EntityId.eq(id))
        .filter(revision::Column::Version.eq(version))
        .one(txn)
        .await?;
    Ok(row.and_then(|row| Snapshot::read(&row.entity_type, &row.snapshot).ok()))
}

/// Appends the event of `change` to `model` (its state after the change; for a deletion,
/// its last state) in `txn`.
pub async fn append<E: Document>(
    txn: &DatabaseTransaction,
    model: &E::Model,
    change: Change,
    author: Author,
) -> ApiResult<()> {
    let previous = match change {
        Change::Created => None,
        _ => revision_snapshot::<E>(txn, E::id(model), E::version(model) - 1).await?,
    };
    append_after::<E>(txn, model, change, author, previous.as_ref()).await
}

/// [`append`], given the snapshot of the version before the change (the caller read it).
pub(super) async fn append_after<E: Document>(
    txn: &DatabaseTransaction,
    model: &E::Model,
    change: Change,
    author: Author,
    previous: Option<&Snapshot>,
) -> ApiResult<()> {
    let id = E::id(model);
    let version = E::version(model);
    let slug = E::slug(model).to_owned();
    let current = E::status(model);
    let before = previous
        .filter(|_| change != Change::Created)
        .map(|snapshot| (snapshot.slug().to_owned(), snapshot.status()));
    let old_status = match change {
        Change::Created => None,
        Change::Deleted => Some(current),
        _ => before.as_ref().map(|(_, status)| *status),
    };
    let new_status = (change != Change::Deleted).then_some(current);
    let published = |status: Option<ContentStatus>| status == Some(ContentStatus::Published);
    let mut affected: Vec<String> = Vec::new();
    if E::KIND == "topic" {
        if published(old_status) || published(new_status) {
            affected.push(slug.clone());
        }
        // A published topic renamed: its old address changes too.
        if let Some((old_slug, _)) = before.filter(|(old, _)| *old != slug)
            && published(old_status)
        {
            affected.push(old_slug);
        }
    } else {
        let topics = super::edit::topics_linking::<E>(txn, id, true).await?;
        affected.extend(topics.into_iter().map(|topic| topic.slug));
    }
    affected.sort();
    content_event::ActiveModel {
        event_type: Set(change.event_type(E::KIND)),
        document_type: Set(E::KIND.to_owned()),
        document_id: Set(id),
        slug: Set(slug),
        version: Set(version),
        old_status: Set(old_status.map(stored)),
        new_status: Set(new_status.map(stored)),
        affected_topics: Set(serde_json::json!(affected)),
        author_id: Set(Some(author.user)),
        api_token_id: Set(author.token),
        created_at: Set(now()),
        dispatched_at: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Whether the public may learn of `event`: the document was published before or after
/// the change (a draft's life is the editors' business).
pub fn is_public(event: &content_event::Model) -> bool {
    let published = stored(ContentStatus::Published);
    event.old_status.as_ref() == Some(&published) || event.new_status.as_ref() == Some(&published)
}

/// The slugs of the published topic pages `event` affects.
pub fn affected_topics(event: &content_event::Model) -> Vec<String> {
    serde_json::from_value(event.affected_topics.clone()).unwrap_or_default()
}

/// Events after `after` (an event id), oldest first, at most `limit`.
pub async fn since(
    db: &DatabaseConnection,
    after: Option<i32>,
    limit: u64,
) -> ApiResult<Vec<content_event::Model>> {
    let mut select = content_event::Entity::find();
    if let Some(after) = after {
        select = select.filter(content_event::Column::Id.gt(after));
    }
    Ok(select
        .order_by_asc(content_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_named_by_document_and_verb() {
        assert_eq!(Change::Published.event_type("topic"), "topic.published");
        assert_eq!(
            Change::Deleted.event_type("side_effect"),
            "side_effect.deleted"
        );
        assert_eq!(
            Change::Restored.event_type("condition"),
            "revision.restored"
        );
        assert_eq!(event_types().len(), 20);
    }

    #[test]
    fn only_changes_to_or_from_published_are_public() {
        let event = |old: Option<ContentStatus>, new: Option<ContentStatus>| content_event::Model {
            id: 1,
            event_type: "topic.updated".into(),
            document_type: "topic".into(),
            document_id: 1,
            slug: "a".into(),
            version: 2,
            old_status: old.map(stored),
            new_status: new.map(stored),
            affected_topics: serde_json::json!([]),
            author_id: None,
            api_token_id: None,
            created_at: now(),
            dispatched_at: None,
        };
        use ContentStatus::{Archived, Draft, Published};
        assert!(!is_public(&event(None, Some(Draft))));
        assert!(!is_public(&event(Some(Draft), Some(Draft))));
        assert!(!is_public(&event(Some(Draft), Some(Archived))));
        assert!(is_public(&event(Some(Draft), Some(Published))));
        assert!(is_public(&event(Some(Published), Some(Published))));
        assert!(is_public(&event(Some(Published), None)));
    }
}
