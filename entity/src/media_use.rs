//! That a document's Markdown shows a media item (`![alt](media:ID)`).

use sea_orm::entity::prelude::*;

/// A row of `media_uses`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "media_uses")]
pub struct Model {
    /// The item shown.
    #[sea_orm(primary_key, auto_increment = false)]
    pub media_id: i32,
    /// `TOPIC`, `CONDITION` or `SIDE_EFFECT`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub document_type: String,
    /// The document's id in its table.
    #[sea_orm(primary_key, auto_increment = false)]
    pub document_id: i32,
}

/// The item a use names.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The media item.
    #[sea_orm(
        belongs_to = "super::media::Entity",
        from = "Column::MediaId",
        to = "super::media::Column::Id"
    )]
    Media,
}

impl Related<super::media::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Media.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
