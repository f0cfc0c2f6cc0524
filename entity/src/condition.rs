//! A skin condition a procedure treats, such as acne.

use sea_orm::entity::prelude::*;

use crate::ContentStatus;

/// A row of `conditions`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conditions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// `description` rendered to sanitized HTML when it was written (null until the server
    /// has rendered a row written without it). Derived, so neither revisions nor exports
    /// carry it.
    #[sea_orm(column_type = "Text", nullable)]
    pub description_html: Option<String>,
    pub status: ContentStatus,
    pub published_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<i32>,
    pub updated_by: Option<i32>,
}

/// Relations of this document.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Links from the topics that point here.
    #[sea_orm(has_many = "super::topic_condition::Entity")]
    TopicLink,
}

impl Related<super::topic_condition::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::TopicLink.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
