//! The medical review of topics: `DRAFT -> IN_REVIEW -> APPROVED -> PUBLISHED`.
//!
//! A topic's `approved` flag says whether its content as it stands is the approved one: an
//! approval sets it (with who, when, the note and the next review's due date), and any save
//! that changes the content clears it (a topic in review or approved goes back to draft; a
//! published one stays published, listed as changed since its review). Publishing needs it,
//! unless an admin overrides with a reason, which the revision records
//! (`content::edit::transition_in`). Who may approve is the caller's rule (`graphql`).

use chrono::{DateTime, Utc};
use entity::{ContentStatus, topic};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::edit::{bump, document_ref, find, record};
use super::events::Change;
use super::{Author, now};
use crate::errors::{ApiError, ApiResult, ConflictReason, DocumentRef};

/// Longest review note.
pub const MAX_NOTE_CHARS: usize = 2000;

/// An approval of a topic's content: when the next review is due, and the note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// The next review's due date.
    pub due_at: DateTime<Utc>,
    /// The reviewer's note.
    pub note: Option<String>,
}

impl Approval {
    /// An approval due at `due_at` (which must lie ahead) with an optional `note`; errors
    /// name `field` and `note_field`.
    pub fn parse(
        due_at: DateTime<Utc>,
        note: Option<String>,
        field: &str,
        note_field: &str,
    ) -> ApiResult<Self> {
        if due_at <= now() {
            return Err(ApiError::bad_input(
                field,
                "the next review must be due in the future",
            ));
        }
        Ok(Self {
            due_at,
            note: note
                .map(|n| parse_note(n, note_field))
                .transpose()?
                .flatten(),
        })
    }

    /// The columns an approval by `author` sets: approved now, by them; a topic not yet
    /// published becomes `APPROVED`, a published one stays published.
    pub fn sets(self, author: Author) -> Vec<(topic::Column, Expr)> {
        vec![
            (topic::Column::Approved, Expr::value(true)),
            (topic::Column::ReviewedAt, Expr::value(now())),
            (topic::Column::ReviewedBy, Expr::value(author.user)),
            (topic::Column::ReviewDueAt, Expr::value(self.due_at)),
            (topic::Column::ReviewNote, Expr::value(self.note)),
            (
                topic::Column::Status,
                status_unless_published(ContentStatus::Approved),
            ),
        ]
    }
}

/// `status`, unless the topic is published or archived (then its status stays).
fn status_unless_published(status: ContentStatus) -> Expr {
    Expr::case(
        Expr::col(topic::Column::Status).is_in([
            Expr::value(ContentStatus::Published),
            Expr::value(ContentStatus::Archived),
        ]),
        Expr::col(topic::Column::Status),
    )
    .finally(Expr::value(status))
    .into()
}

/// The columns a content save sets: the approval is withdrawn, and a topic in review or
/// approved is a draft again.
pub fn withdrawn() -> Vec<(topic::Column, Expr)> {
    vec![
        (topic::Column::Approved, Expr::value(false)),
        (
            topic::Column::Status,
            status_unless_published(ContentStatus::Draft),
        ),
    ]
}

/// A note: trimmed, `None` when empty, `BAD_USER_INPUT` on `field` when too long.
fn parse_note(note: String, field: &str) -> ApiResult<Option<String>> {
    let note = note.trim();
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::bad_input(
            field,
            format!("a review note is limited to {MAX_NOTE_CHARS} characters"),
        ));
    }
    Ok((!note.is_empty()).then(|| note.to_owned()))
}

/// The refusal to publish content that did not pass review.
pub fn not_approved(document: DocumentRef) -> ApiError {
    ApiError::Conflict {
        reason: ConflictReason::NotApproved,
        message: format!(
            "the {} {} has not been approved since its content last changed; a reviewer must approve it first (or an admin publish it with overrideReview)",
            document.kind.to_lowercase(),
            document.slug
        ),
        current_version: None,
        documents: vec![document],
    }
}

/// A step of the review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An editor hands a draft to the reviewers.
    Submit,
    /// A reviewer approves the content as it stands.
    Approve(Approval),
    /// A reviewer sends it back to draft, saying why.
    RequestChanges {
        /// What must change.
        note: String,
    },
}

impl Step {
    /// Request changes with `note` (required), errors naming `field`.
    pub fn request_changes(note: String, field: &str) -> ApiResult<Self> {
        match parse_note(note, field)? {
            Some(note) => Ok(Self::RequestChanges { note }),
            None => Err(ApiError::bad_input(field, "say what must change")),
        }
    }

    /// The statuses it starts from.
    fn from(&self) -> &'static [ContentStatus] {
        match self {
            Self::Submit => &[ContentStatus::Draft],
            Self::Approve(_) => &[
                ContentStatus::Draft,
                ContentStatus::InReview,
                ContentStatus::Approved,
                ContentStatus::Published,
            ],
            Self::RequestChanges { .. } => &[ContentStatus::InReview, ContentStatus::Approved],
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Submit => "submitted for review".into(),
            Self::Approve(Approval { note: None, .. }) => "approved".into(),
            Self::Approve(Approval { note: Some(n), .. }) => format!("approved: {n}"),
            Self::RequestChanges { note } => format!("changes requested: {note}"),
        }
    }
}

/// Takes review step `step` on topic `id` at `expected` version, as `author`.
pub async fn step(
    db: &DatabaseConnection,
    id: i32,
    expected: i32,
    step: Step,
    author: Author,
) -> ApiResult<topic::Model> {
    let txn = crate::db::begin_content_write(db).await?;
    let current = find::<topic::Entity, _>(&txn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no topic with id {id}")))?;
    if current.version != expected {
        return Err(ApiError::stale("topic", current.version));
    }
    if !step.from().contains(&current.status) {
        return Err(wrong_status(&current, &step));
    }
    let message = step.message();
    let sets = match step {
        Step::Submit => vec![(topic::Column::Status, Expr::value(ContentStatus::InReview))],
        Step::Approve(approval) => approval.sets(author),
        Step::RequestChanges { note } => vec![
            (topic::Column::Status, Expr::value(ContentStatus::Draft)),
            (topic::Column::Approved, Expr::value(false)),
            (topic::Column::ReviewNote, Expr::value(note)),
        ],
    };
    let model = bump::<topic::Entity, _>(&txn, id, Some(expected), author, sets).await?;
    record::<topic::Entity>(&txn, &model, Change::Reviewed, author, Some(message)).await?;
    txn.commit().await?;
    Ok(model)
}

fn wrong_status(current: &topic::Model, step: &Step) -> ApiError {
    let status = sea_orm::ActiveEnum::to_value(&current.status);
    let what = match step {
        Step::Submit => "only a draft can be submitted for review",
        Step::Approve(_) => "an archived topic cannot be approved; unarchive it first",
        Step::RequestChanges { .. } => "changes can be requested of a topic in review or approved",
    };
    ApiError::Conflict {
        reason: ConflictReason::WrongStatus,
        message: format!("{what} (the topic is {status})"),
        current_version: Some(current.version),
        documents: vec![document_ref::<topic::Entity>(current)],
    }
}

/// How many topics to list in each part of the review queue.
pub const QUEUE_LIMIT: u64 = 100;

/// What waits for the reviewers and editors: each part's first [`QUEUE_LIMIT`] topics and
/// how many there are.
#[derive(Debug, Clone, Default)]
pub struct Queue {
    /// In review, oldest change first.
    pub waiting: (Vec<topic::Model>, u64),
    /// Approved, not yet published, oldest change first.
    pub approved: (Vec<topic::Model>, u64),
    /// Review due before now (not archived), most overdue first.
    pub overdue: (Vec<topic::Model>, u64),
    /// Published without an approval of their current content, oldest change first.
    pub unapproved_published: (Vec<topic::Model>, u64),
}

/// Reads the review queue.
pub async fn queue(db: &DatabaseConnection) -> ApiResult<Queue> {
    let status = |s: ContentStatus| {
        topic::Entity::find()
            .filter(topic::Column::Status.eq(s))
            .order_by_asc(topic::Column::UpdatedAt)
            .order_by_asc(topic::Column::Id)
    };
    let overdue = topic::Entity::find()
        .filter(topic::Column::ReviewDueAt.lt(now()))
        .filter(topic::Column::Status.ne(ContentStatus::Archived))
        .order_by_asc(topic::Column::ReviewDueAt)
        .order_by_asc(topic::Column::Id);
    let unapproved = status(ContentStatus::Published).filter(topic::Column::Approved.eq(false));
    Ok(Queue {
        waiting: part(db, status(ContentStatus::InReview)).await?,
        approved: part(db, status(ContentStatus::Approved)).await?,
        overdue: part(db, overdue).await?,
        unapproved_published: part(db, unapproved).await?,
    })
}

async fn part(
    db: &DatabaseConnection,
    select: sea_orm::Select<topic::Entity>,
) -> ApiResult<(Vec<topic::Model>, u64)> {
    let total = select.clone().count(db).await?;
    let rows = select.limit(QUEUE_LIMIT).all(db).await?;
    Ok((rows, total))
}
