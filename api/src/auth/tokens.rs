//! Access tokens: HS256 JWTs carrying the user id, role, `token_version` and the session
//! they belong to. Any other algorithm (`none` included), another key, an expired or
//! malformed token, or one without a session, is refused.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{Role, setting, user};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{DatabaseConnection, EntityTrait, Set};
use serde::{Deserialize, Serialize};

use crate::db::now;
use crate::errors::{ApiError, ApiResult};

/// The settings key of the generated signing secret.
const SECRET_KEY: &str = "jwt_secret";
pub use crate::config::settings::MIN_SECRET_BYTES;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The role when the token was issued (informational; the database decides).
    pub role: Role,
    /// The user's `token_version`; bumping it revokes every token at once.
    pub tv: i32,
    /// The session (refresh-token family) the token was issued for: when it ends, so does
    /// the token.
    pub sid: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
}

impl Claims {
    /// The user id in `sub`.
    pub fn user_id(&self) -> ApiResult<i32> {
        self.sub
            .parse()
            .map_err(|_| ApiError::Unauthenticated("the access token is invalid".into()))
    }
}

/// Signing and verification keys.
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    secret: Vec<u8>,
}

impl Keys {
    /// Keys for HS256 with `secret`.
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        // `sid` is required too: a token from before sessions were named fails to decode.
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            secret: secret.to_vec(),
        }
    }

    /// The signing secret (preview links are signed with it too).
    pub(super) fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// The refresh token that succeeds `token`: an HMAC of it under the signing secret, so
    /// that presenting `token` again shortly after its exchange (a second tab, a retried
    /// request, another node) gives the very successor the first exchange issued, though
    /// only token hashes are stored. Knowing it takes both `token` and the secret, which
    /// signs access tokens anyway.
    pub fn successor(&self, token: &str) -> String {
        use base64::Engine;
        use hmac::Mac;
        let mut mac = match hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.secret) {
            Ok(mac) => mac,
            // HMAC takes a key of any length; this arm is never taken.
            Err(_) => return super::sessions::random_token(),
        };
        mac.update(b"dermis refresh-token successor\n");
        mac.update(token.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A signed access token for `user` in session `session`, valid for `ttl`.
    pub fn issue(
        &self,
        user: &user::Model,
        session: &str,
        ttl: Duration,
    ) -> ApiResult<(String, DateTime<Utc>)> {
        let issued = now();
        let expires = issued + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        let claims = Claims {
            sub: user.id.to_string(),
            role: user.role,
            tv: user.token_version,
            sid: session.to_owned(),
            iat: issued.timestamp(),
            exp: expires.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(format!("signing failed: {e}")))?;
        Ok((token, expires))
    }

    /// The claims of a valid token; `UNAUTHENTICATED` for anything else.
    pub fn decode(&self, token: &str) -> ApiResult<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| {
                let reason = match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the access token expired",
                    _ => "the access token is invalid",
                };
                ApiError::Unauthenticated(reason.into())
            })
    }
}

/// The signing secret: `configured` when given, otherwise the one generated once and kept
/// in `settings`, so that every node sharing the database agrees.
pub async fn load_secret(db: &DatabaseConnection, configured: Option<&str>) -> ApiResult<Vec<u8>> {
    if let Some(secret) = configured {
        return Ok(secret.as_bytes().to_vec());
    }
    let candidate = super::sessions::random_token();
    // Insert if absent; a concurrent node may win, so read back what is stored.
    setting::Entity::insert(setting::ActiveModel {
        key: Set(SECRET_KEY.to_owned()),
        value: Set(candidate),
        updated_at: Set(now()),
    })
    .on_conflict_do_nothing_on([setting::Column::Key])
    .exec(db)
    .await?;
    let stored = setting::Entity::find_by_id(SECRET_KEY.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| ApiError::Internal("the signing secret vanished".into()))?;
    Ok(stored.value.into_bytes())
}
