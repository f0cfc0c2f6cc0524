//! Creating documents. Every write stores the document, its links and a revision holding
//! the full snapshot, inside the caller's transaction.

use super::Author;
use entity::json::{ReferenceList, TextList};
use entity::{
    ContentStatus, condition, revision, side_effect, topic, topic_condition, topic_side_effect,
};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use super::document::Document;
use super::embeds::{self, Rendered};
use super::fields::{Label, Markdown, Slug, TopicFields};
use super::now;
use super::snapshot::{Snapshot, TopicSnapshot};
use crate::errors::ApiResult;

/// What every new document has: a label (title or name) and a slug, parsed, and a first
/// status.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Title or name.
    pub label: Label,
    /// URL name.
    pub slug: Slug,
    /// Initial status.
    pub status: ContentStatus,
}

fn published_at(status: ContentStatus) -> Option<chrono::DateTime<chrono::Utc>> {
    (status == ContentStatus::Published).then(now)
}

macro_rules! create_named {
    ($(#[$doc:meta])* $fn_name:ident, $module:ident) => {
        $(#[$doc])*
        pub async fn $fn_name<C: ConnectionTrait>(
            conn: &C,
            identity: Identity,
            description: Markdown,
            html: Rendered,
            author: Option<Author>,
        ) -> ApiResult<$module::Model> {
            let at = now();
            let status = identity.status;
            let model = $module::ActiveModel {
                slug: Set(identity.slug.into()),
                name: Set(identity.label.into()),
                description_html: Set(Some(html.html)),
                description: Set(description.into()),
                status: Set(status),
                published_at: Set(published_at(status)),
                version: Set(1),
                created_at: Set(at),
                updated_at: Set(at),
                created_by: Set(author.map(|a| a.user)),
                updated_by: Set(author.map(|a| a.user)),
                ..Default::default()
            }
            .insert(conn)
            .await?;
            embeds::record::<$module::Entity, C>(conn, model.id, &html.media).await?;
            let snapshot = Snapshot::from(&model);
            append_revision::<$module::Entity, _>(conn, model.id, 1, &snapshot, author, None)
                .await?;
            Ok(model)
        }
    };
}

create_named!(
    /// Creates a condition and its first revision.
    create_condition,
    condition
);
create_named!(
    /// Creates a side effect and its first revision.
    create_side_effect,
    side_effect
);

/// Creates a topic with its ordered links, and its first revision; `html` is its body
/// rendered.
pub async fn create_topic<C: ConnectionTrait>(
    conn: &C,
    identity: Identity,
    fields: TopicFields,
    html: Rendered,
    author: Option<Author>,
) -> ApiResult<topic::Model> {
    let at = now();
    let status = identity.status;
    let body = fields.body.unwrap_or_default();
    let model = topic::ActiveModel {
        slug: Set(identity.slug.into()),
        title: Set(identity.label.into()),
        summary: Set(fields.summary.unwrap_or_default().into()),
        body_html: Set(Some(html.html)),
        body: Set(body.into()),
        features: Set(TextList(fields.features.unwrap_or_default().into())),
        benefits: Set(TextList(fields.benefits.unwrap_or_default().into())),
        references: Set(ReferenceList(fields.references.unwrap_or_default().into())),
        reviewed_at: Set(None),
        reviewed_by: Set(None),
        review_due_at: Set(None),
        review_note: Set(None),
        approved: Set(false),
        image_id: Set(fields.image.flatten()),
        status: Set(status),
        published_at: Set(published_at(status)),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        created_by: Set(author.map(|a| a.user)),
        updated_by: Set(author.map(|a| a.user)),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    embeds::record::<topic::Entity, C>(conn, model.id, &html.media).await?;
    let conditions = fields.conditions.unwrap_or_default();
    let side_effects = fields.side_effects.unwrap_or_default();
    let mut condition_links = Vec::with_capacity(conditions.len());
    for (position, link) in (0..).zip(conditions) {
        let row = topic_condition::ActiveModel {
            topic_id: Set(model.id),
            condition_id: Set(link.condition_id),
            position: Set(position),
            note: Set(link.note),
        }
        .insert(conn)
        .await?;
        condition_links.push(row);
    }
    let mut side_effect_links = Vec::with_capacity(side_effects.len());
    for (position, link) in (0..).zip(side_effects) {
        let row = topic_side_effect::ActiveModel {
            topic_id: Set(model.id),
            side_effect_id: Set(link.side_effect_id),
            position: Set(position),
            note: Set(link.note),
            frequency: Set(link.frequency),
            severity: Set(link.severity),
            duration: Set(link.duration),
        }
        .insert(conn)
        .await?;
        side_effect_links.push(row);
    }
    let snapshot = Snapshot::Topic(TopicSnapshot::new(
        &model,
        &condition_links,
        &side_effect_links,
    ));
    append_revision::<topic::Entity, _>(conn, model.id, 1, &snapshot, author, None).await?;
    Ok(model)
}

/// Appends the revision that records `version` of a document.
pub async fn append_revision<E: Document, C: ConnectionTrait>(
    conn: &C,
    entity_id: i32,
    version: i32,
    snapshot: &Snapshot,
    author: Option<Author>,
    message: Option<String>,
) -> ApiResult<()> {
    revision::ActiveModel {
        entity_type: Set(E::KIND.to_owned()),
        entity_id: Set(entity_id),
        version: Set(version),
        snapshot: Set(snapshot.to_json()),
        author_id: Set(author.map(|a| a.user)),
        api_token_id: Set(author.and_then(|a| a.token)),
        message: Set(message),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}
