//! Publishing and unpublishing planned for a time.
//!
//! A schedule is a row; running it is one transaction that takes the due row (on
//! PostgreSQL `FOR UPDATE SKIP LOCKED`, so nodes running at the same moment take different
//! rows; SQLite has one writer at a time), makes the change exactly as an editor's
//! publish or unpublish would (same checks, revision and event, attributed to whoever
//! planned it), and marks the row done. Either all of it commits or none: a node that dies
//! half-way leaves the row pending for the next tick of any node, and a row marked done
//! cannot run again. A refused change (the content not approved then, a linked draft)
//! rolls back and marks the row failed with the refusal's code and message, for the editor
//! to read. Schedules that fell due while no node ran are run at the next start.

use chrono::{DateTime, Utc};
use entity::{ScheduleAction, ScheduleState, condition, schedule, side_effect, topic};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::document::{Document, human_name};
use super::edit::{Transition, find, transition_in};
use super::{Author, now};
use crate::errors::{ApiError, ApiResult, ConflictReason};

/// How far ahead a schedule may be set.
pub const MAX_DAYS_AHEAD: i64 = 3660;

/// A schedule to create.
#[derive(Debug, Clone)]
pub struct NewSchedule {
    /// `topic`, `condition` or `side_effect`.
    pub kind: &'static str,
    /// The document.
    pub document_id: i32,
    /// Publish or unpublish.
    pub action: ScheduleAction,
    /// When.
    pub run_at: DateTime<Utc>,
    /// Publish a topic's unpublished links with it.
    pub include_linked: bool,
}

/// Plans `new` for its time, by `author` (a user). `BAD_USER_INPUT` on `input.at` for a
/// time not ahead (or more than [`MAX_DAYS_AHEAD`] days ahead); `NOT_FOUND` for a missing
/// document; `CONFLICT` (`ALREADY_SCHEDULED`) when the document has such a schedule pending.
pub async fn create(
    db: &DatabaseConnection,
    new: NewSchedule,
    author: Author,
) -> ApiResult<schedule::Model> {
    let at = now();
    if new.run_at <= at {
        return Err(ApiError::bad_input(
            "input.at",
            "choose a time in the future",
        ));
    }
    if new.run_at > at + chrono::Duration::days(MAX_DAYS_AHEAD) {
        return Err(ApiError::bad_input(
            "input.at",
            format!("a schedule may be set at most {MAX_DAYS_AHEAD} days ahead"),
        ));
    }
    let exists = match new.kind {
        "topic" => find::<topic::Entity, _>(db, new.document_id)
            .await?
            .is_some(),
        "condition" => find::<condition::Entity, _>(db, new.document_id)
            .await?
            .is_some(),
        _ => find::<side_effect::Entity, _>(db, new.document_id)
            .await?
            .is_some(),
    };
    if !exists {
        return Err(ApiError::NotFound(format!(
            "no {} with id {}",
            human_name(new.kind),
            new.document_id
        )));
    }
    let row = schedule::ActiveModel {
        document_type: Set(new.kind.to_owned()),
        document_id: Set(new.document_id),
        action: Set(new.action),
        run_at: Set(new.run_at),
        include_linked: Set(new.include_linked),
        state: Set(ScheduleState::Pending),
        created_by: Set(Some(author.user)),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await;
    match row {
        Ok(row) => Ok(row),
        Err(e) => {
            let e = ApiError::from(e);
            if e.is_unique_violation() {
                Err(ApiError::Conflict {
                    reason: ConflictReason::AlreadyScheduled,
                    message: format!(
                        "this {} already has a pending schedule to {}; cancel it first",
                        human_name(new.kind),
                        verb(new.action)
                    ),
                    current_version: None,
                    documents: Vec::new(),
                })
            } else {
                Err(e)
            }
        }
    }
}

fn verb(action: ScheduleAction) -> &'static str {
    match action {
        ScheduleAction::Publish => "publish",
        ScheduleAction::Unpublish => "unpublish",
    }
}

/// Cancels pending schedule `id`. `NOT_FOUND` when there is none; `CONFLICT`
/// (`WRONG_STATUS`) when it already ran or was cancelled.
pub async fn cancel(db: &DatabaseConnection, id: i32) -> ApiResult<schedule::Model> {
    let result = schedule::Entity::update_many()
        .col_expr(
            schedule::Column::State,
            Expr::value(ScheduleState::Cancelled),
        )
        .col_expr(schedule::Column::FinishedAt, Expr::value(now()))
        .col_expr(schedule::Column::Outcome, Expr::value("cancelled"))
        .filter(schedule::Column::Id.eq(id))
        .filter(schedule::Column::State.eq(ScheduleState::Pending))
        .exec(db)
        .await?;
    let row = get(db, id).await?;
    if result.rows_affected == 0 {
        return Err(ApiError::Conflict {
            reason: ConflictReason::WrongStatus,
            message: "this schedule is no longer pending (it ran or was cancelled)".into(),
            current_version: None,
            documents: Vec::new(),
        });
    }
    Ok(row)
}

/// Schedule `id`, or `NOT_FOUND`.
pub async fn get(db: &DatabaseConnection, id: i32) -> ApiResult<schedule::Model> {
    schedule::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no schedule with id {id}")))
}

/// Cancels the pending schedules of document `id`, saying `why`.
pub async fn cancel_all<E: Document>(
    txn: &DatabaseTransaction,
    id: i32,
    why: &str,
) -> ApiResult<()> {
    schedule::Entity::update_many()
        .col_expr(
            schedule::Column::State,
            Expr::value(ScheduleState::Cancelled),
        )
        .col_expr(schedule::Column::FinishedAt, Expr::value(now()))
        .col_expr(schedule::Column::Outcome, Expr::value(why))
        .filter(schedule::Column::DocumentType.eq(E::KIND))
        .filter(schedule::Column::DocumentId.eq(id))
        .filter(schedule::Column::State.eq(ScheduleState::Pending))
        .exec(txn)
        .await?;
    Ok(())
}

/// Which schedules to list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only these states (all when empty).
    pub states: Vec<ScheduleState>,
    /// Only this document (`kind`, id).
    pub document: Option<(&'static str, i32)>,
    /// Only these schedules (all when empty).
    pub ids: Vec<i32>,
    /// At most this many.
    pub limit: u64,
}

/// A schedule with the title (or name) and slug of its document, when it still exists.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The schedule.
    pub schedule: schedule::Model,
    /// The document's title or name, and slug.
    pub document: Option<(String, String)>,
}

/// Schedules with their documents' titles, read with one statement per document type.
pub async fn list(db: &DatabaseConnection, filter: ListFilter) -> ApiResult<Vec<Listed>> {
    let rows = rows(db, filter).await?;
    let mut labels = std::collections::HashMap::new();
    for kind in ["topic", "condition", "side_effect"] {
        let ids: Vec<i32> = rows
            .iter()
            .filter(|row| row.document_type == kind)
            .map(|row| row.document_id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        let found: Vec<(i32, String, String)> = match kind {
            "topic" => labelled::<topic::Entity>(db, ids).await?,
            "condition" => labelled::<condition::Entity>(db, ids).await?,
            _ => labelled::<side_effect::Entity>(db, ids).await?,
        };
        for (id, label, slug) in found {
            labels.insert((kind, id), (label, slug));
        }
    }
    Ok(rows
        .into_iter()
        .map(|schedule| {
            let kind: &str = &schedule.document_type;
            let document = labels
                .iter()
                .find(|((k, id), _)| *k == kind && *id == schedule.document_id)
                .map(|(_, v)| v.clone());
            Listed { schedule, document }
        })
        .collect())
}

async fn labelled<E: Document>(
    db: &DatabaseConnection,
    ids: Vec<i32>,
) -> ApiResult<Vec<(i32, String, String)>> {
    Ok(E::find()
        .select_only()
        .column(E::ID)
        .column(E::LABEL)
        .column(E::SLUG)
        .filter(E::ID.is_in(ids))
        .into_tuple()
        .all(db)
        .await?)
}

/// Schedules: pending ones first, each group by time.
async fn rows(db: &DatabaseConnection, filter: ListFilter) -> ApiResult<Vec<schedule::Model>> {
    let mut select = schedule::Entity::find();
    if !filter.states.is_empty() {
        select = select.filter(schedule::Column::State.is_in(filter.states));
    }
    if !filter.ids.is_empty() {
        select = select.filter(schedule::Column::Id.is_in(filter.ids));
    }
    if let Some((kind, id)) = filter.document {
        select = select
            .filter(schedule::Column::DocumentType.eq(kind))
            .filter(schedule::Column::DocumentId.eq(id));
    }
    let mut rows = select
        .order_by_asc(schedule::Column::RunAt)
        .order_by_asc(schedule::Column::Id)
        .limit(filter.limit)
        .all(db)
        .await?;
    rows.sort_by_key(|row| row.state != ScheduleState::Pending);
    Ok(rows)
}

/// What running a due schedule came to.
#[derive(Debug, Clone)]
pub struct Ran {
    /// The schedule as it ended.
    pub schedule: schedule::Model,
    /// Whether the change was made (a content write to announce).
    pub done: bool,
}

/// Runs the schedules due now, one transaction each, until none is left or `limit` ran.
pub async fn run_due(db: &DatabaseConnection, limit: usize) -> ApiResult<Vec<Ran>> {
    let mut ran = Vec::new();
    while ran.len() < limit {
        let due = schedule::Entity::find()
            .select_only()
            .column(schedule::Column::Id)
            .filter(schedule::Column::State.eq(ScheduleState::Pending))
            .filter(schedule::Column::RunAt.lte(now()))
            .limit(1)
            .into_tuple::<i32>()
            .one(db)
            .await?;
        if due.is_none() {
            break;
        }
        match run_one(db).await? {
            Some(outcome) => ran.push(outcome),
            // Another node took what was due.
            None => break,
        }
    }
    Ok(ran)
}

/// Takes one due schedule and runs it; `None` when none is left to take.
async fn run_one(db: &DatabaseConnection) -> ApiResult<Option<Ran>> {
    let txn = crate::db::begin_content_write(db).await?;
    let mut select = schedule::Entity::find()
        .filter(schedule::Column::State.eq(ScheduleState::Pending))
        .filter(schedule::Column::RunAt.lte(now()))
        .order_by_asc(schedule::Column::RunAt)
        .order_by_asc(schedule::Column::Id)
        .limit(1);
    if txn.get_database_backend() == DbBackend::Postgres {
        select = select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let Some(row) = select.one(&txn).await? else {
        return Ok(None);
    };
    match apply(&txn, &row).await {
        Ok(()) => {
            let done = finish(&txn, row.id, ScheduleState::Done, None, "done").await?;
            txn.commit().await?;
            Ok(Some(Ran {
                schedule: done,
                done: true,
            }))
        }
        // A database fault is not the schedule's: it stays pending for the next tick.
        Err(fault @ (ApiError::Unavailable(_) | ApiError::Internal(_) | ApiError::Database(_))) => {
            Err(fault)
        }
        Err(refused) => {
            // Nothing of the attempt stays; the refusal is recorded on its own.
            drop(txn);
            tracing::info!(schedule = row.id, error = %refused, "a scheduled change was refused");
            let txn = crate::db::begin_write(db).await?;
            let failed = finish(
                &txn,
                row.id,
                ScheduleState::Failed,
                Some(refusal_code(&refused)),
                &refused.to_string(),
            )
            .await?;
            txn.commit().await?;
            Ok(Some(Ran {
                schedule: failed,
                done: false,
            }))
        }
    }
}

/// The code an editor reads: the conflict's reason where there is one.
fn refusal_code(error: &ApiError) -> String {
    match error {
        ApiError::Conflict { reason, .. } => reason.as_str().to_owned(),
        other => other.code().to_owned(),
    }
}

/// Makes the change schedule `row` plans, inside `txn`.
async fn apply(txn: &DatabaseTransaction, row: &schedule::Model) -> ApiResult<()> {
    let Some(user) = row.created_by else {
        return Err(ApiError::Forbidden(
            "the account that planned this schedule no longer exists".into(),
        ));
    };
    let author = Author::user(user);
    let (transition, message) = match row.action {
        ScheduleAction::Publish => (
            Transition::publish(row.include_linked),
            "published on schedule",
        ),
        ScheduleAction::Unpublish => (Transition::Unpublish, "unpublished on schedule"),
    };
    let message = Some(message.to_owned());
    let id = row.document_id;
    match row.document_type.as_str() {
        "topic" => {
            transition_in::<topic::Entity>(txn, id, None, &transition, author, message).await?;
        }
        "condition" => {
            transition_in::<condition::Entity>(txn, id, None, &transition, author, message).await?;
        }
        _ => {
            transition_in::<side_effect::Entity>(txn, id, None, &transition, author, message)
                .await?;
        }
    }
    Ok(())
}

/// Marks pending schedule `id` finished in `state`.
async fn finish<C: ConnectionTrait>(
    conn: &C,
    id: i32,
    state: ScheduleState,
    code: Option<String>,
    outcome: &str,
) -> ApiResult<schedule::Model> {
    schedule::Entity::update_many()
        .col_expr(schedule::Column::State, Expr::value(state))
        .col_expr(schedule::Column::FinishedAt, Expr::value(now()))
        .col_expr(schedule::Column::OutcomeCode, Expr::value(code))
        .col_expr(schedule::Column::Outcome, Expr::value(outcome))
        .filter(schedule::Column::Id.eq(id))
        .filter(schedule::Column::State.eq(ScheduleState::Pending))
        .exec(conn)
        .await?;
    schedule::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no schedule with id {id}")))
}
