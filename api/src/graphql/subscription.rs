//! The subscriptions: live changes, served over WebSocket at `/graphql`
//! (`graphql-transport-ws`, by the HTTP layer's socket module), fed by the live feed of content
//! events ([`crate::content::feed`]), so a change made on any node reaches subscribers on
//! every node.

use async_graphql::{Context, Subscription};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use super::context::request;
use super::events::ContentEvent;
use super::types::{DocumentType, Topic};
use crate::content::edit::drafts_visibility;
use crate::content::events::is_public;
use crate::content::feed;
use crate::content::validate;
use crate::content::watch::TopicWatch;
use crate::errors::{ApiError, ApiResult};

/// Live changes, over WebSocket at `/graphql` with the `graphql-transport-ws` protocol.
#[derive(Default)]
pub struct SubscriptionRoot;

/// Live changes, over WebSocket at `/graphql` with the `graphql-transport-ws` protocol
/// (what the `graphql-ws` client library speaks). Credentials go in `connection_init`'s
/// payload: `{ "authorization": "Bearer <access token or API token>" }`.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// The topic's new state each time it, or a condition or side effect it shows,
    /// changes: the published state for anonymous callers (null once it is no longer
    /// published), or, with `preview` (editors, `PREVIEW` tokens), its draft (an editor's
    /// live preview). Nothing is sent at the start: read the topic with `topic` first.
    /// At least once: a change committed just before subscribing can arrive after it and
    /// send a state already read. Each state is current when sent; keep the last.
    async fn topic_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic's slug; a renamed topic is followed to its new slug.")]
        slug: String,
        #[graphql(
            desc = "Editors and `PREVIEW` tokens: follow the draft, and its unpublished links.",
            default = false
        )]
        preview: bool,
    ) -> Result<impl Stream<Item = ApiResult<Option<Topic>>> + use<>, ApiError> {
        let (request, db) = request(ctx)?;
        validate::max_chars(&slug, "slug", validate::MAX_SLUG)?;
        let visibility = drafts_visibility(preview, request.viewer.require_drafts())?;
        let db = db.clone();
        // Listen first: a change committed while the topic is read is not missed.
        let receiver = feed::subscribe();
        let mut watch = TopicWatch::new(slug, visibility);
        watch.read(&db).await?;
        Ok(stream::unfold(
            (receiver, watch, db),
            move |(mut receiver, mut watch, db)| async move {
                loop {
                    match receiver.recv().await {
                        Ok(event) if watch.concerns(&event) => break,
                        Ok(_) => {}
                        // Behind: whatever was missed, the topic's state now covers it.
                        Err(RecvError::Lagged(_)) => break,
                        Err(RecvError::Closed) => return None,
                    }
                }
                let topic = watch.read(&db).await;
                let item = topic.map(|found| found.map(|model| Topic { model, visibility }));
                Some((item, (receiver, watch, db)))
            },
        ))
    }

    /// Every content event as it is committed, as webhooks deliver them (`ContentEvent`):
    /// all of them for editors and tokens that read drafts, those of published documents
    /// (published before or after the change) for anyone else. A subscriber too slow to
    /// keep up gets an `EVENTS_MISSED` error naming how many it missed, and goes on.
    async fn content_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events of these document types; all when omitted.")] types: Option<
            Vec<DocumentType>,
        >,
    ) -> Result<impl Stream<Item = ApiResult<ContentEvent>> + use<>, ApiError> {
        let (request, _) = request(ctx)?;
        let drafts = request.viewer.sees_drafts();
        let kinds: Option<Vec<&'static str>> = match types {
            Some(types) if types.len() > validate::MAX_ITEMS => {
                return Err(ApiError::bad_input(
                    "types",
                    format!("at most {} types", validate::MAX_ITEMS),
                ));
            }
            Some(types) => Some(types.into_iter().map(DocumentType::kind).collect()),
            None => None,
        };
        let receiver = feed::subscribe();
        Ok(stream::unfold(receiver, move |mut receiver| {
            let kinds = kinds.clone();
            async move {
                loop {
                    match receiver.recv().await {
                        Ok(event) => {
                            let kind_wanted = kinds
                                .as_ref()
                                .is_none_or(|kinds| kinds.contains(&event.document_type.as_str()));
                            if kind_wanted && (drafts || is_public(&event)) {
                                let event = ContentEvent(event.as_ref().clone());
                                return Some((Ok(event), receiver));
                            }
                        }
                        Err(RecvError::Lagged(missed)) => {
                            return Some((Err(ApiError::EventsMissed(missed)), receiver));
                        }
                        Err(RecvError::Closed) => return None,
                    }
                }
            }
        }))
    }
}
