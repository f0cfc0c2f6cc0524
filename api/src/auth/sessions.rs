//! Refresh-token sessions. A login starts a family; each refresh exchanges the token for a
//! new one in the same family. Presenting an exchanged token again within the reuse interval
//! (`DERMIS_REFRESH_REUSE_INTERVAL`: two tabs, or two nodes, refreshing at the same moment)
//! returns the same successor; after it, or presenting a revoked token, is treated as theft
//! and revokes the whole family. Only SHA-256 hashes of tokens are stored: the successor of
//! a token is derived from it ([`super::tokens::Keys::successor`]), not kept.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entity::{session, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use super::Auth;
use crate::db::now;
use crate::errors::{ApiError, ApiResult};

/// Tokens handed to a client after login or refresh.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The JWT to send as `Authorization: Bearer`.
    pub access_token: String,
    /// When it stops working.
    pub access_expires_at: DateTime<Utc>,
    /// The token to exchange for new tokens.
    pub refresh_token: String,
    /// When it stops working.
    pub refresh_expires_at: DateTime<Utc>,
    /// The signed-in user.
    pub user: user::Model,
}

/// Whether `token` has the shape of [`random_token`]'s output (43 URL-safe characters).
fn well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// 32 random bytes, URL-safe base64.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn invalid() -> ApiError {
    ApiError::Unauthenticated("the refresh token is invalid or expired; sign in again".into())
}

fn refresh_expiry(auth: &Auth) -> DateTime<Utc> {
    now()
        + chrono::Duration::from_std(auth.settings.refresh_ttl)
            .unwrap_or(chrono::Duration::days(30))
}

async fn issue<C: sea_orm::ConnectionTrait>(
    conn: &C,
    auth: &Auth,
    user: user::Model,
    family_id: String,
    refresh_token: String,
) -> ApiResult<Issued> {
    let refresh_expires_at = refresh_expiry(auth);
    session::ActiveModel {
        user_id: Set(user.id),
        family_id: Set(family_id.clone()),
        token_hash: Set(token_hash(&refresh_token)),
        token_version: Set(user.token_version),
        created_at: Set(now()),
        expires_at: Set(refresh_expires_at),
        rotated_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let (access_token, access_expires_at) =
        auth.keys
            .issue(&user, &family_id, auth.settings.access_ttl)?;
    Ok(Issued {
        access_token,
        access_expires_at,
        refresh_token,
        refresh_expires_at,
        user,
    })
}

/// Starts a new session family for `user`.
pub async fn start(db: &DatabaseConnection, auth: &Auth, user: user::Model) -> ApiResult<Issued> {
    issue(db, auth, user, random_token(), random_token()).await
}

async fn revoke_family(db: &DatabaseConnection, family_id: &str) -> ApiResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now()))
        .filter(session::Column::FamilyId.eq(family_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Exchanges a refresh token for new tokens; reuse of an exchanged token revokes the family.
pub async fn refresh(db: &DatabaseConnection, auth: &Auth, token: &str) -> ApiResult<Issued> {
    if !well_formed(token) {
        return Err(invalid());
    }
    let Some(row) = session::Entity::find()
        .filter(session::Column::TokenHash.eq(token_hash(token)))
        .one(db)
        .await?
    else {
        return Err(invalid());
    };
    if row.revoked_at.is_some() {
        return Err(invalid());
    }
    if let Some(rotated_at) = row.rotated_at {
        return again(db, auth, token, &row, rotated_at).await;
    }
    if row.expires_at <= now() {
        return Err(invalid());
    }
    let user = user_of(db, &row).await?;
    let txn = crate::db::begin_write(db).await?;
    // Claim the token atomically: of two concurrent refreshes, one wins.
    let claimed = session::Entity::update_many()
        .col_expr(session::Column::RotatedAt, Expr::value(now()))
        .filter(session::Column::Id.eq(row.id))
        .filter(session::Column::RotatedAt.is_null())
        .filter(session::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        // Another exchange of this token committed first (a concurrent request): the row as
        // it left it decides.
        drop(txn);
        let row = session::Entity::find_by_id(row.id)
            .one(db)
            .await?
            .ok_or_else(invalid)?;
        return match (row.revoked_at, row.rotated_at) {
            (None, Some(rotated_at)) => again(db, auth, token, &row, rotated_at).await,
            _ => Err(invalid()),
        };
    }
    let successor = auth.keys.successor(token);
    let issued = issue(&txn, auth, user, row.family_id, successor).await?;
    txn.commit().await?;
    Ok(issued)
}

/// The active user a session row belongs to, still at the row's `token_version`.
async fn user_of(db: &DatabaseConnection, row: &session::Model) -> ApiResult<user::Model> {
    user::Entity::find_by_id(row.user_id)
        .one(db)
        .await?
        .filter(|user| user.active && user.token_version == row.token_version)
        .ok_or_else(invalid)
}

/// `token` was exchanged at `rotated_at` and is presented again. Within the reuse interval,
/// while its successor is itself unused and unrevoked, the answer is that successor again
/// (with a new access token); otherwise the token is taken as stolen and its family ends.
async fn again(
    db: &DatabaseConnection,
    auth: &Auth,
    token: &str,
    row: &session::Model,
    rotated_at: DateTime<Utc>,
) -> ApiResult<Issued> {
    let interval = chrono::Duration::from_std(auth.settings.refresh_reuse_interval)
        .unwrap_or(chrono::Duration::zero());
    if interval > chrono::Duration::zero() && now() - rotated_at < interval {
        let successor_token = auth.keys.successor(token);
        let successor = session::Entity::find()
            .filter(session::Column::TokenHash.eq(token_hash(&successor_token)))
            .filter(session::Column::FamilyId.eq(row.family_id.as_str()))
            .one(db)
            .await?;
        if let Some(successor) = successor
            .filter(|s| s.rotated_at.is_none() && s.revoked_at.is_none() && s.expires_at > now())
        {
            let user = user_of(db, row).await?;
            let (access_token, access_expires_at) =
                auth.keys
                    .issue(&user, &row.family_id, auth.settings.access_ttl)?;
            return Ok(Issued {
                access_token,
                access_expires_at,
                refresh_token: successor_token,
                refresh_expires_at: successor.expires_at,
                user,
            });
        }
    }
    tracing::warn!(
        user = row.user_id,
        "refresh token reused: revoking its session family"
    );
    revoke_family(db, &row.family_id).await?;
    Err(invalid())
}

/// Ends the session the refresh token belongs to (its whole family). Tokens of other
/// users and unknown tokens are ignored, so logout never reveals anything.
pub async fn logout(db: &DatabaseConnection, user_id: i32, token: &str) -> ApiResult<()> {
    if !well_formed(token) {
        return Err(ApiError::bad_input(
            "input.refreshToken",
            "this is not a refresh token",
        ));
    }
    if let Some(row) = session::Entity::find()
        .filter(session::Column::TokenHash.eq(token_hash(token)))
        .filter(session::Column::UserId.eq(user_id))
        .one(db)
        .await?
    {
        revoke_family(db, &row.family_id).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_are_well_formed_and_garbage_is_not() {
        assert!(well_formed(&random_token()));
        assert!(!well_formed("short"));
        assert!(!well_formed(&"x".repeat(200_000)));
        assert!(!well_formed(&format!("{}=", &random_token()[1..])));
    }
}
