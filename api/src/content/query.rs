//! Lookups and filtered, ordered, paginated lists of documents.

use entity::{ContentStatus, condition, side_effect, topic, topic_condition, topic_side_effect};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, IntoIden, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select, Value,
};

use super::Visibility;
use super::document::{Document, SortField, SortValue};
use super::pagination::{Cursor, Direction, Ordering, Page, PageArgs, PageRequest};
use super::read_model::PUBLIC_STATUS;
use crate::errors::{ApiError, ApiResult};

/// Longest accepted search string.
pub const MAX_SEARCH_LEN: usize = 200;

/// A document by slug, if it exists and is visible.
pub async fn find_by_slug<E: Document>(
    db: &DatabaseConnection,
    slug: &str,
    visibility: Visibility,
) -> ApiResult<Option<E::Model>> {
    Ok(crate::db::unique(
        visible::<E>(E::find(), visibility).filter(E::SLUG.eq(slug)),
        db,
    )
    .await?)
}

/// Restricts a select to what `visibility` may see.
pub fn visible<E: Document>(select: Select<E>, visibility: Visibility) -> Select<E> {
    match visibility {
        Visibility::PublishedOnly => select.filter(E::STATUS.eq(PUBLIC_STATUS)),
        Visibility::All => select,
    }
}

/// The words of a search: runs of letters and digits, lower-cased, at most 16.
fn search_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(16)
        .map(str::to_lowercase)
        .collect()
}

/// Full-text search: every word must begin a word of one of the document's search
/// columns (`micro` finds "microneedling"), case-insensitively. It uses the full-text
/// indexes of migration `m20261125_000006_search`: FTS5 on SQLite, GIN over
/// `to_tsvector('simple', ...)` on PostgreSQL. Text without letters or digits finds nothing.
pub fn search<E: Document>(
    select: Select<E>,
    text: &str,
    backend: DbBackend,
) -> ApiResult<Select<E>> {
    let Some(query) = search_query(text, backend)? else {
        return Ok(select.filter(Expr::cust("1 = 0")));
    };
    let table = E::default().table_name().to_owned();
    let placeholder = if backend == DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let condition = search_condition(&table, &format!("\"{table}\""), backend, placeholder);
    Ok(select.filter(Expr::cust_with_values(condition, [query])))
}

/// The full-text query for a `search` text: an FTS5 `MATCH` expression on SQLite, a
/// `tsquery` on PostgreSQL; `None` when the text has no letters or digits (it finds
/// nothing). Too long a text is `BAD_USER_INPUT` on `filter.search`.
pub fn search_query(text: &str, backend: DbBackend) -> ApiResult<Option<String>> {
    if text.chars().count() > MAX_SEARCH_LEN {
        return Err(ApiError::bad_input(
            "filter.search",
            format!("`search` is limited to {MAX_SEARCH_LEN} characters"),
        ));
    }
    let words = search_words(text);
    if words.is_empty() {
        return Ok(None);
    }
    // Words are letters and digits only, so they are safe inside either query language.
    Ok(Some(if backend == DbBackend::Postgres {
        words
            .iter()
            .map(|w| format!("{w}:*"))
            .collect::<Vec<_>>()
            .join(" & ")
    } else {
        words
            .iter()
            .map(|w| format!("\"{w}\"*"))
            .collect::<Vec<_>>()
            .join(" AND ")
    }))
}

/// The SQL condition that keeps the rows of `table` (named `row` in the query: the table
/// or its alias) matching the [`search_query`] bound at `placeholder`.
pub fn search_condition(table: &str, row: &str, backend: DbBackend, placeholder: &str) -> String {
    if backend == DbBackend::Postgres {
        // `OFFSET 0` keeps the planner from flattening the subquery: it cannot estimate
        // how many rows a prefix query matches (it guesses 2%), and flattened it walks the
        // whole title index checking each row (325 ms for a word in one topic of 100,000)
        // instead of reading the GIN index and sorting the few matches (1.5 ms).
        format!(
            "{row}.\"id\" IN (SELECT \"id\" FROM \"{table}\" WHERE \"{}\" @@ to_tsquery('simple', {placeholder}) OFFSET 0)",
            migration::SEARCH_COLUMN
        )
    } else {
        format!(
            "{row}.\"id\" IN (SELECT rowid FROM \"{table}_search\" WHERE \"{table}_search\" MATCH {placeholder})"
        )
    }
}

/// One side of a link table, used to filter by what a document is linked to.
pub struct LinkSide {
    link_table: sea_orm::sea_query::DynIden,
    own_column: sea_orm::sea_query::DynIden,
    other_column: sea_orm::sea_query::DynIden,
    other_table: sea_orm::sea_query::DynIden,
}

impl LinkSide {
    /// Topics, filtered by a linked condition.
    pub fn topic_to_condition() -> Self {
        Self::new(
            topic_condition::Entity,
            topic_condition::Column::TopicId,
            topic_condition::Column::ConditionId,
            condition::Entity,
        )
    }

    /// Topics, filtered by a linked side effect.
    pub fn topic_to_side_effect() -> Self {
        Self::new(
            topic_side_effect::Entity,
            topic_side_effect::Column::TopicId,
            topic_side_effect::Column::SideEffectId,
            side_effect::Entity,
        )
    }

    /// Conditions, filtered by a topic that links to them.
    pub fn condition_to_topic() -> Self {
        Self::new(
            topic_condition::Entity,
            topic_condition::Column::ConditionId,
            topic_condition::Column::TopicId,
            topic::Entity,
        )
    }

    /// Side effects, filtered by a topic that links to them.
    pub fn side_effect_to_topic() -> Self {
        Self::new(
            topic_side_effect::Entity,
            topic_side_effect::Column::SideEffectId,
            topic_side_effect::Column::TopicId,
            topic::Entity,
        )
    }

    fn new(
        link_table: impl IntoIden,
        own_column: impl IntoIden,
        other_column: impl IntoIden,
        other_table: impl IntoIden,
    ) -> Self {
        Self {
            link_table: link_table.into_iden(),
            own_column: own_column.into_iden(),
            other_column: other_column.into_iden(),
            other_table: other_table.into_iden(),
        }
    }

    /// `SELECT own FROM link JOIN other WHERE other.slug = ? [AND other.status = PUBLISHED]`.
    fn ids_linked_to(&self, slug: &str, visibility: Visibility) -> SelectStatement {
        let mut query = Query::select();
        query
            .column((self.link_table.clone(), self.own_column.clone()))
            .from(self.link_table.clone())
            .inner_join(
                self.other_table.clone(),
                Expr::col((self.other_table.clone(), "id".into_iden()))
                    .equals((self.link_table.clone(), self.other_column.clone())),
            )
            .and_where(Expr::col((self.other_table.clone(), "slug".into_iden())).eq(slug));
        if visibility == Visibility::PublishedOnly {
            query.and_where(
                Expr::col((self.other_table.clone(), "status".into_iden()))
                    .eq(super::read_model::public_status()),
            );
        }
        query
    }
}

use sea_orm::ActiveEnum as _;

/// Keeps documents linked to the document with `slug` on the other side of `link`.
pub fn linked_to<E: Document>(
    select: Select<E>,
    link: &LinkSide,
    slug: &str,
    visibility: Visibility,
) -> Select<E> {
    select
        .filter(Expr::col((E::default(), E::ID)).in_subquery(link.ids_linked_to(slug, visibility)))
}

fn sort_expr<E: Document>(field: SortField) -> Expr {
    match field {
        // Case-insensitive, as `read_model::View::sort_key`.
        SortField::Label => Expr::expr(Func::lower(Expr::col((E::default(), E::LABEL)))),
        SortField::UpdatedAt => Expr::col((E::default(), E::UPDATED_AT)),
        SortField::PublishedAt => Expr::col((E::default(), E::PUBLISHED_AT))
            .if_null(Value::from(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH)),
    }
}

fn sort_value(value: &SortValue) -> Value {
    match value {
        SortValue::Text(text) => Value::from(text.clone()),
        SortValue::Time(time) => Value::from(*time),
    }
}

/// Rows strictly after (`greater`) or before the cursor in ascending (value, id) order.
fn beyond<E: Document>(cursor: &Cursor, greater: bool) -> Expr {
    let key = sort_expr::<E>(cursor.field);
    let id = Expr::col((E::default(), E::ID));
    let value = match cursor.field {
        SortField::Label => Expr::expr(Func::lower(Expr::value(sort_value(&cursor.value)))),
        _ => Expr::value(sort_value(&cursor.value)),
    };
    if greater {
        key.clone()
            .gt(value.clone())
            .or(key.eq(value).and(id.gt(cursor.id)))
    } else {
        key.clone()
            .lt(value.clone())
            .or(key.eq(value).and(id.lt(cursor.id)))
    }
}

/// Does any row of `select` match `condition`? One `LIMIT 1` query.
async fn any_row<E: Document>(
    db: &DatabaseConnection,
    select: &Select<E>,
    condition: Expr,
) -> ApiResult<bool> {
    let row: Option<i32> = select
        .clone()
        .filter(condition)
        .select_only()
        .column(E::ID)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.is_some())
}

/// How a list's `totalCount` is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Total {
    /// Not asked for.
    None,
    /// By counting the filtered rows.
    Rows,
    /// The list is every document of these statuses: from `document_counts`, which
    /// triggers keep exact (migration `m20261202_000010_document_counts`).
    Statuses(Vec<ContentStatus>),
}

/// How many documents of type `E` have one of `statuses`, from `document_counts`.
async fn counted<E: Document>(
    db: &DatabaseConnection,
    statuses: &[ContentStatus],
) -> ApiResult<u64> {
    let n = || Expr::col(Alias::new("n"));
    // PostgreSQL sums a BIGINT into a NUMERIC: back to BIGINT, which both databases read.
    let total = Func::cast_as(
        Func::coalesce([Expr::from(Func::sum(n())), Expr::val(0)]),
        Alias::new("BIGINT"),
    );
    let query = Query::select()
        .expr_as(total, Alias::new("n"))
        .from(Alias::new("document_counts"))
        .and_where(Expr::col(Alias::new("table_name")).eq(E::default().table_name()))
        .and_where(Expr::col(Alias::new("status")).is_in(statuses.iter().map(|s| s.to_value())))
        .to_owned();
    let row = db
        .query_one_raw(db.get_database_backend().build(&query))
        .await?;
    let n = row.map(|row| row.try_get::<i64>("", "n")).transpose()?;
    Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
}

/// A page of `base` (already filtered) in `ordering`, with its `total`.
pub async fn paginate<E: Document>(
    db: &DatabaseConnection,
    base: Select<E>,
    ordering: Ordering,
    args: &PageArgs,
    total: Total,
) -> ApiResult<Page<E::Model>> {
    let PageRequest {
        forward,
        limit,
        after,
        before,
    } = args.validate(ordering)?;
    let ascending = ordering.direction == Direction::Asc;
    // "after" means greater in ascending order, smaller in descending order.
    let mut query = base.clone();
    if let Some(cursor) = &after {
        query = query.filter(beyond::<E>(cursor, ascending));
    }
    if let Some(cursor) = &before {
        query = query.filter(beyond::<E>(cursor, !ascending));
    }
    let read_ascending = ascending == forward;
    let order = if read_ascending {
        Order::Asc
    } else {
        Order::Desc
    };
    let mut rows = query
        .order_by(sort_expr::<E>(ordering.field), order.clone())
        .order_by(Expr::col((E::default(), E::ID)), order)
        .limit(limit + 1)
        .all(db)
        .await?;
    let has_more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    if !forward {
        rows.reverse();
    }
    // Rows on the far side of a cursor exist when the cursor row itself or anything beyond it does.
    let beyond_cursor = async |cursor: &Option<Cursor>, after_side: bool| -> ApiResult<bool> {
        match cursor {
            Some(cursor) => {
                let outward = if after_side { !ascending } else { ascending };
                let inward = beyond::<E>(cursor, !outward);
                any_row(db, &base, inward.not()).await
            }
            None => Ok(false),
        }
    };
    let (has_next_page, has_previous_page) = if forward {
        (
            has_more || beyond_cursor(&before, false).await?,
            beyond_cursor(&after, true).await?,
        )
    } else {
        (
            beyond_cursor(&before, false).await?,
            has_more || beyond_cursor(&after, true).await?,
        )
    };
    let total_count = match total {
        Total::None => None,
        Total::Rows => Some(base.count(db).await?),
        Total::Statuses(statuses) => Some(counted::<E>(db, &statuses).await?),
    };
    let edges = rows
        .into_iter()
        .map(|row| {
            let cursor = Cursor {
                field: ordering.field,
                value: E::sort_value(&row, ordering.field),
                id: E::id(&row),
            };
            (cursor.encode(), row)
        })
        .collect();
    Ok(Page {
        edges,
        has_next_page,
        has_previous_page,
        total_count,
    })
}
