//! The `Topic` type and the edges to its conditions and side effects.

use std::borrow::Cow;

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{topic, topic_condition, topic_side_effect};

use super::{Condition, SideEffect, User};
use crate::content::Visibility;
use crate::errors::{ApiError, ApiResult};
use crate::graphql::context::request;
use crate::graphql::enums::{ContentStatus, Duration, Frequency, Severity};
use crate::graphql::loaders::{ConditionsOfTopic, SideEffectsOfTopic, UserById};
use crate::graphql::media::html_for;
use crate::markdown;

/// A skin procedure, such as microneedling: what it is, how it works, what it treats and
/// which side effects it may have.
pub struct Topic {
    /// The row.
    pub model: topic::Model,
    /// What the caller may see through this topic's links.
    pub visibility: Visibility,
}

/// A source a topic cites.
#[derive(SimpleObject)]
pub struct Reference {
    /// Title of the source.
    pub title: String,
    /// Where to read it, when it is online.
    pub url: Option<String>,
}

/// A skin procedure, such as microneedling: what it is, how it works, what it treats and
/// which side effects it may have.
#[Object]
impl Topic {
    /// Stable identifier of the topic.
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    /// URL name, unique among topics: lowercase letters, digits and hyphens.
    async fn slug(&self) -> &str {
        &self.model.slug
    }

    /// Title, such as "Microneedling".
    async fn title(&self) -> &str {
        &self.model.title
    }

    /// One plain-text paragraph that introduces the topic.
    async fn summary(&self) -> &str {
        &self.model.summary
    }

    /// The main text in Markdown: how the procedure works and more.
    async fn body(&self) -> &str {
        &self.model.body
    }

    /// `body` rendered to HTML and sanitized: safe to insert into a page as is. Media
    /// items the Markdown names (`![alt](media:ID)`) are `<img>` elements with `width`,
    /// `height`, `srcset` and `alt` (links, for files).
    async fn body_html(&self, ctx: &Context<'_>) -> ApiResult<Cow<'_, str>> {
        let html = markdown::stored_or_rendered(self.model.body_html.as_deref(), &self.model.body);
        html_for(ctx, html, self.visibility == Visibility::All)
    }

    /// Notable features of the procedure, in editorial order.
    async fn features(&self) -> &[String] {
        &self.model.features.0
    }

    /// Benefits of the procedure, in editorial order.
    async fn benefits(&self) -> &[String] {
        &self.model.benefits.0
    }

    /// Sources the topic cites, in editorial order.
    #[graphql(complexity = "crate::graphql::limits::list_cost(child_complexity)")]
    async fn references(&self) -> Vec<Reference> {
        self.model
            .references
            .0
            .iter()
            .map(|r| Reference {
                title: r.title.clone(),
                url: r.url.clone(),
            })
            .collect()
    }

    /// The hero image: a picture of the procedure for the top of its page; null when there
    /// is none.
    async fn image(&self, ctx: &Context<'_>) -> ApiResult<Option<crate::graphql::media::Media>> {
        let Some(id) = self.model.image_id else {
            return Ok(None);
        };
        let (request, _) = request(ctx)?;
        Ok(request
            .links
            .load_one(crate::graphql::loaders::MediaById(id))
            .await?
            .map(crate::graphql::media::Media))
    }

    /// Publication state.
    async fn status(&self) -> ContentStatus {
        self.model.status.into()
    }

    /// When the topic was (last) published; null for a draft.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.model.published_at
    }

    /// When the content last passed a medical review; null when never reviewed.
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.model.reviewed_at
    }

    /// Who last approved the content in a medical review (a reviewer or admin); null when
    /// never reviewed or the account was deleted. Anonymous callers see the reviewer's `id`
    /// and `displayName`.
    async fn reviewed_by(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        let Some(id) = self.model.reviewed_by else {
            return Ok(None);
        };
        let (request, _) = request(ctx)?;
        // Refused here, as a whole, rather than field by field: async-graphql leaves a
        // failed non-null field out of its object instead of nulling the object.
        if !request.viewer.is_editor() {
            let selection = ctx.look_ahead();
            if let Some(detail) = User::DETAILS.iter().find(|f| selection.field(f).exists()) {
                return Err(ApiError::Unauthenticated(format!(
                    "sign in to see a user's `{detail}`; anonymous callers see `id` and `displayName`"
                )));
            }
        }
        let user = request.links.load_one(UserById(id)).await?;
        Ok(user.map(|user| User::seen_by(user, &request.viewer)))
    }

    /// When the next medical review is due (set by each approval; `DERMIS_REVIEW_INTERVAL_DAYS`
    /// after it unless the reviewer chose a date); null when never approved.
    async fn review_due_at(&self) -> Option<DateTime<Utc>> {
        self.model.review_due_at
    }

    /// Whether the content as it stands is the content a reviewer approved: false once a save
    /// changes it (a published topic then stays published, listed in `reviewQueue`).
    async fn approved(&self) -> bool {
        self.model.approved
    }

    /// The reviewer's note on the last approval or request for changes; editors and tokens
    /// that read drafts only (`UNAUTHENTICATED` or `FORBIDDEN` for others).
    async fn review_note(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        let (request, _) = request(ctx)?;
        request.viewer.require_drafts()?;
        Ok(self.model.review_note.as_deref())
    }

    /// When the topic was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    /// When the topic last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.model.updated_at
    }

    /// Revision number, +1 on every change; editors send it back as `expectedVersion`.
    async fn version(&self) -> i32 {
        self.model.version
    }

    /// The conditions this procedure treats, in editorial order. Only published conditions
    /// are listed to the public.
    #[graphql(complexity = "crate::graphql::limits::list_cost(child_complexity)")]
    async fn conditions(&self, ctx: &Context<'_>) -> ApiResult<Vec<TopicConditionEdge>> {
        let (request, _) = request(ctx)?;
        let links = request
            .links
            .load_one(ConditionsOfTopic(self.model.id, self.visibility))
            .await?;
        Ok(links
            .unwrap_or_default()
            .into_iter()
            .map(|(link, condition)| TopicConditionEdge {
                link,
                node: Condition {
                    model: condition,
                    visibility: self.visibility,
                },
            })
            .collect())
    }

    /// The side effects this procedure may cause, with how common, severe and lasting each
    /// is, in editorial order. Only published side effects are listed to the public.
    #[graphql(complexity = "crate::graphql::limits::list_cost(child_complexity)")]
    async fn side_effects(&self, ctx: &Context<'_>) -> ApiResult<Vec<TopicSideEffectEdge>> {
        let (request, _) = request(ctx)?;
        let links = request
            .links
            .load_one(SideEffectsOfTopic(self.model.id, self.visibility))
            .await?;
        Ok(links
            .unwrap_or_default()
            .into_iter()
            .map(|(link, side_effect)| TopicSideEffectEdge {
                link,
                node: SideEffect {
                    model: side_effect,
                    visibility: self.visibility,
                },
            })
            .collect())
    }
}

/// A condition a topic treats, with what the topic says about it.
pub struct TopicConditionEdge {
    link: topic_condition::Model,
    node: Condition,
}

/// A condition a topic treats, with what the topic says about it.
#[Object]
impl TopicConditionEdge {
    /// Position in the topic's list, from 0.
    async fn position(&self) -> i32 {
        self.link.position
    }

    /// A remark on this pairing, e.g. "particularly after liposuction or weight loss".
    async fn note(&self) -> Option<&str> {
        self.link.note.as_deref()
    }

    /// The condition.
    async fn node(&self) -> &Condition {
        &self.node
    }
}

/// A side effect of a topic, with how common, severe and lasting it is for that topic.
pub struct TopicSideEffectEdge {
    link: topic_side_effect::Model,
    node: SideEffect,
}

/// A side effect of a topic, with how common, severe and lasting it is for that topic.
#[Object]
impl TopicSideEffectEdge {
    /// Position in the topic's list, from 0.
    async fn position(&self) -> i32 {
        self.link.position
    }

    /// How often it occurs after this procedure.
    async fn frequency(&self) -> Frequency {
        self.link.frequency.into()
    }

    /// How severe it is after this procedure.
    async fn severity(&self) -> Severity {
        self.link.severity.into()
    }

    /// How long it lasts after this procedure.
    async fn duration(&self) -> Duration {
        self.link.duration.into()
    }

    /// A remark on this pairing, e.g. "more likely when a deeper treatment is chosen".
    async fn note(&self) -> Option<&str> {
        self.link.note.as_deref()
    }

    /// The side effect.
    async fn node(&self) -> &SideEffect {
        &self.node
    }
}
