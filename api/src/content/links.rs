//! Batched reads of the links between topics and conditions or side effects, in both
//! directions; the GraphQL DataLoaders call these with every key of a page at once.

use std::collections::HashMap;

use entity::{ContentStatus, condition, side_effect, topic, topic_condition, topic_side_effect};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, ModelTrait, QueryFilter, QueryOrder, SelectTwo,
};

use super::Visibility;
use crate::errors::ApiResult;

/// Links grouped by the key they were asked for.
pub type Grouped<L, T> = HashMap<i32, Vec<(L, T)>>;

async fn grouped<L, T>(
    db: &DatabaseConnection,
    select: SelectTwo<L, T>,
    key: impl Fn(&L::Model) -> i32,
) -> ApiResult<Grouped<L::Model, T::Model>>
where
    L: EntityTrait,
    T: EntityTrait,
    L::Model: ModelTrait,
{
    let mut out: Grouped<L::Model, T::Model> = HashMap::new();
    for (link, target) in select.all(db).await? {
        if let Some(target) = target {
            out.entry(key(&link)).or_default().push((link, target));
        }
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
        .find_also_related(condition::Entity)
        .filter(topic_condition::Column::TopicId.is_in(topic_ids.iter().copied()))
        .order_by_asc(topic_condition::Column::TopicId)
        .order_by_asc(topic_condition::Column::Position);
    if visibility == Visibility::PublishedOnly {
        select = select.filter(condition::Column::Status.eq(ContentStatus::Published));
    }
    grouped(db, select, |link| link.topic_id).await
}

/// The side effects each topic may cause, in the topic's order.
pub async fn side_effects_of_topics(
    db: &DatabaseConnection,
    topic_ids: &[i32],
    visibility: Visibility,
) -> ApiResult<Grouped<topic_side_effect::Model, side_effect::Model>> {
    let mut select = topic_side_effect::Entity::find()
        .find_also_related(side_effect::Entity)
        .filter(topic_side_effect::Column::TopicId.is_in(topic_ids.iter().copied()))
        .order_by_asc(topic_side_effect::Column::TopicId)
        .order_by_asc(topic_side_effect::Column::Position);
    if visibility == Visibility::PublishedOnly {
        select = select.filter(side_effect::Column::Status.eq(ContentStatus::Published));
    }
    grouped(db, select, |link| link.topic_id).await
}

/// The topics that treat each condition, by title.
pub async fn topics_of_conditions(
    db: &DatabaseConnection,
    condition_ids: &[i32],
    visibility: Visibility,
) -> ApiResult<Grouped<topic_condition::Model, topic::Model>> {
    let mut select = topic_condition::Entity::find()
        .find_also_related(topic::Entity)
        .filter(topic_condition::Column::ConditionId.is_in(condition_ids.iter().copied()))
        .order_by_asc(topic::Column::Title)
        .order_by_asc(topic::Column::Id);
    if visibility == Visibility::PublishedOnly {
        select = select.filter(topic::Column::Status.eq(ContentStatus::Published));
    }
    grouped(db, select, |link| link.condition_id).await
}

/// The topics that may cause each side effect, by title.
pub async fn topics_of_side_effects(
    db: &DatabaseConnection,
    side_effect_ids: &[i32],
    visibility: Visibility,
) -> ApiResult<Grouped<topic_side_effect::Model, topic::Model>> {
    let mut select = topic_side_effect::Entity::find()
        .find_also_related(topic::Entity)
        .filter(topic_side_effect::Column::SideEffectId.is_in(side_effect_ids.iter().copied()))
        .order_by_asc(topic::Column::Title)
        .order_by_asc(topic::Column::Id);
    if visibility == Visibility::PublishedOnly {
        select = select.filter(topic::Column::Status.eq(ContentStatus::Published));
    }
    grouped(db, select, |link| link.side_effect_id).await
}
