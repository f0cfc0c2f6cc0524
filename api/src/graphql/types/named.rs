//! `Condition` and `SideEffect`: documents shared by every topic that links to them.

use std::borrow::Cow;

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::{condition, side_effect, topic_condition, topic_side_effect};

use super::Topic;
use crate::content::Visibility;
use crate::errors::ApiResult;
use crate::graphql::context::request;
use crate::graphql::enums::{ContentStatus, Duration, Frequency, Severity};
use crate::graphql::loaders::{TopicsOfCondition, TopicsOfSideEffect};
use crate::graphql::media::html_for;
use crate::markdown;

/// A skin condition a procedure treats, such as acne. One condition is shared by every
/// topic that treats it.
pub struct Condition {
    /// The row.
    pub model: condition::Model,
    /// What the caller may see through this condition's links.
    pub visibility: Visibility,
}

/// An effect a procedure may cause, such as redness. One side effect is shared by every
/// topic that may cause it; how common, severe and lasting it is lives on each link.
pub struct SideEffect {
    /// The row.
    pub model: side_effect::Model,
    /// What the caller may see through this side effect's links.
    pub visibility: Visibility,
}

macro_rules! named_fields {
    ($doc:literal, $ty:ident, $what:literal, $loader:ident, $edge:ident) => {
        #[doc = $doc]
        #[Object]
        impl $ty {
            #[doc = concat!("Stable identifier of the ", $what, ".")]
            async fn id(&self) -> ID {
                ID(self.model.id.to_string())
            }

            #[doc = concat!("URL name, unique among ", $what, "s: lowercase letters, digits and hyphens.")]
            async fn slug(&self) -> &str {
                &self.model.slug
            }

            #[doc = concat!("Display name of the ", $what, ".")]
            async fn name(&self) -> &str {
                &self.model.name
            }

            #[doc = concat!("Description of the ", $what, " in Markdown.")]
            async fn description(&self) -> &str {
                &self.model.description
            }

            /// `description` rendered to HTML and sanitized: safe to insert into a page as is.
            /// Media items the Markdown names (`![alt](media:ID)`) are `<img>` elements with
            /// `width`, `height`, `srcset` and `alt` (links, for files).
            async fn description_html(&self, ctx: &Context<'_>) -> ApiResult<Cow<'_, str>> {
                let html = markdown::stored_or_rendered(
                    self.model.description_html.as_deref(),
                    &self.model.description,
                );
                html_for(ctx, html, self.visibility == Visibility::All)
            }

            /// Publication state.
            async fn status(&self) -> ContentStatus {
                self.model.status.into()
            }

            /// When it was (last) published; null for a draft.
            async fn published_at(&self) -> Option<DateTime<Utc>> {
                self.model.published_at
            }

            /// When it was created.
            async fn created_at(&self) -> DateTime<Utc> {
                self.model.created_at
            }

            /// When it last changed.
            async fn updated_at(&self) -> DateTime<Utc> {
                self.model.updated_at
            }

            /// Revision number, +1 on every change; editors send it back as `expectedVersion`.
            async fn version(&self) -> i32 {
                self.model.version
            }

            #[doc = concat!("The topics that link to this ", $what, ", by title. Only published topics are listed to the public.")]
            #[graphql(complexity = "crate::graphql::limits::list_cost(child_complexity)")]
            async fn topics(&self, ctx: &Context<'_>) -> ApiResult<Vec<$edge>> {
                let (request, _) = request(ctx)?;
                let links = request.links.load_one($loader(self.model.id, self.visibility)).await?;
                Ok(links
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(link, topic)| $edge {
                        link,
                        node: Topic {
                            model: topic,
                            visibility: self.visibility,
                        },
                    })
                    .collect())
            }
        }
    };
}

named_fields!(
    "A skin condition a procedure treats, such as acne. One condition is shared by every topic that treats it.",
    Condition,
    "condition",
    TopicsOfCondition,
    ConditionTopicEdge
);
named_fields!(
    "An effect a procedure may cause, such as redness. One side effect is shared by every topic that may cause it; how common, severe and lasting it is lives on each link.",
    SideEffect,
    "side effect",
    TopicsOfSideEffect,
    SideEffectTopicEdge
);

/// A topic that treats a condition, with what the topic says about it.
pub struct ConditionTopicEdge {
    link: topic_condition::Model,
    node: Topic,
}

/// A topic that treats a condition, with what the topic says about it.
#[Object]
impl ConditionTopicEdge {
    /// A remark on this pairing, e.g. "particularly after liposuction or weight loss".
    async fn note(&self) -> Option<&str> {
        self.link.note.as_deref()
    }

    /// The topic.
    async fn node(&self) -> &Topic {
        &self.node
    }
}

/// A topic that may cause a side effect, with how common, severe and lasting it is there.
pub struct SideEffectTopicEdge {
    link: topic_side_effect::Model,
    node: Topic,
}

/// A topic that may cause a side effect, with how common, severe and lasting it is there.
#[Object]
impl SideEffectTopicEdge {
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

    /// The topic.
    async fn node(&self) -> &Topic {
        &self.node
    }
}
