//! A failed login, counted by the throttle.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A row of `login_failures`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "login_failures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// `account:<email>` or `client:<address>`.
    pub key: String,
    pub at: DateTimeUtc,
}

/// Failures have no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
