//! The throttle of password checks (login, and the current password of `changePassword`).
//!
//! Every attempt is counted per account and per client address in the database (so every
//! node counts the same), and it is counted *before* its password is checked: an attempt
//! first reserves a place under each of its keys, atomically, and only an attempt that got
//! every place reaches argon2. A wrong password leaves its places as failures; a right one
//! gives them back. So a burst of concurrent guesses gets at most the limit's number of
//! password checks, on any number of nodes, and the right password sent inside the burst
//! is refused with the rest.
//!
//! Atomic means: the count and the insert of one key happen under one lock. On SQLite the
//! conditional insert is one writing statement, and SQLite takes its write lock before the
//! statement reads; on PostgreSQL the transaction first takes an advisory lock per key (in
//! one order, so two attempts never wait on each other crosswise).

use std::net::IpAddr;

use entity::login_failure;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};

use crate::db::now;
use crate::errors::{ApiError, ApiResult};

pub use crate::config::settings::ThrottleSettings;

/// The advisory-lock namespace of throttle keys on PostgreSQL (its two-number form, which
/// never meets the migrations' one-number lock).
const LOCK_NAMESPACE: i32 = 0x7468; // "th"

/// What an attempt is counted under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// Logins to one account, by its (normalised) email.
    Account(String),
    /// `changePassword` of one user, by id.
    PasswordChange(i32),
    /// Attempts from one client: an IPv4 address, or an IPv6 /64 (see
    /// the HTTP layer's client grouping).
    Client(IpAddr),
}

impl Key {
    /// The key as stored in `login_failures.key`.
    fn text(&self) -> String {
        match self {
            Self::Account(email) => format!("account:{email}"),
            Self::PasswordChange(user) => format!("password:{user}"),
            Self::Client(address) => format!("client:{address}"),
        }
    }

    fn limit(&self, settings: &ThrottleSettings) -> u64 {
        match self {
            Self::Account(_) | Self::PasswordChange(_) => settings.per_account,
            Self::Client(_) => settings.per_client,
        }
    }
}

/// The places an attempt holds, until it ends: [`Reservation::failed`] keeps them as
/// failures, [`Reservation::succeeded`] gives them back.
#[derive(Debug)]
#[must_use = "an attempt ends as failed or succeeded"]
pub struct Reservation {
    ids: Vec<i32>,
}

fn window(settings: &ThrottleSettings) -> chrono::Duration {
    chrono::Duration::from_std(settings.window).unwrap_or(chrono::Duration::hours(1))
}

/// Reserves a place for one attempt under every key, or refuses with `RATE_LIMITED`
/// (and reserves nothing) when a key has no place left within the window.
pub async fn reserve(
    db: &DatabaseConnection,
    settings: &ThrottleSettings,
    keys: &[Key],
) -> ApiResult<Reservation> {
    let mut keys = keys.to_vec();
    keys.sort();
    keys.dedup();
    let at = now();
    let since = at - window(settings);
    let txn = db.begin().await?;
    let backend = txn.get_database_backend();
    if backend == DbBackend::Postgres {
        for key in &keys {
            txn.execute_raw(sea_orm::Statement::from_sql_and_values(
                backend,
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                [LOCK_NAMESPACE.into(), key.text().into()],
            ))
            .await?;
        }
    }
    let mut ids = Vec::with_capacity(keys.len());
    for key in &keys {
        let text = key.text();
        login_failure::Entity::delete_many()
            .filter(login_failure::Column::Key.eq(text.as_str()))
            .filter(login_failure::Column::At.lt(since))
            .exec(&txn)
            .await?;
        let recent = Query::select()
            .expr(Expr::col(login_failure::Column::Id).count())
            .from(login_failure::Entity)
            .and_where(login_failure::Column::Key.eq(text.as_str()))
            .and_where(login_failure::Column::At.gte(since))
            .to_owned();
        let place = Query::insert()
            .into_table(login_failure::Entity)
            .columns([login_failure::Column::Key, login_failure::Column::At])
            .select_from(
                Query::select()
                    .expr(Expr::val(text.as_str()))
                    .expr(Expr::val(at))
                    .and_where(
                        Expr::SubQuery(None, Box::new(recent.into()))
                            .lt(i64::try_from(key.limit(settings)).unwrap_or(i64::MAX)),
                    )
                    .to_owned(),
            )
            .map_err(|error| ApiError::Internal(error.to_string()))?
            .returning_col(login_failure::Column::Id)
            .to_owned();
        let row = txn.query_one_raw(backend.build(&place)).await?;
        match row.map(|row| row.try_get_by_index::<i32>(0)).transpose()? {
            Some(id) => ids.push(id),
            None => {
                let retry_after = retry_after(&txn, settings, &text, since).await?;
                txn.rollback().await?;
                return Err(ApiError::RateLimited {
                    retry_after_secs: retry_after,
                });
            }
        }
    }
    txn.commit().await?;
    Ok(Reservation { ids })
}

/// Seconds until the oldest failure of a full key leaves the window.
async fn retry_after(
    db: &impl ConnectionTrait,
    settings: &ThrottleSettings,
    key: &str,
    since: chrono::DateTime<chrono::Utc>,
) -> ApiResult<u64> {
    let oldest = login_failure::Entity::find()
        .filter(login_failure::Column::Key.eq(key))
        .filter(login_failure::Column::At.gte(since))
        .order_by_asc(login_failure::Column::At)
        .one(db)
        .await?
        .map_or(since, |failure| failure.at);
    let seconds = Ord::max((oldest + window(settings) - now()).num_seconds(), 1);
    Ok(u64::try_from(seconds).unwrap_or(1))
}

impl Reservation {
    /// The password was wrong: the places stay, as failures.
    pub fn failed(self) {}

    /// The password was right: the places are given back, and every earlier failure under
    /// `forget` (the account's or the user's own key) is forgotten with them, in one
    /// statement.
    pub async fn succeeded(self, db: &DatabaseConnection, forget: &Key) -> ApiResult<()> {
        login_failure::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(login_failure::Column::Id.is_in(self.ids))
                    .add(login_failure::Column::Key.eq(forget.text())),
            )
            .exec(db)
            .await?;
        Ok(())
    }
}
