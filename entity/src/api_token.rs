//! An API token: a long-lived credential an admin gives an integration.

use sea_orm::entity::prelude::*;

/// A row of `api_tokens`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// What it is for, as the admin named it.
    pub name: String,
    /// The secret's first characters (shown in lists).
    pub prefix: String,
    /// SHA-256 (hex) of the secret.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// Comma-separated scope names.
    pub scopes: String,
    /// The admin who created it; it works only while they are active.
    pub created_by: i32,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// Last authenticated request, at most a minute behind.
    pub last_used_at: Option<DateTimeUtc>,
}

/// API tokens have no navigable relations here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
