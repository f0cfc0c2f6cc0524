//! The root `Query` type: the public read API, plus what editors and admins read.

use std::borrow::Cow;

use async_graphql::{Context, ID, InputObject, Object};
use entity::{condition, side_effect, topic};
use sea_orm::{ColumnTrait, Iterable, QueryFilter, Select};

use super::connection::{ConditionConnection, PageInfo, SideEffectConnection, TopicConnection};
use super::context::{media_addresses, request};
use super::enums::{ContentStatus, NameOrderField, OrderDirection, TopicOrderField};
use super::guard::RoleGuard;
use super::media::html_for;
use super::types::{
    Condition, DocumentType, Revision, RevisionConnection, RevisionEdge, SetupStatus, SideEffect,
    Topic, User,
};
use crate::auth::{Viewer, setup, users};
use crate::content::Visibility;
use crate::content::document::{Document, SortField};
use crate::content::edit::{self, drafts_visibility};
use crate::content::embeds::{self, Missing};
use crate::content::pagination::{Ordering, Page, PageArgs, list_limit};
use crate::content::query::{self, LinkSide, Total};
use crate::content::read_model::PUBLIC_STATUS;
use crate::content::validate;
use crate::errors::{ApiError, ApiResult};

/// Narrows a topic list. All given criteria must match.
#[derive(InputObject, Default)]
pub struct TopicFilter {
    /// Words to look for in title, summary and body: full-text, case-insensitive, every word
    /// must begin a word of the topic (`micro` finds "microneedling").
    pub search: Option<String>,
    /// Only topics that treat the condition with this slug.
    pub condition: Option<String>,
    /// Only topics that may cause the side effect with this slug.
    pub side_effect: Option<String>,
    /// Only these statuses. Anything but `[PUBLISHED]` needs an editor; editors then also
    /// see unpublished links. Default: published only.
    pub status: Option<Vec<ContentStatus>>,
}

/// Narrows a condition or side-effect list. All given criteria must match.
#[derive(InputObject, Default)]
pub struct NameFilter {
    /// Words to look for in name and description: full-text, case-insensitive, every word
    /// must begin a word there.
    pub search: Option<String>,
    /// Only those linked to the topic with this slug.
    pub topic: Option<String>,
    /// Only these statuses. Anything but `[PUBLISHED]` needs an editor. Default: published only.
    pub status: Option<Vec<ContentStatus>>,
}

/// Order of a topic list.
#[derive(InputObject)]
pub struct TopicOrder {
    /// The field to sort by.
    pub field: TopicOrderField,
    /// The direction.
    #[graphql(default)]
    pub direction: OrderDirection,
}

/// Order of a condition or side-effect list.
#[derive(InputObject)]
pub struct NameOrder {
    /// The field to sort by.
    pub field: NameOrderField,
    /// The direction.
    #[graphql(default)]
    pub direction: OrderDirection,
}

/// The Relay pagination arguments, parsed once by each list field.
fn page_args(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> PageArgs {
    PageArgs {
        first,
        after,
        last,
        before,
    }
}

/// The ordering asked for, or title/name ascending.
fn ordering(asked: Option<(SortField, OrderDirection)>) -> Ordering {
    let (field, direction) = asked.unwrap_or((SortField::Label, OrderDirection::Asc));
    Ordering {
        field,
        direction: direction.into(),
    }
}

/// What a status filter lets the caller see, and the statuses to keep.
fn status_filter(
    ctx: &Context<'_>,
    status: Option<Vec<ContentStatus>>,
) -> ApiResult<(Visibility, Option<Vec<entity::ContentStatus>>)> {
    let Some(status) = status else {
        return Ok((Visibility::PublishedOnly, None));
    };
    let (request, _) = request(ctx)?;
    // Three statuses exist; a long list is a mistake (duplicates are harmless and dropped).
    if status.len() > validate::MAX_ITEMS {
        return Err(ApiError::bad_input(
            "filter.status",
            format!("at most {} statuses", validate::MAX_ITEMS),
        ));
    }
    let mut statuses: Vec<entity::ContentStatus> = status.into_iter().map(Into::into).collect();
    statuses.sort_by_key(|s| *s as u8);
    statuses.dedup();
    // Asking for published documents only shows what the public sees, links included,
    // whoever asks: only a status beyond it opens drafts (to editors).
    let drafts = statuses.iter().any(|s| *s != PUBLIC_STATUS);
    let visibility = drafts_visibility(drafts, request.viewer.require_drafts())?;
    Ok((visibility, Some(statuses)))
}

/// One page of the documents of type `E` visible under `visibility`, narrowed by `narrow`
/// (which says whether it filtered by more than status: then the total counts rows), in
/// the order asked for.
async fn page<E: Document>(
    ctx: &Context<'_>,
    visibility: Visibility,
    statuses: Option<Vec<entity::ContentStatus>>,
    narrow: impl FnOnce(Select<E>) -> ApiResult<(Select<E>, bool)>,
    order: Option<(SortField, OrderDirection)>,
    args: PageArgs,
) -> ApiResult<Page<E::Model>> {
    let (_, db) = request(ctx)?;
    let mut select = query::visible::<E>(E::find(), visibility);
    // Without a status filter a list shows published documents only, to everybody.
    let listed = match (&statuses, visibility) {
        (Some(statuses), _) => statuses.clone(),
        (None, Visibility::PublishedOnly) => vec![PUBLIC_STATUS],
        (None, Visibility::All) => entity::ContentStatus::iter().collect(),
    };
    if let Some(statuses) = statuses {
        select = select.filter(E::STATUS.is_in(statuses));
    }
    let (select, narrowed) = narrow(select)?;
    let total = if !ctx.look_ahead().field("totalCount").exists() {
        Total::None
    } else if narrowed {
        Total::Rows
    } else {
        Total::Statuses(listed)
    };
    query::paginate::<E>(db, select, ordering(order), &args, total).await
}

/// A page of conditions or side effects.
async fn named_page<E: Document>(
    ctx: &Context<'_>,
    args: PageArgs,
    filter: Option<NameFilter>,
    order_by: Option<NameOrder>,
    link: LinkSide,
) -> ApiResult<(Page<E::Model>, Visibility)> {
    let filter = filter.unwrap_or_default();
    let (visibility, statuses) = status_filter(ctx, filter.status)?;
    let backend = request(ctx)?.1.get_database_backend();
    let narrow = |mut select: Select<E>| {
        let mut narrowed = false;
        if let Some(text) = filter.search.as_deref() {
            select = query::search::<E>(select, text, backend)?;
            narrowed = true;
        }
        if let Some(slug) = filter.topic.as_deref() {
            validate::max_chars(slug, "filter.topic", validate::MAX_SLUG)?;
            select = query::linked_to::<E>(select, &link, slug, visibility);
            narrowed = true;
        }
        Ok((select, narrowed))
    };
    let order = order_by.map(|o| (o.field.into(), o.direction));
    let page = page::<E>(ctx, visibility, statuses, narrow, order, args).await?;
    Ok((page, visibility))
}

/// A single document by slug or id; drafts only with `preview` for an editor.
async fn lookup<E: Document>(
    ctx: &Context<'_>,
    slug: Option<String>,
    id: Option<ID>,
    preview: bool,
) -> ApiResult<Option<(E::Model, Visibility)>> {
    let (request, db) = request(ctx)?;
    // A preview link reads its own document's draft (its links as the public sees them),
    // and anything else as the public does.
    if let (true, Viewer::Preview(previewed)) = (preview, request.viewer)
        && previewed.kind == E::KIND
    {
        let draft = find::<E>(db, slug.clone(), id.clone(), Visibility::All).await?;
        if let Some(draft) = draft.filter(|draft| E::id(draft) == previewed.id) {
            return Ok(Some((draft, Visibility::PublishedOnly)));
        }
        let public = find::<E>(db, slug, id, Visibility::PublishedOnly).await?;
        return Ok(public.map(|model| (model, Visibility::PublishedOnly)));
    }
    let visibility = drafts_visibility(preview, request.viewer.require_drafts())?;
    let found = find::<E>(db, slug, id, visibility).await?;
    Ok(found.map(|model| (model, visibility)))
}

/// A document by slug or id, if `visibility` sees it.
async fn find<E: Document>(
    db: &sea_orm::DatabaseConnection,
    slug: Option<String>,
    id: Option<ID>,
    visibility: Visibility,
) -> ApiResult<Option<E::Model>> {
    match (slug, id) {
        (Some(slug), None) => {
            // No slug is longer; a longer one is a mistake, not a miss.
            validate::max_chars(&slug, "slug", validate::MAX_SLUG)?;
            query::find_by_slug::<E>(db, &slug, visibility).await
        }
        (None, Some(id)) => {
            let id = validate::id(&id, "id")?;
            Ok(crate::db::unique(
                query::visible::<E>(E::find(), visibility).filter(E::ID.eq(id)),
                db,
            )
            .await?)
        }
        _ => Err(ApiError::bad_input("slug", "pass either `slug` or `id`")),
    }
}

/// Cursor of a revision: its version, opaque.
fn revision_cursor(version: i32) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("revision:{version}"))
}

/// The version in a revision cursor.
fn revision_cursor_version(raw: &str) -> ApiResult<i32> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("revision:").and_then(|v| v.parse().ok()))
        .ok_or_else(|| ApiError::bad_input("after", "`after` is not a valid cursor"))
}

/// Entry points of the read API. Anonymous callers see published content only; editors
/// see drafts when they ask (`preview`, `status` filters).
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    ContentQueries,
    super::api_tokens::ApiTokenQueries,
    super::events::ContentEventQueries,
    super::webhooks::WebhookQueries,
    super::review::ReviewQueries,
    super::schedules::ScheduleQueries,
    super::media::MediaQueries,
);

/// Entry points of the read API, and what editors and admins read.
#[derive(Default)]
pub struct ContentQueries;

/// The content entry points of the read API.
#[Object]
impl ContentQueries {
    /// The topic with this slug or id, or null when there is no such visible topic.
    async fn topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic's slug, e.g. `microneedling`.")] slug: Option<String>,
        #[graphql(desc = "The topic's id (instead of `slug`).")] id: Option<ID>,
        #[graphql(
            desc = "Editors only: also find drafts and archived topics, and show their unpublished links.",
            default = false
        )]
        preview: bool,
    ) -> ApiResult<Option<Topic>> {
        Ok(lookup::<topic::Entity>(ctx, slug, id, preview)
            .await?
            .map(|(model, visibility)| Topic { model, visibility }))
    }

    /// Topics, filtered, ordered and paginated. Page size: `first` or `last`, at most 100
    /// (default 20).
    #[graphql(complexity = "crate::graphql::limits::page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn topics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first N topics (0 to 100).")] first: Option<i32>,
        #[graphql(desc = "Start after this cursor (from `pageInfo.endCursor` or an edge).")]
        after: Option<String>,
        #[graphql(desc = "Return the last N topics (0 to 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor (from `pageInfo.startCursor` or an edge).")]
        before: Option<String>,
        #[graphql(desc = "Criteria the topics must match.")] filter: Option<TopicFilter>,
        #[graphql(desc = "Sort order; default: title ascending.")] order_by: Option<TopicOrder>,
    ) -> ApiResult<TopicConnection> {
        let filter = filter.unwrap_or_default();
        let (visibility, statuses) = status_filter(ctx, filter.status)?;
        let backend = request(ctx)?.1.get_database_backend();
        let narrow = |mut select: Select<topic::Entity>| {
            let mut narrowed = false;
            if let Some(text) = filter.search.as_deref() {
                select = query::search::<topic::Entity>(select, text, backend)?;
                narrowed = true;
            }
            if let Some(slug) = filter.condition.as_deref() {
                validate::max_chars(slug, "filter.condition", validate::MAX_SLUG)?;
                let link = LinkSide::topic_to_condition();
                select = query::linked_to::<topic::Entity>(select, &link, slug, visibility);
                narrowed = true;
            }
            if let Some(slug) = filter.side_effect.as_deref() {
                validate::max_chars(slug, "filter.sideEffect", validate::MAX_SLUG)?;
                let link = LinkSide::topic_to_side_effect();
                select = query::linked_to::<topic::Entity>(select, &link, slug, visibility);
                narrowed = true;
            }
            Ok((select, narrowed))
        };
        let order = order_by.map(|o| (o.field.into(), o.direction));
        let args = page_args(first, after, last, before);
        let page = page::<topic::Entity>(ctx, visibility, statuses, narrow, order, args).await?;
        Ok(TopicConnection::from_page(page, |model| Topic {
            model,
            visibility,
        }))
    }

    /// The condition with this slug or id, or null when there is no such visible condition.
    async fn condition(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The condition's slug, e.g. `acne`.")] slug: Option<String>,
        #[graphql(desc = "The condition's id (instead of `slug`).")] id: Option<ID>,
        #[graphql(
            desc = "Editors only: also find drafts and archived conditions.",
            default = false
        )]
        preview: bool,
    ) -> ApiResult<Option<Condition>> {
        Ok(lookup::<condition::Entity>(ctx, slug, id, preview)
            .await?
            .map(|(model, visibility)| Condition { model, visibility }))
    }

    /// Conditions, filtered, ordered and paginated. Page size: `first` or `last`, at most
    /// 100 (default 20).
    #[graphql(complexity = "crate::graphql::limits::page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn conditions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first N conditions (0 to 100).")] first: Option<i32>,
        #[graphql(desc = "Start after this cursor (from `pageInfo.endCursor` or an edge).")]
        after: Option<String>,
        #[graphql(desc = "Return the last N conditions (0 to 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor (from `pageInfo.startCursor` or an edge).")]
        before: Option<String>,
        #[graphql(desc = "Criteria the conditions must match.")] filter: Option<NameFilter>,
        #[graphql(desc = "Sort order; default: name ascending.")] order_by: Option<NameOrder>,
    ) -> ApiResult<ConditionConnection> {
        let (page, visibility) = named_page::<condition::Entity>(
            ctx,
            page_args(first, after, last, before),
            filter,
            order_by,
            LinkSide::condition_to_topic(),
        )
        .await?;
        Ok(ConditionConnection::from_page(page, |model| Condition {
            model,
            visibility,
        }))
    }

    /// The side effect with this slug or id, or null when there is no such visible side effect.
    async fn side_effect(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The side effect's slug, e.g. `redness`.")] slug: Option<String>,
        #[graphql(desc = "The side effect's id (instead of `slug`).")] id: Option<ID>,
        #[graphql(
            desc = "Editors only: also find drafts and archived side effects.",
            default = false
        )]
        preview: bool,
    ) -> ApiResult<Option<SideEffect>> {
        Ok(lookup::<side_effect::Entity>(ctx, slug, id, preview)
            .await?
            .map(|(model, visibility)| SideEffect { model, visibility }))
    }

    /// Side effects, filtered, ordered and paginated. Page size: `first` or `last`, at most
    /// 100 (default 20).
    #[graphql(complexity = "crate::graphql::limits::page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn side_effects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first N side effects (0 to 100).")] first: Option<i32>,
        #[graphql(desc = "Start after this cursor (from `pageInfo.endCursor` or an edge).")]
        after: Option<String>,
        #[graphql(desc = "Return the last N side effects (0 to 100).")] last: Option<i32>,
        #[graphql(desc = "End before this cursor (from `pageInfo.startCursor` or an edge).")]
        before: Option<String>,
        #[graphql(desc = "Criteria the side effects must match.")] filter: Option<NameFilter>,
        #[graphql(desc = "Sort order; default: name ascending.")] order_by: Option<NameOrder>,
    ) -> ApiResult<SideEffectConnection> {
        let (page, visibility) = named_page::<side_effect::Entity>(
            ctx,
            page_args(first, after, last, before),
            filter,
            order_by,
            LinkSide::side_effect_to_topic(),
        )
        .await?;
        Ok(SideEffectConnection::from_page(page, |model| SideEffect {
            model,
            visibility,
        }))
    }

    /// The signed-in user; null for an anonymous caller.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        let (request, db) = request(ctx)?;
        match request.viewer.user_id() {
            Ok(id) => Ok(Some(User::account(users::get(db, id).await?))),
            Err(_) => Ok(None),
        }
    }

    /// Whether the server still waits for its first admin.
    async fn setup_status(&self, ctx: &Context<'_>) -> ApiResult<SetupStatus> {
        let (_, db) = request(ctx)?;
        Ok(SetupStatus {
            needs_setup: setup::needs_setup(db).await?,
        })
    }

    /// Admins only: every user, by email.
    #[graphql(
        guard = "RoleGuard::Admin",
        complexity = "crate::graphql::limits::list_cost(child_complexity)"
    )]
    async fn users(&self, ctx: &Context<'_>) -> ApiResult<Vec<User>> {
        let (_, db) = request(ctx)?;
        Ok(users::list(db)
            .await?
            .into_iter()
            .map(User::account)
            .collect())
    }

    /// Editors only: Markdown rendered to sanitized HTML exactly as `bodyHtml` and
    /// `descriptionHtml` would render it (media items shown, their addresses signed for
    /// this editor), for a live preview while writing. A `media:ID` naming no item renders
    /// as its text.
    #[graphql(guard = "RoleGuard::Drafts")]
    async fn markdown_preview(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The Markdown source (at most 100,000 characters).")] markdown: String,
    ) -> ApiResult<String> {
        validate::max_chars(&markdown, "markdown", validate::MAX_TEXT)?;
        let (_, db) = request(ctx)?;
        let rendered = embeds::render(db, media_addresses(ctx)?, &markdown, Missing::Skip).await?;
        Ok(html_for(ctx, Cow::Owned(rendered.html), true)?.into_owned())
    }

    /// Editors only: the history of a document, newest first (deleted documents keep theirs).
    #[graphql(
        guard = "RoleGuard::Drafts",
        complexity = "crate::graphql::limits::page_cost(Some(first), None, child_complexity)"
    )]
    async fn revisions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The kind of document.")] document_type: DocumentType,
        #[graphql(desc = "The document's id.")] document_id: ID,
        #[graphql(desc = "Return the first N revisions (1 to 100).", default = 20)] first: i32,
        #[graphql(desc = "Start after this cursor (from `pageInfo.endCursor`).")] after: Option<
            String,
        >,
    ) -> ApiResult<RevisionConnection> {
        let (_, db) = request(ctx)?;
        let limit = list_limit(first)?;
        let id = validate::id(&document_id, "documentId")?;
        let before_version = after.as_deref().map(revision_cursor_version).transpose()?;
        let mut rows =
            edit::history(db, document_type.kind(), id, before_version, limit + 1).await?;
        let has_next_page = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let page = Page {
            edges: rows
                .into_iter()
                .map(|row| (revision_cursor(row.version), row))
                .collect(),
            has_next_page,
            has_previous_page: before_version.is_some(),
            total_count: None,
        };
        Ok(RevisionConnection {
            page_info: PageInfo::of(&page),
            edges: page
                .edges
                .into_iter()
                .map(|(cursor, row)| RevisionEdge {
                    cursor,
                    node: Revision(row),
                })
                .collect(),
        })
    }
}
