//! Password hashing with argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane), run on
//! dedicated threads (half the cores) so that hashing never stalls the async workers, a
//! flood of logins cannot starve reads of CPU, and its memory stays bounded.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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

fn params() -> ApiResult<Params> {
    Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| ApiError::Internal(format!("argon2 parameters: {e}")))
}

/// Niceness of the hashing threads: a login flood then takes the CPU only when reads leave
/// it idle or have had their share (CFS weight 15 against 1024 for the workers; niceness 10
/// was tried first and still doubled the reads' p99).
#[cfg(target_os = "linux")]
const HASHING_NICENESS: i32 = 19;

/// Lowers the calling thread's CPU priority (Linux: `setpriority` on a thread id is per
/// thread). Failure only costs fairness, so it is logged and ignored.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::process::setpriority_process(None, HASHING_NICENESS) {
        tracing::warn!(%error, "cannot lower the priority of a password hashing thread");
    }
}

std::thread_local! {
    /// The argon2 working memory of this hashing thread (19 MiB), allocated once and
    /// reused: the allocator never sees it freed, so a login flood leaves no freed 19 MiB
    /// chunks behind in its arenas (glibc raises its mmap threshold after such a free and
    /// serves the next ones from arenas it does not return; the server grew past 300 MB).
    static MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Argon2 of `password` with `salt` into `out`, in this thread's reusable working memory.
fn compute(
    argon2: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    MEMORY.with_borrow_mut(|memory| {
        let blocks = params.block_count();
        if memory.len() != blocks {
            // Only hashes made with other parameters (never by this version) get here.
            *memory = vec![Block::default(); blocks];
        }
        argon2.hash_password_into_with_memory(password, salt, out, memory.as_mut_slice())
    })
}

/// The PHC string of `password` hashed with `salt` under Dermis' parameters.
fn hash_now(password: &[u8], salt: &SaltString) -> ApiResult<String> {
    let failed = |e: &dyn std::fmt::Display| ApiError::Internal(format!("hashing failed: {e}"));
    let params = params()?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(|e| failed(&e))?;
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        compute(&argon2, &params, password, salt_bytes, out).map_err(Into::into)
    })
    .map_err(|e| failed(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Does `password` match the PHC string `hash`, under the parameters the hash names?
/// Malformed or foreign hashes never match. The comparison is constant-time ([`Output`]).
fn verify_now(password: &[u8], hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(algorithm), Some(expected), Some(salt)) = (
        Algorithm::try_from(parsed.algorithm),
        parsed.hash,
        parsed.salt,
    ) else {
        return false;
    };
    let version = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let (Ok(version), Ok(params)) = (version, Params::try_from(&parsed)) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    Output::init_with(expected.len(), |out| {
        compute(&argon2, &params, password, salt_bytes, out).map_err(Into::into)
    })
    .is_ok_and(|actual| actual == expected)
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
                    lower_priority();
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
    in_slot(move || hash_now(password.as_bytes(), &SaltString::generate(&mut OsRng))).await
}

/// Does `password` match the PHC string `hash`? A malformed hash never matches.
pub async fn verify(password: String, hash: String) -> ApiResult<bool> {
    in_slot(move || Ok(verify_now(password.as_bytes(), &hash))).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hashes_interoperate_with_the_reference_implementation() {
        let salt = SaltString::generate(&mut OsRng);
        let ours = hash_now(b"correct horse battery", &salt).expect("hash");
        let reference = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            params().expect("params"),
        );
        let parsed = PasswordHash::new(&ours).expect("a PHC string");
        assert!(
            reference
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        // The same salt gives the reference implementation's string, byte for byte.
        let theirs = reference
            .hash_password(b"correct horse battery", &salt)
            .expect("reference hash")
            .to_string();
        assert_eq!(ours, theirs);
        assert!(verify_now(b"correct horse battery", &theirs));
        assert!(!verify_now(b"correct horse batterY", &theirs));
    }

    #[test]
    fn other_parameters_and_malformed_hashes() {
        let weaker = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).expect("params"),
        );
        let salt = SaltString::generate(&mut OsRng);
        let old = weaker
            .hash_password(b"an older password", &salt)
            .expect("hash")
            .to_string();
        assert!(verify_now(b"an older password", &old));
        assert!(!verify_now(b"another password", &old));
        // The thread's memory went back to Dermis' size for the next hash.
        let ours = hash_now(b"an older password", &salt).expect("hash");
        assert!(verify_now(b"an older password", &ours));
        for bad in [
            "",
            "$argon2id$",
            "$bcrypt$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
            &ours[..ours.len() - 4],
        ] {
            assert!(!verify_now(b"an older password", bad), "{bad}");
        }
    }
}
