//! The link from a topic to a side effect it may cause, with how common, severe and lasting it is.

use sea_orm::entity::prelude::*;

use crate::{Duration, Frequency, Severity};

/// A row of `topic_side_effects`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "topic_side_effects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub topic_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub side_effect_id: i32,
    pub position: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    pub frequency: Frequency,
    pub severity: Severity,
    pub duration: Duration,
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
    /// The side effect linked to.
    #[sea_orm(
        belongs_to = "super::side_effect::Entity",
        from = "Column::SideEffectId",
        to = "super::side_effect::Column::Id",
        on_delete = "Cascade"
    )]
    SideEffect,
}

impl Related<super::topic::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Topic.def()
    }
}

impl Related<super::side_effect::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SideEffect.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
