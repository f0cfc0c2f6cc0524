//! Secrets and signatures (the `standardwebhooks` crate, the specification's own Rust
//! library): `whsec_` secrets, and `webhook-signature` with one `v1,` signature per live
//! secret (the new one and, during a rotation's grace period, the old one).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;

/// A new secret: `whsec_` and 24 random bytes, base64.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    OsRng.fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The `webhook-signature` value for `payload` sent as `message_id` at `timestamp`
/// (seconds), signed with every secret in `secrets`.
pub fn signature(
    secrets: &[&str],
    message_id: &str,
    timestamp: i64,
    payload: &str,
) -> Result<String, String> {
    let mut signatures = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let webhook = standardwebhooks::Webhook::new(secret).map_err(|e| e.to_string())?;
        signatures.push(
            webhook
                .sign(message_id, timestamp, payload.as_bytes())
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(signatures.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_the_specifications_library() {
        let secret = new_secret();
        let old = new_secret();
        let at = chrono::Utc::now().timestamp();
        let value = signature(&[&secret, &old], "msg_1", at, "{\"a\":1}").unwrap_or_default();
        assert_eq!(value.split(' ').count(), 2);
        let mut headers = http::HeaderMap::new();
        headers.insert("webhook-id", http::HeaderValue::from_static("msg_1"));
        headers.insert(
            "webhook-timestamp",
            http::HeaderValue::from_str(&at.to_string())
                .unwrap_or(http::HeaderValue::from_static("0")),
        );
        headers.insert(
            "webhook-signature",
            http::HeaderValue::from_str(&value).unwrap_or(http::HeaderValue::from_static("")),
        );
        for key in [&secret, &old] {
            let webhook = standardwebhooks::Webhook::new(key).ok();
            let verified = webhook.map(|w| w.verify(b"{\"a\":1}", &headers).is_ok());
            assert_eq!(verified, Some(true));
        }
    }
}
