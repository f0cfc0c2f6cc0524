//! A refresh-token session of a user.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A row of `sessions`: one refresh token; rotation links rows through `family_id`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    /// Shared by every token descending from one login.
    pub family_id: String,
    /// SHA-256 (hex) of the refresh token.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The user's `token_version` when the session began.
    pub token_version: i32,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Set when the token was exchanged for a new one.
    pub rotated_at: Option<DateTimeUtc>,
    /// Set on logout or when reuse was detected.
    pub revoked_at: Option<DateTimeUtc>,
}

/// Sessions have no navigable relations here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
