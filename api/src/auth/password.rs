//! Password hashing with argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane), run on
//! dedicated threads (half the cores) so that hashing never stalls the async workers, a
//! flood of logins cannot starve reads of CPU, and its memory stays bounded.

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

/// A job for the hashing threads.
type Job = Box<dyn FnOnce() + Send + 'static>;

/// The hashing threads: half the cores, at least one, started on first use. Hashing on a
/// few long-lived threads instead of the blocking pool bounds both the CPU a login flood
/// can take from reads and the memory: each argon2 run allocates 19 MiB, and the allocator
/// keeps that per thread, so a pool of dozens of threads grew the process past 300 MB.
fn hashing_queue() -> &'static std::sync::Mutex<std::sync::mpsc::Sender<Job>> {
    static QUEUE: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<Job>>> =
        std::sync::OnceLock::new();
    QUEUE.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel::<Job>();
        let receiver = std::sync::Arc::new(std::sync::Mutex::new(receiver));
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        for n in 0..(cores / 2).max(1) {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    loop {
                        let job = match receiver.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a password hashing thread");
            }
        }
        std::sync::Mutex::new(sender)
    })
}

/// Runs one argon2 computation on the hashing threads.
async fn in_slot<T: Send + 'static>(
    work: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = reply.send(work());
    });
    hashing_queue()
        .lock()
        .map_err(|_| ApiError::Internal("the hashing queue is poisoned".into()))?
        .send(job)
        .map_err(|_| ApiError::Internal("no password hashing thread is running".into()))?;
    answer
        .await
        .map_err(|_| ApiError::Internal("a password hashing job was lost".into()))?
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
