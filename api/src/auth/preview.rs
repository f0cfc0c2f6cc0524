//! Preview links: a short-lived token an editor mints for one document, which reads that
//! document's draft and nothing else (a frontend's draft mode), and writes nothing.
//!
//! The token is `dmp_` + an HS256 JWT under the server's signing secret, naming the document
//! and the editor who minted it; it is checked per request against that editor being active,
//! so a deactivated editor's links stop at once. It expires after `DERMIS_PREVIEW_TTL`.

use chrono::{DateTime, Utc};
use entity::user;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use super::Viewer;
use crate::db::now;
use crate::errors::{ApiError, ApiResult};

/// What a preview token starts with (so secret scanners and the server know one).
pub const PREFIX: &str = "dmp_";

/// Whether `credential` is a preview token.
pub fn is_preview_token(credential: &str) -> bool {
    credential.starts_with(PREFIX)
}

/// A document a preview token reads: its kind (`topic`, `condition`, `side_effect`) and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Previewed {
    /// The document's kind as stored.
    pub kind: &'static str,
    /// Its id.
    pub id: i32,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The editor who minted it.
    sub: String,
    /// Always `preview`: an access token's claims never decode as these.
    typ: String,
    /// The document's kind.
    kind: String,
    /// The document's id.
    doc: i32,
    iat: i64,
    exp: i64,
}

fn kind_of(stored: &str) -> Option<&'static str> {
    ["topic", "condition", "side_effect"]
        .into_iter()
        .find(|kind| *kind == stored)
}

fn invalid() -> ApiError {
    ApiError::Unauthenticated("the preview link is invalid or has expired".into())
}

/// Mints the token of `document` for `editor`, valid for `ttl`.
pub fn issue(
    secret: &[u8],
    editor: i32,
    document: Previewed,
    ttl: std::time::Duration,
) -> ApiResult<(String, DateTime<Utc>)> {
    let issued = now();
    let expires = issued + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    let claims = Claims {
        sub: editor.to_string(),
        typ: "preview".into(),
        kind: document.kind.into(),
        doc: document.id,
        iat: issued.timestamp(),
        exp: expires.timestamp(),
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .map_err(|e| ApiError::Internal(format!("signing failed: {e}")))?;
    Ok((format!("{PREFIX}{token}"), expires))
}

/// The viewer a preview token stands for, while its editor is active.
pub async fn authenticate(
    db: &DatabaseConnection,
    secret: &[u8],
    credential: &str,
) -> ApiResult<Viewer> {
    let token = credential.strip_prefix(PREFIX).ok_or_else(invalid)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 5;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let claims =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret), &validation)
            .map_err(|_| invalid())?
            .claims;
    let kind = kind_of(&claims.kind).filter(|_| claims.typ == "preview");
    let editor: i32 = claims.sub.parse().map_err(|_| invalid())?;
    let Some(kind) = kind else {
        return Err(invalid());
    };
    let active = user::Entity::find_by_id(editor).filter(user::Column::Active.eq(true));
    if crate::db::unique(active, db).await?.is_none() {
        return Err(invalid());
    }
    Ok(Viewer::Preview(Previewed {
        kind,
        id: claims.doc,
    }))
}

/// The preview address for `document` at `slug` with `token`, from the configured template
/// (`{token}`, `{slug}`, `{id}`, `{type}` replaced, each URL-encoded).
pub fn url(template: &str, document: Previewed, slug: &str, token: &str) -> String {
    let encode =
        |value: &str| url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
    template
        .replace("{token}", &encode(token))
        .replace("{slug}", &encode(slug))
        .replace("{id}", &document.id.to_string())
        .replace("{type}", document.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_is_filled_and_encoded() {
        let document = Previewed {
            kind: "topic",
            id: 7,
        };
        assert_eq!(
            url(
                "https://site.example/api/preview?slug={slug}&token={token}&id={id}&type={type}",
                document,
                "micro needling",
                "dmp_a.b+c"
            ),
            "https://site.example/api/preview?slug=micro+needling&token=dmp_a.b%2Bc&id=7&type=topic"
        );
    }
}
