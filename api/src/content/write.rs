//! Creating documents. Every write stores the document, its links and a revision holding
//! the full snapshot, inside the caller's transaction.

use entity::json::{Reference, ReferenceList, TextList};
use entity::{
    ContentStatus, Duration, Frequency, Severity, condition, revision, side_effect, topic,
    topic_condition, topic_side_effect,
};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use super::document::Document;
use super::now;
use super::snapshot::{Snapshot, TopicSnapshot};
use crate::errors::ApiResult;
use crate::markdown;

/// Fields of a new condition or side effect.
#[derive(Debug, Clone)]
pub struct NamedInput {
    /// URL name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Markdown.
    pub description: String,
    /// Initial status.
    pub status: ContentStatus,
}

/// Fields of a new topic.
#[derive(Debug, Clone)]
pub struct TopicInput {
    /// URL name.
    pub slug: String,
    /// Title.
    pub title: String,
    /// One plain paragraph.
    pub summary: String,
    /// Markdown.
    pub body: String,
    /// Ordered features.
    pub features: Vec<String>,
    /// Ordered benefits.
    pub benefits: Vec<String>,
    /// Ordered sources.
    pub references: Vec<Reference>,
    /// Initial status.
    pub status: ContentStatus,
}

/// A topic's link to a condition.
#[derive(Debug, Clone)]
pub struct ConditionLink {
    /// The condition.
    pub condition_id: i32,
    /// A remark on this pairing.
    pub note: Option<String>,
}

/// A topic's link to a side effect.
#[derive(Debug, Clone)]
pub struct SideEffectLink {
    /// The side effect.
    pub side_effect_id: i32,
    /// How common.
    pub frequency: Frequency,
    /// How severe.
    pub severity: Severity,
    /// How lasting.
    pub duration: Duration,
    /// A remark on this pairing.
    pub note: Option<String>,
}

fn published_at(status: ContentStatus) -> Option<chrono::DateTime<chrono::Utc>> {
    (status == ContentStatus::Published).then(now)
}

macro_rules! create_named {
    ($(#[$doc:meta])* $fn_name:ident, $module:ident) => {
        $(#[$doc])*
        pub async fn $fn_name<C: ConnectionTrait>(
            conn: &C,
            input: NamedInput,
            author: Option<i32>,
        ) -> ApiResult<$module::Model> {
            let at = now();
            let model = $module::ActiveModel {
                slug: Set(input.slug),
                name: Set(input.name),
                description_html: Set(Some(markdown::to_safe_html(&input.description))),
                description: Set(input.description),
                status: Set(input.status),
                published_at: Set(published_at(input.status)),
                version: Set(1),
                created_at: Set(at),
                updated_at: Set(at),
                created_by: Set(author),
                updated_by: Set(author),
                ..Default::default()
            }
            .insert(conn)
            .await?;
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

/// Creates a topic with its ordered links, and its first revision.
pub async fn create_topic<C: ConnectionTrait>(
    conn: &C,
    input: TopicInput,
    conditions: Vec<ConditionLink>,
    side_effects: Vec<SideEffectLink>,
    author: Option<i32>,
) -> ApiResult<topic::Model> {
    let at = now();
    let model = topic::ActiveModel {
        slug: Set(input.slug),
        title: Set(input.title),
        summary: Set(input.summary),
        body_html: Set(Some(markdown::to_safe_html(&input.body))),
        body: Set(input.body),
        features: Set(TextList(input.features)),
        benefits: Set(TextList(input.benefits)),
        references: Set(ReferenceList(input.references)),
        reviewed_at: Set(None),
        reviewed_by: Set(None),
        status: Set(input.status),
        published_at: Set(published_at(input.status)),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        created_by: Set(author),
        updated_by: Set(author),
        ..Default::default()
    }
    .insert(conn)
    .await?;
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
    author: Option<i32>,
    message: Option<String>,
) -> ApiResult<()> {
    revision::ActiveModel {
        entity_type: Set(E::KIND.to_owned()),
        entity_id: Set(entity_id),
        version: Set(version),
        snapshot: Set(snapshot.to_json()),
        author_id: Set(author),
        message: Set(message),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}
