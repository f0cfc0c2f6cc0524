//! Login throttle: failures are recorded per account and per client address in the
//! database (so every node counts the same), and a key over its limit within the window
//! is refused with `RATE_LIMITED` before any password is checked.

use std::time::Duration;

use entity::login_failure;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use crate::content::now;
use crate::errors::{ApiError, ApiResult};

/// Throttle limits.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    /// Failures allowed per account within `window`.
    pub per_account: u64,
    /// Failures allowed per client address within `window`.
    pub per_client: u64,
    /// The sliding window.
    pub window: Duration,
}

/// The throttle keys of a login attempt.
pub fn keys(email: &str, client: Option<&str>) -> Vec<(String, bool)> {
    let mut keys = vec![(format!("account:{email}"), true)];
    if let Some(client) = client {
        keys.push((format!("client:{client}"), false));
    }
    keys
}

fn window(settings: &ThrottleSettings) -> chrono::Duration {
    chrono::Duration::from_std(settings.window).unwrap_or(chrono::Duration::hours(1))
}

/// Refuses when any key has reached its limit within the window.
pub async fn check(
    db: &DatabaseConnection,
    settings: &ThrottleSettings,
    keys: &[(String, bool)],
) -> ApiResult<()> {
    let since = now() - window(settings);
    for (key, is_account) in keys {
        let limit = if *is_account {
            settings.per_account
        } else {
            settings.per_client
        };
        let recent = login_failure::Entity::find()
            .filter(login_failure::Column::Key.eq(key.as_str()))
            .filter(login_failure::Column::At.gte(since));
        if recent.clone().count(db).await? >= limit {
            let oldest = recent
                .order_by_asc(login_failure::Column::At)
                .one(db)
                .await?
                .map_or(since, |failure| failure.at);
            let retry_after = (oldest + window(settings) - now()).num_seconds().max(1);
            return Err(ApiError::RateLimited {
                retry_after_secs: u64::try_from(retry_after).unwrap_or(1),
            });
        }
    }
    Ok(())
}

/// Records a failure under every key and forgets failures older than the window.
pub async fn record_failure(
    db: &DatabaseConnection,
    settings: &ThrottleSettings,
    keys: &[(String, bool)],
) -> ApiResult<()> {
    let at = now();
    for (key, _) in keys {
        login_failure::Entity::delete_many()
            .filter(login_failure::Column::Key.eq(key.as_str()))
            .filter(login_failure::Column::At.lt(at - window(settings)))
            .exec(db)
            .await?;
        login_failure::ActiveModel {
            key: Set(key.clone()),
            at: Set(at),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Forgets an account's failures after a successful login.
pub async fn clear_account(db: &DatabaseConnection, email: &str) -> ApiResult<()> {
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::Key.eq(format!("account:{email}")))
        .exec(db)
        .await?;
    Ok(())
}
