//! Password hashing with argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane), run on
//! the blocking pool so that hashing never stalls the async workers, and at most half the
//! cores at a time, so that a flood of logins cannot starve reads of CPU (and cannot
//! claim 19 MiB per request without bound).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::errors::{ApiError, ApiResult};

/// Shortest accepted password, in characters.
pub const MIN_CHARS: usize = 12;
/// Longest accepted password, in bytes.
pub const MAX_BYTES: usize = 1024;

/// Refuses passwords that are too short or too long; `field` names the input field.
pub fn check_policy(password: &str, field: &str) -> ApiResult<()> {
    if password.chars().count() < MIN_CHARS {
        return Err(ApiError::bad_input(
            field,
            format!("the password must have at least {MIN_CHARS} characters"),
        ));
    }
    if password.len() > MAX_BYTES {
        return Err(ApiError::bad_input(
            field,
            format!("the password must not be longer than {MAX_BYTES} bytes"),
        ));
    }
    Ok(())
}

fn argon2() -> ApiResult<Argon2<'static>> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| ApiError::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes running at once: half the cores, at least one.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        tokio::sync::Semaphore::new((cores / 2).max(1))
    })
}

/// Runs one argon2 computation in a hashing slot on the blocking pool.
async fn in_slot<T: Send + 'static>(
    work: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let _slot = hashing_slots()
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(format!("hashing slots closed: {e}")))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(format!("hashing task failed: {e}")))?
}

/// The PHC string of `password` with a fresh salt.
pub async fn hash(password: String) -> ApiResult<String> {
    in_slot(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()?
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| ApiError::Internal(format!("hashing failed: {e}")))
    })
    .await
}

/// Does `password` match the PHC string `hash`? A malformed hash never matches.
pub async fn verify(password: String, hash: String) -> ApiResult<bool> {
    in_slot(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return Ok(false);
        };
        Ok(argon2()?
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
}
