//! Scheduled publishing in the API: `schedulePublish`, `scheduleUnpublish`,
//! `cancelSchedule` and the `schedules` list.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{ScheduleAction, ScheduleState as StoredState};

use super::context::request;
use super::guard::RoleGuard;
use super::types::{DocumentType, User};
use crate::content::schedule::{self, Listed, NewSchedule};
use crate::content::validate;
use crate::errors::{ApiError, ApiResult};

/// Where a schedule stands.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::ScheduleState")]
pub enum ScheduleState {
    /// Waiting for its time.
    Pending,
    /// Ran: the document was published or unpublished, as an editor's action would.
    Done,
    /// Ran and was refused (not approved then, linked drafts, ...): `outcome` says why.
    Failed,
    /// Cancelled before its time, or its document was deleted.
    Cancelled,
}

/// What a schedule does.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::ScheduleAction")]
pub enum ScheduleKind {
    /// Publish the document.
    Publish,
    /// Take the document back from the public.
    Unpublish,
}

/// A publication or unpublication planned for a time. It runs once, on one node, at its
/// time (or at the next start if no node ran then), with the same checks, revision and
/// events as the editor's own action, attributed to whoever planned it.
pub struct Schedule(Listed);

/// A publication or unpublication planned for a time. It runs once, on one node, at its
/// time (or at the next start if no node ran then), with the same checks, revision and
/// events as the editor's own action, attributed to whoever planned it.
#[Object]
impl Schedule {
    /// Stable identifier (pass it to `cancelSchedule`).
    async fn id(&self) -> ID {
        ID(self.0.schedule.id.to_string())
    }

    /// Publish or unpublish.
    async fn action(&self) -> ScheduleKind {
        self.0.schedule.action.into()
    }

    /// The kind of document.
    async fn document_type(&self) -> DocumentType {
        DocumentType::from_kind(&self.0.schedule.document_type)
    }

    /// The document's id.
    async fn document_id(&self) -> ID {
        ID(self.0.schedule.document_id.to_string())
    }

    /// The document's title or name; null once it was deleted.
    async fn document_title(&self) -> Option<&str> {
        self.0.document.as_ref().map(|(label, _)| label.as_str())
    }

    /// The document's slug; null once it was deleted.
    async fn document_slug(&self) -> Option<&str> {
        self.0.document.as_ref().map(|(_, slug)| slug.as_str())
    }

    /// When it runs (or was due).
    async fn at(&self) -> DateTime<Utc> {
        self.0.schedule.run_at
    }

    /// For publishing a topic: its unpublished links are published with it.
    async fn include_linked(&self) -> bool {
        self.0.schedule.include_linked
    }

    /// Where it stands.
    async fn state(&self) -> ScheduleState {
        self.0.schedule.state.into()
    }

    /// Who planned it (the change is attributed to them); null for a deleted account.
    async fn created_by(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        User::account_by_id(ctx, self.0.schedule.created_by).await
    }

    /// When it was planned.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.schedule.created_at
    }

    /// When it ran or was cancelled.
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.schedule.finished_at
    }

    /// A refusal's code (`NOT_APPROVED`, `UNPUBLISHED_LINKS`, `LINKED_FROM_PUBLISHED`,
    /// `NOT_FOUND`, ...); null unless `FAILED`.
    async fn outcome_code(&self) -> Option<&str> {
        self.0.schedule.outcome_code.as_deref()
    }

    /// What happened, in words: why it failed, or why it was cancelled.
    async fn outcome(&self) -> Option<&str> {
        self.0.schedule.outcome.as_deref()
    }
}

/// A publication or unpublication to plan.
#[derive(InputObject)]
pub struct ScheduleInput {
    /// The kind of document.
    pub document_type: DocumentType,
    /// The document.
    pub id: ID,
    /// When: in the future, at most 3,660 days ahead (RFC 3339 with an offset).
    pub at: DateTime<Utc>,
    /// For publishing a topic: publish its unpublished conditions and side effects with it;
    /// otherwise the schedule fails while any exist. Ignored for unpublishing.
    #[graphql(default = false)]
    pub include_linked: bool,
}

/// A schedule to cancel.
#[derive(InputObject)]
pub struct CancelScheduleInput {
    /// The schedule.
    pub id: ID,
}

/// Result of a schedule mutation.
#[derive(SimpleObject)]
pub struct SchedulePayload {
    /// The schedule.
    pub schedule: Schedule,
}

async fn plan(
    ctx: &Context<'_>,
    input: ScheduleInput,
    action: ScheduleAction,
) -> ApiResult<SchedulePayload> {
    let (request, db) = request(ctx)?;
    let author = request.viewer.author()?;
    let document_id = validate::id(&input.id, "input.id")?;
    let new = NewSchedule {
        kind: input.document_type.kind(),
        document_id,
        action,
        run_at: input.at,
        include_linked: input.include_linked && action == ScheduleAction::Publish,
    };
    let created = schedule::create(db, new, author).await?;
    one(db, created.id).await
}

async fn one(db: &sea_orm::DatabaseConnection, id: i32) -> ApiResult<SchedulePayload> {
    let filter = schedule::ListFilter {
        ids: vec![id],
        limit: 1,
        ..Default::default()
    };
    let listed = schedule::list(db, filter)
        .await?
        .pop()
        .ok_or_else(|| ApiError::NotFound(format!("no schedule with id {id}")))?;
    Ok(SchedulePayload {
        schedule: Schedule(listed),
    })
}

/// Scheduled publishing.
#[derive(Default)]
pub struct ScheduleMutations;

/// Scheduled publishing.
#[Object]
impl ScheduleMutations {
    /// Plans publishing a document at a time. Whether it may be published is checked then
    /// (a topic must be approved), and a refusal is recorded on the schedule (`FAILED`).
    /// `CONFLICT` (`ALREADY_SCHEDULED`) while one is pending for the document.
    #[graphql(guard = "RoleGuard::ContentWrite")]
    async fn schedule_publish(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The document and time.")] input: ScheduleInput,
    ) -> ApiResult<SchedulePayload> {
        plan(ctx, input, ScheduleAction::Publish).await
    }

    /// Plans unpublishing a document at a time (a topic goes back to `APPROVED` or
    /// `DRAFT`, as with `unpublishTopic`).
    #[graphql(guard = "RoleGuard::ContentWrite")]
    async fn schedule_unpublish(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The document and time.")] input: ScheduleInput,
    ) -> ApiResult<SchedulePayload> {
        plan(ctx, input, ScheduleAction::Unpublish).await
    }

    /// Cancels a pending schedule; `CONFLICT` (`WRONG_STATUS`) once it ran.
    #[graphql(guard = "RoleGuard::ContentWrite")]
    async fn cancel_schedule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The schedule.")] input: CancelScheduleInput,
    ) -> ApiResult<SchedulePayload> {
        let (_, db) = request(ctx)?;
        let id = validate::id(&input.id, "input.id")?;
        schedule::cancel(db, id).await?;
        one(db, id).await
    }
}

/// Which schedules to list.
#[derive(InputObject, Default)]
pub struct ScheduleFilter {
    /// Only these states; default: pending only.
    pub state: Option<Vec<ScheduleState>>,
    /// Only this document's (with `documentId`).
    pub document_type: Option<DocumentType>,
    /// Only this document's (with `documentType`).
    pub document_id: Option<ID>,
}

/// The most schedules one list returns.
const MAX_SCHEDULES: u64 = 200;

/// Scheduled publishing.
#[derive(Default)]
pub struct ScheduleQueries;

/// Scheduled publishing.
#[Object]
impl ScheduleQueries {
    /// Schedules, pending ones first, each group by time; at most `first` (up to 200).
    /// Signed-in users and tokens that read drafts.
    #[graphql(
        guard = "RoleGuard::Drafts",
        complexity = "crate::graphql::limits::list_cost(child_complexity)"
    )]
    async fn schedules(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which schedules; default: the pending ones.")] filter: Option<
            ScheduleFilter,
        >,
        #[graphql(desc = "How many, 1 to 200.", default = 100)] first: i32,
    ) -> ApiResult<Vec<Schedule>> {
        let (_, db) = request(ctx)?;
        let limit = u64::try_from(first)
            .ok()
            .filter(|n| (1..=MAX_SCHEDULES).contains(n))
            .ok_or_else(|| {
                ApiError::bad_input("first", format!("`first` must be 1 to {MAX_SCHEDULES}"))
            })?;
        let filter = filter.unwrap_or_default();
        let document = match (filter.document_type, filter.document_id) {
            (Some(kind), Some(id)) => Some((kind.kind(), validate::id(&id, "filter.documentId")?)),
            (None, None) => None,
            _ => {
                return Err(ApiError::bad_input(
                    "filter.documentId",
                    "give both `documentType` and `documentId`, or neither",
                ));
            }
        };
        let states: Vec<StoredState> = filter
            .state
            .unwrap_or_else(|| vec![ScheduleState::Pending])
            .into_iter()
            .map(StoredState::from)
            .collect();
        if states.len() > 4 {
            return Err(ApiError::bad_input(
                "filter.state",
                "name each state at most once (there are four)",
            ));
        }
        let rows = schedule::list(
            db,
            schedule::ListFilter {
                states,
                document,
                limit,
                ..Default::default()
            },
        )
        .await?;
        Ok(rows.into_iter().map(Schedule).collect())
    }
}
