//! Editing documents. Every write runs in one transaction that checks the expected
//! version, validates, writes the document and its links, bumps `version` and appends a
//! revision with the full snapshot. The version check is the `WHERE` clause of the first
//! statement (an `UPDATE`), so of two concurrent saves of one version exactly one wins.

use super::Author;
use super::events::{self, Change};
use entity::json::{ReferenceList, TextList};
use entity::{
    ContentStatus, condition, revision, side_effect, topic, topic_condition, topic_side_effect,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Value,
};
use serde_json::json;

use super::document::{Document, human_name, type_name};
use super::embeds::{self, Missing};
use super::fields::{
    ConditionLink, Items, Label, Markdown, NamedFields, References, SideEffectLink, Slug, Summary,
    TopicFields,
};
use super::snapshot::{NamedState, Snapshot};
use super::validate::{self, FieldError, InputError};
use super::write::{self, Identity, append_revision};
use super::{Visibility, now};
use crate::errors::{ApiError, ApiResult, ConflictReason, DocumentRef};
use crate::media::Addresses;

/// A change of status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// To `PUBLISHED`; a topic's unpublished links are published with it when `include_linked`.
    Publish {
        /// Publish linked drafts in the same transaction instead of refusing.
        include_linked: bool,
        /// An admin's reason for publishing content that did not pass review (the caller
        /// checked the role); recorded in the revision.
        overridden: Option<String>,
    },
    /// Back from the public: to `APPROVED` when the content is the approved one, else `DRAFT`.
    Unpublish,
    /// To `ARCHIVED`.
    Archive,
}

impl Transition {
    /// A publication without links or override.
    pub fn publish(include_linked: bool) -> Self {
        Self::Publish {
            include_linked,
            overridden: None,
        }
    }

    /// The status it sets on a document of type `E`.
    fn status<E: Document>(&self) -> Expr {
        match (self, E::APPROVED) {
            (Self::Publish { .. }, _) => Expr::value(ContentStatus::Published),
            (Self::Unpublish, Some(approved)) => Expr::case(
                Expr::col(approved).eq(true),
                Expr::value(ContentStatus::Approved),
            )
            .finally(Expr::value(ContentStatus::Draft))
            .into(),
            (Self::Unpublish, None) => Expr::value(ContentStatus::Draft),
            (Self::Archive, _) => Expr::value(ContentStatus::Archived),
        }
    }

    /// The event a transition is.
    fn change(&self) -> Change {
        match self {
            Self::Publish { .. } => Change::Published,
            Self::Unpublish => Change::Unpublished,
            Self::Archive => Change::Archived,
        }
    }

    fn message(&self) -> &'static str {
        match self {
            Self::Publish { .. } => "published",
            Self::Unpublish => "unpublished",
            Self::Archive => "archived",
        }
    }
}

/// A document restored from a revision.
#[derive(Debug, Clone)]
pub enum Restored {
    /// A topic.
    Topic(topic::Model),
    /// A condition.
    Condition(condition::Model),
    /// A side effect.
    SideEffect(side_effect::Model),
}

pub(super) fn document_ref<E: Document>(model: &E::Model) -> DocumentRef {
    DocumentRef {
        kind: type_name(E::KIND),
        id: E::id(model).to_string(),
        slug: E::slug(model).to_owned(),
        status: E::status(model),
    }
}

fn slug_taken(err: ApiError) -> ApiError {
    if err.is_unique_violation() {
        ApiError::bad_input("input.slug", "this slug is taken; choose another")
    } else {
        err
    }
}

/// Increments the version of document `id` (when it is `expected`, if given) and applies
/// `sets`, as the transaction's first statement. Returns the updated row.
pub(super) async fn bump<E: Document, C: ConnectionTrait>(
    conn: &C,
    id: i32,
    expected: Option<i32>,
    author: Author,
    sets: Vec<(E::Column, Expr)>,
) -> ApiResult<E::Model> {
    let mut update = E::update_many()
        .col_expr(E::VERSION, Expr::col(E::VERSION).add(1))
        .col_expr(E::UPDATED_AT, Expr::value(now()))
        .col_expr(E::UPDATED_BY, Expr::value(author.user))
        .filter(E::ID.eq(id));
    if let Some(expected) = expected {
        update = update.filter(E::VERSION.eq(expected));
    }
    for (column, value) in sets {
        update = update.col_expr(column, value);
    }
    let result = update.exec(conn).await.map_err(|e| slug_taken(e.into()))?;
    let current = find::<E, _>(conn, id).await?;
    match (result.rows_affected, current) {
        (1, Some(model)) => Ok(model),
        (_, Some(model)) => Err(ApiError::stale(human_name(E::KIND), E::version(&model))),
        (_, None) => Err(ApiError::NotFound(format!(
            "no {} with id {id}",
            human_name(E::KIND)
        ))),
    }
}

/// A document by id.
pub(super) async fn find<E: Document, C: ConnectionTrait>(
    conn: &C,
    id: i32,
) -> ApiResult<Option<E::Model>> {
    Ok(crate::db::unique(E::find().filter(E::ID.eq(id)), conn).await?)
}

/// The full snapshot of a document: its row, and for a topic its ordered links.
async fn snapshot<E: Document, C: ConnectionTrait>(
    conn: &C,
    model: &E::Model,
) -> ApiResult<Snapshot> {
    let mut snapshot = E::snapshot(model);
    if let Snapshot::Topic(topic) = &mut snapshot {
        let id = E::id(model);
        let conditions = topic_condition::Entity::find()
            .filter(topic_condition::Column::TopicId.eq(id))
            .order_by_asc(topic_condition::Column::Position)
            .all(conn)
            .await?;
        let side_effects = topic_side_effect::Entity::find()
            .filter(topic_side_effect::Column::TopicId.eq(id))
            .order_by_asc(topic_side_effect::Column::Position)
            .all(conn)
            .await?;
        topic.conditions = conditions.iter().map(Into::into).collect();
        topic.side_effects = side_effects.iter().map(Into::into).collect();
    }
    Ok(snapshot)
}

/// Snapshot, revision and event of the document's current state.
pub(super) async fn record<E: Document>(
    txn: &DatabaseTransaction,
    model: &E::Model,
    change: Change,
    author: Author,
    message: Option<String>,
) -> ApiResult<()> {
    let snapshot = snapshot::<E, _>(txn, model).await?;
    record_snapshot::<E>(txn, model, &snapshot, None, change, author, message).await
}

/// The revision (with `snapshot`) and event of the document's current state; `previous`
/// is the snapshot of the version before, when the caller has it.
async fn record_snapshot<E: Document>(
    txn: &DatabaseTransaction,
    model: &E::Model,
    snapshot: &Snapshot,
    previous: Option<&Snapshot>,
    change: Change,
    author: Author,
    message: Option<String>,
) -> ApiResult<()> {
    append_revision::<E, _>(
        txn,
        E::id(model),
        E::version(model),
        snapshot,
        Some(author),
        message,
    )
    .await?;
    match previous {
        Some(previous) => {
            events::append_after::<E>(txn, model, change, author, Some(previous)).await
        }
        None => events::append::<E>(txn, model, change, author).await,
    }
}

/// Records a save of `model` made in `txn` and commits it. An editor's save that changed
/// nothing but the version (its snapshot equals the previous revision's) is rolled back
/// instead, so it writes no version, revision or event, and the answer is the document as it
/// is.
async fn finish_save<E: Document>(
    db: &DatabaseConnection,
    txn: DatabaseTransaction,
    model: E::Model,
    recorded: Recorded,
    author: Author,
) -> ApiResult<E::Model> {
    let id = E::id(&model);
    let snapshot = snapshot::<E, _>(&txn, &model).await?;
    let previous = events::revision_snapshot::<E>(&txn, id, E::version(&model) - 1).await?;
    let unchanged = previous.as_ref().is_some_and(|p| p.same_content(&snapshot));
    if recorded.change == Change::Updated && unchanged {
        drop(txn);
        return find::<E, _>(db, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no {} with id {id}", human_name(E::KIND))));
    }
    let Recorded {
        change, message, ..
    } = recorded;
    record_snapshot::<E>(
        &txn,
        &model,
        &snapshot,
        previous.as_ref(),
        change,
        author,
        message,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Checks that every linked id exists.
async fn check_targets<E: Document, C: ConnectionTrait>(
    conn: &C,
    ids: &[i32],
    field: &str,
) -> ApiResult<()> {
    validate::distinct_ids(ids, field)?;
    if ids.is_empty() {
        return Ok(());
    }
    let found: Vec<i32> = E::find()
        .select_only()
        .column(E::ID)
        .filter(E::ID.is_in(ids.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    if let Some(i) = ids.iter().position(|id| !found.contains(id)) {
        return Err(ApiError::bad_input(
            format!("{field}[{i}]"),
            format!("no {} with id {}", human_name(E::KIND), ids[i]),
        ));
    }
    Ok(())
}

async fn replace_links(
    txn: &DatabaseTransaction,
    topic_id: i32,
    conditions: Option<Vec<ConditionLink>>,
    side_effects: Option<Vec<SideEffectLink>>,
) -> ApiResult<()> {
    use sea_orm::{ActiveModelTrait, Set};
    if let Some(links) = conditions {
        let ids: Vec<i32> = links.iter().map(|l| l.condition_id).collect();
        check_targets::<condition::Entity, _>(txn, &ids, "input.conditions").await?;
        topic_condition::Entity::delete_many()
            .filter(topic_condition::Column::TopicId.eq(topic_id))
            .exec(txn)
            .await?;
        for (position, link) in (0..).zip(links) {
            topic_condition::ActiveModel {
                topic_id: Set(topic_id),
                condition_id: Set(link.condition_id),
                position: Set(position),
                note: Set(link.note),
            }
            .insert(txn)
            .await?;
        }
    }
    if let Some(links) = side_effects {
        let ids: Vec<i32> = links.iter().map(|l| l.side_effect_id).collect();
        check_targets::<side_effect::Entity, _>(txn, &ids, "input.sideEffects").await?;
        topic_side_effect::Entity::delete_many()
            .filter(topic_side_effect::Column::TopicId.eq(topic_id))
            .exec(txn)
            .await?;
        for (position, link) in (0..).zip(links) {
            topic_side_effect::ActiveModel {
                topic_id: Set(topic_id),
                side_effect_id: Set(link.side_effect_id),
                position: Set(position),
                note: Set(link.note),
                frequency: Set(link.frequency),
                severity: Set(link.severity),
                duration: Set(link.duration),
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}

/// The conditions and side effects a topic links to that are not published. Rows are
/// share-locked on PostgreSQL, so a concurrent unpublish waits for this transaction.
async fn unpublished_links(
    txn: &DatabaseTransaction,
    topic_id: i32,
) -> ApiResult<Vec<DocumentRef>> {
    let conditions = condition::Entity::find()
        .filter(
            condition::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(topic_condition::Column::ConditionId)
                    .from(topic_condition::Entity)
                    .and_where(Expr::col(topic_condition::Column::TopicId).eq(topic_id))
                    .to_owned(),
            ),
        )
        .filter(condition::Column::Status.ne(ContentStatus::Published))
        .lock_shared()
        .all(txn)
        .await?;
    let side_effects = side_effect::Entity::find()
        .filter(
            side_effect::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(topic_side_effect::Column::SideEffectId)
                    .from(topic_side_effect::Entity)
                    .and_where(Expr::col(topic_side_effect::Column::TopicId).eq(topic_id))
                    .to_owned(),
            ),
        )
        .filter(side_effect::Column::Status.ne(ContentStatus::Published))
        .lock_shared()
        .all(txn)
        .await?;
    Ok(conditions
        .iter()
        .map(document_ref::<condition::Entity>)
        .chain(side_effects.iter().map(document_ref::<side_effect::Entity>))
        .collect())
}

/// The published topics that link to condition or side effect `id`.
/// The published topics that link to document `id` (a condition or side effect).
async fn published_topics_linking<E: Document>(
    txn: &DatabaseTransaction,
    id: i32,
) -> ApiResult<Vec<DocumentRef>> {
    let topics = topics_linking::<E>(txn, id, true).await?;
    Ok(topics.iter().map(document_ref::<topic::Entity>).collect())
}

/// The topics (published only, or all) that link to document `id`, by title.
pub(super) async fn topics_linking<E: Document>(
    txn: &DatabaseTransaction,
    id: i32,
    published_only: bool,
) -> ApiResult<Vec<topic::Model>> {
    let linking = match E::KIND {
        "condition" => sea_orm::sea_query::Query::select()
            .column(topic_condition::Column::TopicId)
            .from(topic_condition::Entity)
            .and_where(Expr::col(topic_condition::Column::ConditionId).eq(id))
            .to_owned(),
        "side_effect" => sea_orm::sea_query::Query::select()
            .column(topic_side_effect::Column::TopicId)
            .from(topic_side_effect::Entity)
            .and_where(Expr::col(topic_side_effect::Column::SideEffectId).eq(id))
            .to_owned(),
        _ => return Ok(Vec::new()),
    };
    let mut select = topic::Entity::find().filter(topic::Column::Id.in_subquery(linking));
    if published_only {
        select = select.filter(topic::Column::Status.eq(ContentStatus::Published));
    }
    Ok(select.order_by_asc(topic::Column::Title).all(txn).await?)
}

fn linked_from_published(what: &str, topics: Vec<DocumentRef>) -> ApiError {
    let slugs: Vec<&str> = topics.iter().map(|t| t.slug.as_str()).collect();
    ApiError::Conflict {
        reason: ConflictReason::LinkedFromPublished,
        message: format!(
            "published topics link to this {what}: {}; unpublish them or remove the links first",
            slugs.join(", ")
        ),
        current_version: None,
        documents: topics,
    }
}

fn unpublished(drafts: Vec<DocumentRef>) -> ApiError {
    let slugs: Vec<&str> = drafts.iter().map(|d| d.slug.as_str()).collect();
    ApiError::Conflict {
        reason: ConflictReason::UnpublishedLinks,
        message: format!(
            "the topic links to unpublished documents: {}; publish them first or pass includeLinked: true",
            slugs.join(", ")
        ),
        current_version: None,
        documents: drafts,
    }
}

/// `COALESCE(published_at, now)`: publishing keeps the first publication time.
fn published_at_on_publish<E: Document>() -> Expr {
    Expr::expr(Func::coalesce([
        Expr::col(E::PUBLISHED_AT),
        Expr::value(Value::from(now())),
    ]))
}

async fn publish_linked(
    txn: &DatabaseTransaction,
    doc: &DocumentRef,
    author: Author,
) -> ApiResult<()> {
    let id = doc.id.parse().unwrap_or_default();
    let message = Some("published with a topic".to_owned());
    if doc.kind == "CONDITION" {
        let model = bump::<condition::Entity, _>(
            txn,
            id,
            None,
            author,
            publish_sets::<condition::Entity>(),
        )
        .await?;
        record::<condition::Entity>(txn, &model, Change::Published, author, message).await
    } else {
        let model = bump::<side_effect::Entity, _>(
            txn,
            id,
            None,
            author,
            publish_sets::<side_effect::Entity>(),
        )
        .await?;
        record::<side_effect::Entity>(txn, &model, Change::Published, author, message).await
    }
}

/// The column changes of publishing.
fn publish_sets<E: Document>() -> Vec<(E::Column, Expr)> {
    vec![
        (E::STATUS, Expr::value(ContentStatus::Published)),
        (E::PUBLISHED_AT, published_at_on_publish::<E>()),
    ]
}

/// The identity of a new draft labelled `label` (required), with `slug` or one derived from
/// the label.
fn new_draft(label: Option<Label>, slug: Option<Slug>, field: &str) -> ApiResult<Identity> {
    let label =
        label.ok_or_else(|| FieldError::new(format!("input.{field}"), InputError::Required))?;
    let slug = match slug {
        Some(slug) => slug,
        None => Slug::derive(&label, "input.slug")?,
    };
    Ok(Identity {
        label,
        slug,
        status: ContentStatus::Draft,
    })
}

/// How a save is recorded: its event, its revision's message, and whether the saver
/// approves the saved content at once (a reviewer's save).
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The event.
    pub change: Change,
    /// The revision's message.
    pub message: Option<String>,
    /// The approval given with the save, if any.
    pub approval: Option<super::review::Approval>,
}

impl Recorded {
    /// How a text naming a media item that does not exist is taken: refused at `field` in
    /// an editor's save; left out of a restored revision (the item was deleted since).
    fn missing(&self, field: &'static str) -> Missing {
        if self.change == Change::Restored {
            Missing::Skip
        } else {
            Missing::Refuse(field)
        }
    }

    /// An editor's save.
    pub fn update() -> Self {
        Self {
            change: Change::Updated,
            message: None,
            approval: None,
        }
    }

    /// The same save, approving what it saves when `approval` is given.
    pub fn approved(self, approval: Option<super::review::Approval>) -> Self {
        Self { approval, ..self }
    }

    /// An old revision brought back.
    fn restored(message: Option<String>) -> Self {
        Self {
            change: Change::Restored,
            message,
            approval: None,
        }
    }
}

/// Creates a draft topic with its links.
pub async fn create_topic(
    db: &DatabaseConnection,
    addresses: &Addresses,
    mut fields: TopicFields,
    author: Author,
) -> ApiResult<topic::Model> {
    let identity = new_draft(fields.title.take(), fields.slug.take(), "title")?;
    let txn = crate::db::begin_content_write(db).await?;
    let conditions = fields.conditions.as_deref().unwrap_or_default();
    let condition_ids: Vec<i32> = conditions.iter().map(|l| l.condition_id).collect();
    check_targets::<condition::Entity, _>(&txn, &condition_ids, "input.conditions").await?;
    let side_effects = fields.side_effects.as_deref().unwrap_or_default();
    let side_effect_ids: Vec<i32> = side_effects.iter().map(|l| l.side_effect_id).collect();
    check_targets::<side_effect::Entity, _>(&txn, &side_effect_ids, "input.sideEffects").await?;
    if let Some(Some(image)) = fields.image {
        super::media::ensure_image(&txn, image, "input.imageId").await?;
    }
    let body = fields.body.as_ref().map_or("", |body| body.as_str());
    let html = embeds::render(&txn, addresses, body, Missing::Refuse("input.body")).await?;
    let model = write::create_topic(&txn, identity, fields, html, Some(author))
        .await
        .map_err(slug_taken)?;
    events::append::<topic::Entity>(&txn, &model, Change::Created, author).await?;
    txn.commit().await?;
    Ok(model)
}

/// Updates a topic at `expected` version; links are replaced when given. A save withdraws
/// the approval of the content it replaces (a topic in review or approved goes back to
/// draft; a published one stays published, no longer approved), unless `approval` approves
/// the saved content at once (a reviewer's save).
pub async fn update_topic(
    db: &DatabaseConnection,
    addresses: &Addresses,
    id: i32,
    expected: i32,
    fields: TopicFields,
    author: Author,
    mut recorded: Recorded,
) -> ApiResult<topic::Model> {
    let mut sets: Vec<(topic::Column, Expr)> = Vec::new();
    if let Some(slug) = fields.slug {
        sets.push((topic::Column::Slug, Expr::value(String::from(slug))));
    }
    if let Some(title) = fields.title {
        sets.push((topic::Column::Title, Expr::value(String::from(title))));
    }
    if let Some(summary) = fields.summary {
        sets.push((topic::Column::Summary, Expr::value(String::from(summary))));
    }
    let body = fields.body;
    let json = |value: serde_json::Value| Expr::value(Value::Json(Some(Box::new(value))));
    if let Some(features) = fields.features {
        let features = TextList(features.into());
        sets.push((topic::Column::Features, json(json!(features))));
    }
    if let Some(benefits) = fields.benefits {
        let benefits = TextList(benefits.into());
        sets.push((topic::Column::Benefits, json(json!(benefits))));
    }
    if let Some(references) = fields.references {
        let references = ReferenceList(references.into());
        sets.push((topic::Column::References, json(json!(references))));
    }
    if let Some(image) = fields.image {
        sets.push((topic::Column::ImageId, Expr::value(image)));
    }
    match recorded.approval.take() {
        Some(approval) => sets.extend(approval.sets(author)),
        None => sets.extend(super::review::withdrawn()),
    }
    let links_changed = fields.conditions.is_some() || fields.side_effects.is_some();

    let txn = crate::db::begin_content_write(db).await?;
    if let Some(Some(image)) = fields.image {
        super::media::ensure_image(&txn, image, "input.imageId").await?;
    }
    let shown = match body {
        Some(body) => {
            let missing = recorded.missing("input.body");
            let rendered = embeds::render(&txn, addresses, body.as_str(), missing).await?;
            sets.push((topic::Column::BodyHtml, Expr::value(rendered.html)));
            sets.push((topic::Column::Body, Expr::value(String::from(body))));
            Some(rendered.media)
        }
        None => None,
    };
    let model = bump::<topic::Entity, _>(&txn, id, Some(expected), author, sets).await?;
    if let Some(shown) = shown {
        embeds::record::<topic::Entity, _>(&txn, id, &shown).await?;
    }
    replace_links(&txn, id, fields.conditions, fields.side_effects).await?;
    if links_changed && model.status == ContentStatus::Published {
        let drafts = unpublished_links(&txn, id).await?;
        if !drafts.is_empty() {
            return Err(unpublished(drafts));
        }
    }
    finish_save::<topic::Entity>(db, txn, model, recorded, author).await
}

/// Creates a draft condition or side effect.
pub async fn create_named<E: NamedCreate>(
    db: &DatabaseConnection,
    addresses: &Addresses,
    fields: NamedFields,
    author: Author,
) -> ApiResult<E::Model> {
    let identity = new_draft(fields.name, fields.slug, "name")?;
    let description = fields.description.unwrap_or_default();
    let txn = crate::db::begin_content_write(db).await?;
    let html = embeds::render(
        &txn,
        addresses,
        description.as_str(),
        Missing::Refuse("input.description"),
    )
    .await?;
    let model = E::create(&txn, identity, description, html, author)
        .await
        .map_err(slug_taken)?;
    events::append::<E>(&txn, &model, Change::Created, author).await?;
    txn.commit().await?;
    Ok(model)
}

/// Creation of a condition or side effect row with its first revision.
pub trait NamedCreate: Document {
    /// Inserts the row and its revision.
    fn create(
        txn: &DatabaseTransaction,
        identity: Identity,
        description: Markdown,
        html: embeds::Rendered,
        author: Author,
    ) -> impl Future<Output = ApiResult<Self::Model>> + Send;
}

impl NamedCreate for condition::Entity {
    async fn create(
        txn: &DatabaseTransaction,
        identity: Identity,
        description: Markdown,
        html: embeds::Rendered,
        author: Author,
    ) -> ApiResult<condition::Model> {
        write::create_condition(txn, identity, description, html, Some(author)).await
    }
}

impl NamedCreate for side_effect::Entity {
    async fn create(
        txn: &DatabaseTransaction,
        identity: Identity,
        description: Markdown,
        html: embeds::Rendered,
        author: Author,
    ) -> ApiResult<side_effect::Model> {
        write::create_side_effect(txn, identity, description, html, Some(author)).await
    }
}

/// Updates a condition or side effect at `expected` version.
pub async fn update_named<E: Document>(
    db: &DatabaseConnection,
    addresses: &Addresses,
    id: i32,
    expected: i32,
    fields: NamedFields,
    author: Author,
    recorded: Recorded,
) -> ApiResult<E::Model> {
    let mut sets: Vec<(E::Column, Expr)> = Vec::new();
    if let Some(slug) = fields.slug {
        sets.push((E::SLUG, Expr::value(String::from(slug))));
    }
    if let Some(name) = fields.name {
        sets.push((E::LABEL, Expr::value(String::from(name))));
    }
    let txn = crate::db::begin_content_write(db).await?;
    let shown = match fields.description {
        Some(description) => {
            let missing = recorded.missing("input.description");
            let rendered = embeds::render(&txn, addresses, description.as_str(), missing).await?;
            sets.push((E::HTML, Expr::value(rendered.html)));
            sets.push((E::TEXT, Expr::value(String::from(description))));
            Some(rendered.media)
        }
        None => None,
    };
    let model = bump::<E, _>(&txn, id, Some(expected), author, sets).await?;
    if let Some(shown) = shown {
        embeds::record::<E, _>(&txn, id, &shown).await?;
    }
    finish_save::<E>(db, txn, model, recorded, author).await
}

/// Publishes, unpublishes or archives a document at `expected` version, keeping links
/// consistent: a published topic never links to an unpublished document, and a topic's
/// content is published only once approved (or with an admin's recorded override).
pub async fn transition<E: Document>(
    db: &DatabaseConnection,
    id: i32,
    expected: i32,
    transition: Transition,
    author: Author,
) -> ApiResult<E::Model> {
    let txn = crate::db::begin_content_write(db).await?;
    let model = transition_in::<E>(&txn, id, Some(expected), &transition, author, None).await?;
    txn.commit().await?;
    Ok(model)
}

/// [`transition`] inside `txn`, at `expected` version if given; `message` replaces the
/// revision's usual one.
pub async fn transition_in<E: Document>(
    txn: &DatabaseTransaction,
    id: i32,
    expected: Option<i32>,
    transition: &Transition,
    author: Author,
    message: Option<String>,
) -> ApiResult<E::Model> {
    let published_at = match transition {
        Transition::Publish { .. } => published_at_on_publish::<E>(),
        _ => Expr::value(Value::ChronoDateTimeUtc(None)),
    };
    // The status a refusal names is the one before this write.
    let before = match transition {
        Transition::Publish { .. } if E::APPROVED.is_some() => {
            find::<E, _>(txn, id).await?.map(|model| E::status(&model))
        }
        _ => None,
    };
    let model = bump::<E, _>(
        txn,
        id,
        expected,
        author,
        vec![
            (E::STATUS, transition.status::<E>()),
            (E::PUBLISHED_AT, published_at),
        ],
    )
    .await?;
    match (E::KIND, transition) {
        ("topic", Transition::Publish { include_linked, .. }) => {
            let drafts = unpublished_links(txn, id).await?;
            if !drafts.is_empty() {
                if !include_linked {
                    return Err(unpublished(drafts));
                }
                for doc in &drafts {
                    publish_linked(txn, doc, author).await?;
                }
            }
        }
        ("topic", _) | (_, Transition::Publish { .. }) => {}
        (_, Transition::Unpublish | Transition::Archive) => {
            let topics = published_topics_linking::<E>(txn, id).await?;
            if !topics.is_empty() {
                return Err(linked_from_published(human_name(E::KIND), topics));
            }
        }
    }
    let mut message = message.unwrap_or_else(|| transition.message().into());
    if let Transition::Publish { overridden, .. } = transition
        && !E::approved(&model)
    {
        let Some(reason) = overridden else {
            let mut document = document_ref::<E>(&model);
            document.status = before.unwrap_or(document.status);
            return Err(super::review::not_approved(document));
        };
        message = format!("{message} without review (admin override): {reason}");
    }
    record::<E>(txn, &model, transition.change(), author, Some(message)).await?;
    Ok(model)
}

/// Deletes a document at `expected` version; its history stays, ending with a `deleted`
/// revision. A condition or side effect that a published topic links to is refused.
pub async fn delete<E: Document>(
    db: &DatabaseConnection,
    id: i32,
    expected: i32,
    author: Author,
) -> ApiResult<()> {
    let txn = crate::db::begin_content_write(db).await?;
    let model = bump::<E, _>(&txn, id, Some(expected), author, Vec::new()).await?;
    let topics = published_topics_linking::<E>(&txn, id).await?;
    if !topics.is_empty() {
        return Err(linked_from_published(human_name(E::KIND), topics));
    }
    // Unpublished topics may link to it: their links go with it (the foreign keys cascade),
    // and each such topic gets a new version and a revision that says so, so its history
    // stays complete and an editor holding the old version gets CONFLICT instead of
    // silently saving the removed link back.
    let drafts = topics_linking::<E>(&txn, id, false).await?;
    record::<E>(
        &txn,
        &model,
        Change::Deleted,
        author,
        Some("deleted".into()),
    )
    .await?;
    E::delete_many().filter(E::ID.eq(id)).exec(&txn).await?;
    embeds::forget::<E, _>(&txn, id).await?;
    super::schedule::cancel_all::<E>(&txn, id, "the document was deleted").await?;
    let what = human_name(E::KIND);
    let slug = document_ref::<E>(&model).slug;
    for topic in drafts {
        let topic = bump::<topic::Entity, _>(&txn, topic.id, None, author, Vec::new()).await?;
        let message = format!("link removed: the {what} {slug} was deleted");
        record::<topic::Entity>(&txn, &topic, Change::Updated, author, Some(message)).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Revisions of a document, newest first: up to `limit` older than `before_version`.
pub async fn history(
    db: &DatabaseConnection,
    kind: &str,
    id: i32,
    before_version: Option<i32>,
    limit: u64,
) -> ApiResult<Vec<revision::Model>> {
    let mut select = revision::Entity::find()
        .filter(revision::Column::EntityType.eq(kind))
        .filter(revision::Column::EntityId.eq(id));
    if let Some(version) = before_version {
        select = select.filter(revision::Column::Version.lt(version));
    }
    Ok(select
        .order_by_desc(revision::Column::Version)
        .limit(limit)
        .all(db)
        .await?)
}

/// Brings the content of an old revision back as a new version (history is never
/// rewritten). The status stays as it is; links to documents deleted since are dropped.
pub async fn restore(
    db: &DatabaseConnection,
    addresses: &Addresses,
    revision_id: i32,
    expected: i32,
    author: Author,
) -> ApiResult<Restored> {
    let revision = revision::Entity::find_by_id(revision_id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no revision with id {revision_id}")))?;
    let message = Some(format!("restored version {}", revision.version));
    let id = revision.entity_id;
    let snapshot = Snapshot::read(&revision.entity_type, &revision.snapshot)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    match snapshot {
        Snapshot::Topic(old) => {
            let existing_conditions =
                existing::<condition::Entity>(db, old.conditions.iter().map(|l| l.condition_id))
                    .await?;
            let existing_side_effects = existing::<side_effect::Entity>(
                db,
                old.side_effects.iter().map(|l| l.side_effect_id),
            )
            .await?;
            // An image deleted since is left out, as deleted links are.
            let image = match old.topic.image_id {
                Some(image) => existing_media(db, image).await?,
                None => None,
            };
            let topic = old.topic;
            let field = |name: &str| format!("snapshot.topic.{name}");
            let fields = TopicFields {
                slug: Some(Slug::parse(
                    Some(&topic.slug),
                    &topic.title,
                    &field("slug"),
                )?),
                title: Some(Label::parse(&topic.title, &field("title"))?),
                summary: Some(Summary::parse(&topic.summary, &field("summary"))?),
                body: Some(Markdown::parse(topic.body, &field("body"))?),
                features: Some(Items::parse(topic.features, &field("features"))?),
                benefits: Some(Items::parse(topic.benefits, &field("benefits"))?),
                references: Some(References::parse(topic.references, &field("references"))?),
                conditions: Some(
                    old.conditions
                        .into_iter()
                        .filter(|l| existing_conditions.contains(&l.condition_id))
                        .map(|l| ConditionLink {
                            condition_id: l.condition_id,
                            note: l.note,
                        })
                        .collect(),
                ),
                side_effects: Some(
                    old.side_effects
                        .into_iter()
                        .filter(|l| existing_side_effects.contains(&l.side_effect_id))
                        .map(|l| SideEffectLink {
                            side_effect_id: l.side_effect_id,
                            frequency: l.frequency,
                            severity: l.severity,
                            duration: l.duration,
                            note: l.note,
                        })
                        .collect(),
                ),
                image: Some(image),
            };
            update_topic(
                db,
                addresses,
                id,
                expected,
                fields,
                author,
                Recorded::restored(message),
            )
            .await
            .map(Restored::Topic)
        }
        Snapshot::Condition(old) => update_named::<condition::Entity>(
            db,
            addresses,
            id,
            expected,
            named_fields(old)?,
            author,
            Recorded::restored(message),
        )
        .await
        .map(Restored::Condition),
        Snapshot::SideEffect(old) => update_named::<side_effect::Entity>(
            db,
            addresses,
            id,
            expected,
            named_fields(old)?,
            author,
            Recorded::restored(message),
        )
        .await
        .map(Restored::SideEffect),
    }
}

/// A condition's or side effect's saved fields, parsed again as input.
fn named_fields(old: NamedState) -> ApiResult<NamedFields> {
    let field = |name: &str| format!("snapshot.{name}");
    Ok(NamedFields {
        slug: Some(Slug::parse(Some(&old.slug), &old.name, &field("slug"))?),
        name: Some(Label::parse(&old.name, &field("name"))?),
        description: Some(Markdown::parse(old.description, &field("description"))?),
    })
}

/// Which of `ids` still exist.
async fn existing<E: Document>(
    db: &DatabaseConnection,
    ids: impl Iterator<Item = i32>,
) -> ApiResult<Vec<i32>> {
    Ok(E::find()
        .select_only()
        .column(E::ID)
        .filter(E::ID.is_in(ids.collect::<Vec<_>>()))
        .into_tuple()
        .all(db)
        .await?)
}

/// `id` when that media item still exists.
async fn existing_media(db: &DatabaseConnection, id: i32) -> ApiResult<Option<i32>> {
    Ok(entity::media::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|item| item.id))
}

/// The visibility asked for, or why drafts are refused (`UNAUTHENTICATED` for an anonymous
/// caller, `FORBIDDEN` for an API token without a drafts scope).
pub fn drafts_visibility(wants_drafts: bool, allowed: ApiResult<()>) -> ApiResult<Visibility> {
    match (wants_drafts, allowed) {
        (false, _) => Ok(Visibility::PublishedOnly),
        (true, Ok(())) => Ok(Visibility::All),
        (true, Err(ApiError::Unauthenticated(_))) => Err(ApiError::Unauthenticated(
            "sign in as an editor to see drafts".into(),
        )),
        (true, Err(refused)) => Err(refused),
    }
}
