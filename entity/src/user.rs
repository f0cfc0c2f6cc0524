//! A person who signs in to the CMS.

use sea_orm::entity::prelude::*;

use crate::Role;

/// A row of `users`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Lower-cased, unique.
    #[sea_orm(unique)]
    pub email: String,
    pub display_name: String,
    /// Argon2id PHC string.
    #[sea_orm(column_type = "Text")]
    pub password_hash: String,
    pub role: Role,
    pub active: bool,
    /// Bumped to revoke every session of the user at once.
    pub token_version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
}

/// Users have no navigable relations here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
