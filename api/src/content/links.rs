//! Batched reads of the links between topics and conditions or side effects, in both
//! directions; the GraphQL DataLoaders call these with every key of a page at once.

use std::collections::HashMap;

use entity::{condition, side_effect, topic, topic_condition, topic_side_effect};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, Iterable, QueryFilter,
    QueryOrder, QueryResult, QuerySelect, Related, Select,
};

use super::Visibility;
use super::read_model::PUBLIC_STATUS;
use crate::errors::ApiResult;

/// Links grouped by the key they were asked for.
pub type Grouped<L, T> = HashMap<i32, Vec<(L, T)>>;

/// A link row and the document it leads to, read from one row of a join. The two tables'
/// columns are selected under their own names (no two share a name; a unit test checks),
/// which sea-orm reads directly: `find_also_related` prefixes every column and reads the
/// document as optional, building each column's name with `format!` and an error value for
/// every null, 21% of an uncached topic page's instructions (callgrind).
struct Joined<L, T>(L, T);

impl<L: FromQueryResult, T: FromQueryResult> FromQueryResult for Joined<L, T> {
    fn from_query_result(row: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self(
            L::from_query_result(row, pre)?,
            T::from_query_result(row, pre)?,
        ))
    }
}

/// Joins `select` (link rows, already filtered and ordered) to the documents the links
/// lead to, reads both with [`Joined`] and groups the pairs by `key`.
async fn grouped<L, T>(
    db: &DatabaseConnection,
    select: Select<L>,
    key: impl Fn(&L::Model) -> i32,
) -> ApiResult<Grouped<L::Model, T::Model>>
where
    L: EntityTrait + Related<T>,
    T: EntityTrait,
    L::Model: FromQueryResult,
    T::Model: FromQueryResult,
{
    let rows = select
        .inner_join(T::default())
        .columns(T::Column::iter())
        .into_model::<Joined<L::Model, T::Model>>()
        .all(db)
        .await?;
    let mut out: Grouped<L::Model, T::Model> = HashMap::new();
    for Joined(link, target) in rows {
        out.entry(key(&link)).or_default().push((link, target));
    }
    Ok(out)
}

/// The conditions each topic treats, in the topic's order.
pub async fn conditions_of_topics(
    db: &DatabaseConnection,
    topic_ids: &[i32],
    visibility: Visibility,
) -> ApiResult<Grouped<topic_condition::Model, condition::Model>> {
    let mut select = topic_condition::Entity::find()
        .filter(topic_condition::Column::TopicId.is_in(topic_ids.iter().copied()))
        .order_by_asc(topic_condition::Column::TopicId)
        .order_by_asc(topic_condition::Column::Position);
    if visibility == Visibility::PublishedOnly {
        select = select.filter(condition::Column::Status.eq(PUBLIC_STATUS));
    }
    grouped::<_, condition::Entity>(db, select, |link| link.topic_id).await
}

/// The side effects each topic may cause, in the topic's order.
pub async fn side_effects_of_topics(
    db: &DatabaseConnection,
    topic_ids: &[i32],
    visibility: Visibility,
) -> ApiResult<Grouped<topic_side_effect::Model, side_effect::Model>> {
    let mut select = topic_side_effect::Entity::find()
        .filter(topic_side_effect::Column::TopicId.is_in(topic_ids.iter().copied()))
        .order_by_asc(topic_side_effect::Column::TopicId)
        .order_by_asc(topic_side_effect::Column::Position);
    if visibility == Visibility::PublishedOnly {
        select = select.filter(side_effect::Column::Status.eq(PUBLIC_STATUS));
    }
    grouped::<_, side_effect::Entity>(db, select, |link| link.topic_id).await
}

/// The topics that treat each condition, by title.
pub async fn topics_of_conditions(
    db: &DatabaseConnection,
    condition_ids: &[i32],
    visibility: Visibility,
) -> ApiResult<Grouped<topic_condition::Model, topic::Model>> {
    let mut select = topic_condition::Entity::find()
        .filter(topic_condition::Column::ConditionId.is_in(condition_ids.iter().copied()))
        .order_by_asc(Expr::expr(Func::lower(Expr::col((
            topic::Entity,
            topic::Column::Title,
        )))))
        .order_by_asc(topic::Column::Id);
    if visibility == Visibility::PublishedOnly {
        select = select.filter(topic::Column::Status.eq(PUBLIC_STATUS));
    }
    grouped::<_, topic::Entity>(db, select, |link| link.condition_id).await
}

/// The topics that may cause each side effect, by title.
pub async fn topics_of_side_effects(
    db: &DatabaseConnection,
    side_effect_ids: &[i32],
    visibility: Visibility,
) -> ApiResult<Grouped<topic_side_effect::Model, topic::Model>> {
    let mut select = topic_side_effect::Entity::find()
        .filter(topic_side_effect::Column::SideEffectId.is_in(side_effect_ids.iter().copied()))
        .order_by_asc(Expr::expr(Func::lower(Expr::col((
            topic::Entity,
            topic::Column::Title,
        )))))
        .order_by_asc(topic::Column::Id);
    if visibility == Visibility::PublishedOnly {
        select = select.filter(topic::Column::Status.eq(PUBLIC_STATUS));
    }
    grouped::<_, topic::Entity>(db, select, |link| link.side_effect_id).await
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use sea_orm::{EntityTrait, IdenStatic, Iterable};

    use super::*;

    fn names<E: EntityTrait>() -> HashSet<String> {
        E::Column::iter().map(|c| c.as_str().to_owned()).collect()
    }

    /// `Joined` reads both tables' columns by their bare names: they must not collide.
    #[test]
    fn joined_tables_share_no_column_name() {
        let pairs = [
            (
                names::<topic_condition::Entity>(),
                names::<condition::Entity>(),
            ),
            (
                names::<topic_side_effect::Entity>(),
                names::<side_effect::Entity>(),
            ),
            (names::<topic_condition::Entity>(), names::<topic::Entity>()),
            (
                names::<topic_side_effect::Entity>(),
                names::<topic::Entity>(),
            ),
        ];
        for (link, document) in pairs {
            assert!(link.is_disjoint(&document), "{link:?} / {document:?}");
        }
    }
}
