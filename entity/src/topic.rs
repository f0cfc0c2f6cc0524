//! A procedure such as microneedling.

use sea_orm::entity::prelude::*;

use crate::{
    ContentStatus,
    json::{ReferenceList, TextList},
};

/// A row of `topics`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "topics")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub slug: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// `body` rendered to sanitized HTML when it was written (null until the server has
    /// rendered a row written without it). Derived, so neither revisions nor exports carry it (their formats are `dermis_api::content::snapshot`'s).
    #[sea_orm(column_type = "Text", nullable)]
    pub body_html: Option<String>,
    #[sea_orm(column_type = "Json")]
    pub features: TextList,
    #[sea_orm(column_type = "Json")]
    pub benefits: TextList,
    #[sea_orm(column_type = "Json")]
    pub references: ReferenceList,
    pub reviewed_at: Option<DateTimeUtc>,
    pub reviewed_by: Option<i32>,
    /// When the next medical review is due (set by an approval).
    pub review_due_at: Option<DateTimeUtc>,
    /// The reviewer's note of the last approval or request for changes.
    #[sea_orm(column_type = "Text", nullable)]
    pub review_note: Option<String>,
    /// Whether the content as it stands is the approved one (a content save clears it).
    pub approved: bool,
    /// The hero image (a row of `media`).
    pub image_id: Option<i32>,
    pub status: ContentStatus,
    pub published_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<i32>,
    pub updated_by: Option<i32>,
}

/// Relations of a topic.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Links to the conditions this topic treats.
    #[sea_orm(has_many = "super::topic_condition::Entity")]
    TopicCondition,
    /// Links to the side effects this topic may cause.
    #[sea_orm(has_many = "super::topic_side_effect::Entity")]
    TopicSideEffect,
    /// The hero image.
    #[sea_orm(
        belongs_to = "super::media::Entity",
        from = "Column::ImageId",
        to = "super::media::Column::Id",
        on_delete = "SetNull"
    )]
    Image,
}

impl Related<super::topic_condition::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::TopicCondition.def()
    }
}

impl Related<super::topic_side_effect::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::TopicSideEffect.def()
    }
}

impl Related<super::media::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Image.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
