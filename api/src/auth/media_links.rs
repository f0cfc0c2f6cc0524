//! Signed media addresses: a media item that no published content uses is served only to
//! whoever holds an address the API signed for a signed-in user (`Media.url`), so an
//! editor's `<img>` shows a draft's photo without sending a token, and a patient photo
//! uploaded for a draft is not public. The signature is an HMAC of the object's name and
//! expiry under the server's signing secret; the expiry is rounded to the hour, so an
//! address stays the same (and browser-cacheable) for at least an hour.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Seconds an address is valid at least (and at most twice as long).
pub const VALID_FOR: i64 = 3600;

/// Domain separation: these HMACs never equal one made for another purpose.
const PURPOSE: &[u8] = b"dermis media link\0";

/// The expiry of an address signed at `now` (Unix seconds).
pub fn expiry(now: i64) -> i64 {
    (now.div_euclid(VALID_FOR) + 2) * VALID_FOR
}

/// The signature of `name` until `expires`, in hex.
pub fn sign(secret: &[u8], name: &str, expires: i64) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        // HMAC takes keys of any length; unreachable.
        return String::new();
    };
    mac.update(PURPOSE);
    mac.update(name.as_bytes());
    mac.update(b"\0");
    mac.update(expires.to_string().as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `signature` signs `name` until `expires`, and `now` is before then.
pub fn verify(secret: &[u8], name: &str, expires: i64, signature: &str, now: i64) -> bool {
    let expected = sign(secret, name, expires);
    now < expires && !expected.is_empty() && expected.as_bytes().ct_eq(signature.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_for_its_name_until_its_expiry() {
        let secret = [9; 32];
        let expires = expiry(10_000);
        assert!(expires - 10_000 >= VALID_FOR);
        let signature = sign(&secret, "originals/ab.jpg", expires);
        assert!(verify(
            &secret,
            "originals/ab.jpg",
            expires,
            &signature,
            10_000
        ));
        assert!(!verify(
            &secret,
            "originals/ac.jpg",
            expires,
            &signature,
            10_000
        ));
        assert!(!verify(
            &secret,
            "originals/ab.jpg",
            expires + 1,
            &signature,
            10_000
        ));
        assert!(!verify(
            &secret,
            "originals/ab.jpg",
            expires,
            &signature,
            expires
        ));
        assert!(!verify(
            &[8; 32],
            "originals/ab.jpg",
            expires,
            &signature,
            10_000
        ));
    }

    #[test]
    fn an_address_is_the_same_within_the_hour() {
        assert_eq!(expiry(7200), expiry(7200 + 3599));
    }
}
