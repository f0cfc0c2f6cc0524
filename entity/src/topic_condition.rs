//! The link from a topic to a condition it treats.

use sea_orm::entity::prelude::*;

/// A row of `topic_conditions`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "topic_conditions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub topic_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub condition_id: i32,
    pub position: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
}

/// Relations of a link.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The topic that links.
    #[sea_orm(
        belongs_to = "super::topic::Entity",
        from = "Column::TopicId",
        to = "super::topic::Column::Id",
        on_delete = "Cascade"
    )]
    Topic,
    /// The condition linked to.
    #[sea_orm(
        belongs_to = "super::condition::Entity",
        from = "Column::ConditionId",
        to = "super::condition::Column::Id",
        on_delete = "Cascade"
    )]
    Condition,
}

impl Related<super::topic::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Topic.def()
    }
}

impl Related<super::condition::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Condition.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
