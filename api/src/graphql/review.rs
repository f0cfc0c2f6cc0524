//! The medical review in the API: `submitTopicForReview`, `approveTopic`,
//! `requestTopicChanges`, the `reviewQueue`, and who may approve or override.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{Role, topic};

use super::context::{auth, request};
use super::guard::RoleGuard;
use super::mutation::{DocumentVersionInput, TopicPayload};
use super::types::Topic;
use crate::content::review::{self, Approval, Step};
use crate::content::{Visibility, now, validate};
use crate::errors::{ApiError, ApiResult};

/// The approval a reviewer or admin gives now: due `due_at`, or the configured interval
/// from now; `FORBIDDEN` for others.
pub fn approval(
    ctx: &Context<'_>,
    due_at: Option<DateTime<Utc>>,
    note: Option<String>,
) -> ApiResult<Approval> {
    let (request, _) = request(ctx)?;
    request.viewer.require(Role::Reviewer)?;
    let days = auth(ctx)?.settings.review_interval_days;
    let due_at = due_at
        .unwrap_or_else(|| now() + chrono::Duration::days(i64::try_from(days).unwrap_or(365)));
    Approval::parse(due_at, note, "input.reviewDueAt", "input.note")
}

/// An admin's reason to publish unapproved content; `FORBIDDEN` for others, and
/// `BAD_USER_INPUT` for an empty reason.
pub fn override_reason(ctx: &Context<'_>, reason: Option<String>) -> ApiResult<Option<String>> {
    let Some(reason) = reason else {
        return Ok(None);
    };
    let (request, _) = request(ctx)?;
    request.viewer.require(Role::Admin).map_err(|_| {
        ApiError::Forbidden("only an admin may publish without a review (overrideReview)".into())
    })?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > review::MAX_NOTE_CHARS {
        return Err(ApiError::bad_input(
            "input.overrideReview",
            format!(
                "say why it is published without review (1 to {} characters)",
                review::MAX_NOTE_CHARS
            ),
        ));
    }
    Ok(Some(reason.to_owned()))
}

/// An approval of a topic's content as it stands.
#[derive(InputObject)]
pub struct ApproveTopicInput {
    /// The topic.
    pub id: ID,
    /// The version the reviewer read; a stale one gives `CONFLICT` and approves nothing.
    pub expected_version: i32,
    /// A note for the editors (up to 2,000 characters).
    pub note: Option<String>,
    /// When the next review is due; default `DERMIS_REVIEW_INTERVAL_DAYS` (365) from now.
    pub review_due_at: Option<DateTime<Utc>>,
}

/// A request for changes: the topic goes back to draft.
#[derive(InputObject)]
pub struct RequestTopicChangesInput {
    /// The topic.
    pub id: ID,
    /// The version the reviewer read.
    pub expected_version: i32,
    /// What must change (1 to 2,000 characters).
    pub note: String,
}

/// The medical review of topics.
#[derive(Default)]
pub struct ReviewMutations;

/// The medical review of topics.
#[Object]
impl ReviewMutations {
    /// Hands a draft topic to the reviewers: `DRAFT` -> `IN_REVIEW` (`CONFLICT`
    /// `WRONG_STATUS` from another status). Editors and content-writing tokens.
    #[graphql(guard = "RoleGuard::ContentWrite")]
    async fn submit_topic_for_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic and version.")] input: DocumentVersionInput,
    ) -> ApiResult<TopicPayload> {
        let (request, db) = request(ctx)?;
        let author = request.viewer.author()?;
        let id = validate::id(&input.id, "input.id")?;
        let model = review::step(db, id, input.expected_version, Step::Submit, author).await?;
        Ok(payload(model))
    }

    /// Approves a topic's content as it stands, as the signed-in reviewer or admin:
    /// `reviewedBy`/`reviewedAt` are set, the next review falls due, and a draft or topic in
    /// review becomes `APPROVED` (a published one stays published). Editors get
    /// `FORBIDDEN`, as do API tokens: an approval is a person's.
    #[graphql(guard = "RoleGuard::Reviewer")]
    async fn approve_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic, version, note and next due date.")] input: ApproveTopicInput,
    ) -> ApiResult<TopicPayload> {
        let (request, db) = request(ctx)?;
        let author = request.viewer.author()?;
        let id = validate::id(&input.id, "input.id")?;
        let approval = approval(ctx, input.review_due_at, input.note)?;
        let step = Step::Approve(approval);
        let model = review::step(db, id, input.expected_version, step, author).await?;
        Ok(payload(model))
    }

    /// Sends a topic in review (or approved) back to draft with a note saying what must
    /// change; reviewers and admins.
    #[graphql(guard = "RoleGuard::Reviewer")]
    async fn request_topic_changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic, version and what must change.")]
        input: RequestTopicChangesInput,
    ) -> ApiResult<TopicPayload> {
        let (request, db) = request(ctx)?;
        let author = request.viewer.author()?;
        let id = validate::id(&input.id, "input.id")?;
        let step = Step::request_changes(input.note, "input.note")?;
        let model = review::step(db, id, input.expected_version, step, author).await?;
        Ok(payload(model))
    }
}

fn payload(model: topic::Model) -> TopicPayload {
    TopicPayload {
        topic: topics(vec![model]).remove(0),
    }
}

fn topics(models: Vec<topic::Model>) -> Vec<Topic> {
    models
        .into_iter()
        .map(|model| Topic {
            model,
            visibility: Visibility::All,
        })
        .collect()
}

/// Some of the topics in one part of the review queue, and how many there are.
#[derive(SimpleObject)]
pub struct ReviewQueuePart {
    /// How many topics this part holds.
    pub total_count: u64,
    /// The first 100 of them, in the part's order.
    pub topics: Vec<Topic>,
}

/// What waits for reviewers and editors.
#[derive(SimpleObject)]
pub struct ReviewQueue {
    /// Submitted for review, longest waiting first.
    pub waiting: ReviewQueuePart,
    /// Approved and not yet published, longest waiting first.
    pub approved: ReviewQueuePart,
    /// Review due date passed (archived topics aside), most overdue first.
    pub overdue: ReviewQueuePart,
    /// Published, but their content changed since it was approved (or never was), oldest
    /// change first.
    pub unapproved_published: ReviewQueuePart,
}

fn part((models, total_count): (Vec<topic::Model>, u64)) -> ReviewQueuePart {
    ReviewQueuePart {
        total_count,
        topics: topics(models),
    }
}

/// The review queue.
#[derive(Default)]
pub struct ReviewQueries;

/// The review queue.
#[Object]
impl ReviewQueries {
    /// What waits for review, what is approved and unpublished, what is overdue for its
    /// next review, and what is published without an approval of its current content.
    /// Signed-in users and tokens that read drafts.
    #[graphql(
        guard = "RoleGuard::Drafts",
        complexity = "crate::graphql::limits::list_cost(child_complexity)"
    )]
    async fn review_queue(&self, ctx: &Context<'_>) -> ApiResult<ReviewQueue> {
        let (_, db) = request(ctx)?;
        let queue = review::queue(db).await?;
        Ok(ReviewQueue {
            waiting: part(queue.waiting),
            approved: part(queue.approved),
            overdue: part(queue.overdue),
            unapproved_published: part(queue.unapproved_published),
        })
    }
}
