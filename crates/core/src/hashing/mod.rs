//! Password hashing: argon2id on a few dedicated threads, bounded by a semaphore.
//!
//! A login flood queues on the semaphore (at most `permits` hashes run at once, one per
//! hashing thread, each with its own reusable `m_cost` buffer); past `max_queue` waiting
//! callers the hasher answers [`AuthError::Overloaded`] instead of growing memory without
//! bound. See [`pool`] for why the threads are dedicated.

mod argon;
mod pool;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use argon2::password_hash::PasswordHash;
use argon2::Params;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{oneshot, Semaphore};

use crate::error::AuthError;
use crate::policy::normalize;
use pool::{HashPool, Scratch};

/// Seconds a password waited for a hashing thread (histogram).
pub const PASSWORD_HASH_WAIT_SECONDS: &str = "authgate_password_hash_wait_seconds";
/// Seconds one hash or verification took on its thread (histogram).
pub const PASSWORD_HASH_DURATION_SECONDS: &str = "authgate_password_hash_duration_seconds";

/// Salt and output of the dummy hash that unknown users are verified against. Only its cost
/// parameters matter (they are the configured ones, see [`dummy_hash`]): no password matches.
const DUMMY_SALT_AND_OUTPUT: &str =
    "c29tZXNhbHRzb21lc2FsdA$mUEe6ivfI1Z8cUqKoPzmYhJBRdeNxXsaJnj/ODDwnMk";

/// A PHC string with the configured cost, so that verifying an unknown user's password
/// takes as long as verifying a real user's (whose hashes carry the configured cost once
/// they have logged in).
fn dummy_hash(params: &Params) -> Arc<str> {
    format!(
        "$argon2id$v=19$m={},t={},p={}${DUMMY_SALT_AND_OUTPUT}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost()
    )
    .into()
}

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for HashParams {
    /// OWASP's argon2id recommendation: m = 19 MiB, t = 2, p = 1.
    fn default() -> Self {
        HashParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// The outcome of verifying a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The password matched.
    pub ok: bool,
    /// The stored hash is bcrypt or uses other argon2 parameters: store a fresh hash.
    pub needs_rehash: bool,
}

/// Hashes and verifies passwords on dedicated hashing threads.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    dummy: Arc<str>,
    pool: HashPool,
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_queue: usize,
}

impl PasswordHasher {
    /// A hasher with `concurrency` hashing threads, refusing callers once `max_queue` are
    /// already waiting for one.
    pub fn new(
        params: HashParams,
        concurrency: usize,
        max_queue: usize,
    ) -> Result<Self, AuthError> {
        let params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| AuthError::Internal(format!("argon2 parameters: {e}")))?;
        let threads = concurrency.max(1);
        let pool = HashPool::start(threads)
            .map_err(|e| AuthError::Internal(format!("starting hashing threads: {e}")))?;
        Ok(PasswordHasher {
            dummy: dummy_hash(&params),
            params,
            pool,
            permits: Arc::new(Semaphore::new(threads)),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_queue,
        })
    }

    /// Callers currently waiting for a hashing slot.
    pub fn queue_depth(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// The argon2id parameters in use.
    pub fn params(&self) -> HashParams {
        HashParams {
            memory_kib: self.params.m_cost(),
            iterations: self.params.t_cost(),
            parallelism: self.params.p_cost(),
        }
    }

    /// Hashes a (policy-checked) password into a PHC string.
    pub async fn hash(&self, password: &SecretString) -> Result<String, AuthError> {
        let params = self.params.clone();
        let pw = normalize(password.expose_secret());
        self.run(move |scratch| argon::hash(&params, pw.as_bytes(), scratch))
            .await
    }

    /// Verifies a password against a stored argon2 or bcrypt hash.
    pub async fn verify(
        &self,
        password: &SecretString,
        stored: &str,
    ) -> Result<Verified, AuthError> {
        let params = self.params.clone();
        let raw = password.expose_secret().to_owned();
        let stored = stored.to_owned();
        self.run(move |scratch| Ok(verify_on_thread(&params, &raw, &stored, scratch)))
            .await
    }

    /// Spends the same time as a real verification, for unknown accounts. Always fails.
    pub async fn verify_dummy(&self, password: &SecretString) -> Result<Verified, AuthError> {
        self.verify(password, &self.dummy).await.map(|_| Verified {
            ok: false,
            needs_rehash: false,
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Scratch) -> Result<T, String> + Send + 'static,
    ) -> Result<T, AuthError> {
        let queued = Instant::now();
        let waiting = WaitGuard::enter(&self.waiting, self.max_queue)?;
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AuthError::Overloaded)?;
        drop(waiting);
        metrics::histogram!(PASSWORD_HASH_WAIT_SECONDS).record(queued.elapsed().as_secs_f64());
        let (tx, rx) = oneshot::channel();
        let span = tracing::Span::current();
        let submitted = self.pool.submit(move |scratch| {
            let _permit = permit;
            let started = Instant::now();
            let result = span.in_scope(|| work(scratch));
            metrics::histogram!(PASSWORD_HASH_DURATION_SECONDS)
                .record(started.elapsed().as_secs_f64());
            let _ = tx.send(result);
        });
        if !submitted {
            return Err(AuthError::Internal("the hashing threads are gone".into()));
        }
        rx.await
            .map_err(|_| AuthError::Internal("a hashing job was dropped".into()))?
            .map_err(AuthError::Internal)
    }
}

fn verify_on_thread(params: &Params, raw: &str, stored: &str, scratch: &mut Scratch) -> Verified {
    if stored.starts_with("$2") {
        let ok = bcrypt::verify(raw, stored).unwrap_or(false);
        return Verified {
            ok,
            needs_rehash: ok,
        };
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verified {
            ok: false,
            needs_rehash: false,
        };
    };
    let keep = params.block_count();
    let ok = argon::verify(&parsed, normalize(raw).as_bytes(), scratch, keep);
    let current = Params::try_from(&parsed).map(|p| {
        p.m_cost() == params.m_cost()
            && p.t_cost() == params.t_cost()
            && p.p_cost() == params.p_cost()
    });
    let same_alg = parsed.algorithm.as_str() == "argon2id";
    Verified {
        ok,
        needs_rehash: ok && !(same_alg && current.unwrap_or(false)),
    }
}

/// Counts a caller as waiting for a slot while it lives.
struct WaitGuard<'a>(&'a AtomicUsize);

impl<'a> WaitGuard<'a> {
    fn enter(counter: &'a AtomicUsize, max: usize) -> Result<Self, AuthError> {
        if counter.fetch_add(1, Ordering::AcqRel) >= max {
            counter.fetch_sub(1, Ordering::AcqRel);
            return Err(AuthError::Overloaded);
        }
        Ok(WaitGuard(counter))
    }
}

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(HashParams::default(), 2, 64).unwrap()
    }

    #[test]
    fn the_dummy_hash_carries_the_configured_cost_so_unknown_users_take_as_long() {
        let params = HashParams {
            memory_kib: 8 * 1024,
            iterations: 5,
            parallelism: 1,
        };
        let h = PasswordHasher::new(params, 1, 4).unwrap();
        let real = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(h.hash(&secret("Correct7Horse")))
            .unwrap();
        let cost = |phc: &str| phc.split('$').nth(3).unwrap().to_owned();
        assert_eq!(cost(&h.dummy), "m=8192,t=5,p=1");
        assert_eq!(cost(&h.dummy), cost(&real));
    }

    #[tokio::test]
    async fn the_dummy_hash_is_a_well_formed_hash_that_nothing_matches() {
        let h = hasher();
        assert!(!h.verify_dummy(&secret("Correct7Horse")).await.unwrap().ok);
        let parsed = PasswordHash::new(&h.dummy).expect("a PHC string argon2 accepts");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let h = hasher();
        let stored = h.hash(&secret("Correct7Horse")).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            h.verify(&secret("Correct7Horse"), &stored)
                .await
                .unwrap()
                .ok
        );
        assert!(
            !h.verify(&secret("Correct7Horsf"), &stored)
                .await
                .unwrap()
                .ok
        );
    }

    #[tokio::test]
    async fn passwords_longer_than_72_bytes_differ_in_their_tail() {
        let h = hasher();
        let base = "A1a".repeat(30);
        let stored = h.hash(&secret(&format!("{base}x"))).await.unwrap();
        assert!(
            !h.verify(&secret(&format!("{base}y")), &stored)
                .await
                .unwrap()
                .ok
        );
    }

    #[tokio::test]
    async fn bcrypt_hashes_verify_and_ask_for_a_rehash() {
        let h = hasher();
        let stored = bcrypt::hash("Asd@36766", 4).unwrap();
        let v = h.verify(&secret("Asd@36766"), &stored).await.unwrap();
        assert_eq!(
            v,
            Verified {
                ok: true,
                needs_rehash: true
            }
        );
        assert!(!h.verify(&secret("wrong"), &stored).await.unwrap().ok);
    }

    #[tokio::test]
    async fn hashes_with_old_parameters_ask_for_a_rehash() {
        let weak = PasswordHasher::new(
            HashParams {
                memory_kib: 1024,
                iterations: 1,
                parallelism: 1,
            },
            1,
            8,
        )
        .unwrap();
        let stored = weak.hash(&secret("Correct7Horse")).await.unwrap();
        assert!(
            hasher()
                .verify(&secret("Correct7Horse"), &stored)
                .await
                .unwrap()
                .needs_rehash
        );
    }

    #[tokio::test]
    async fn the_dummy_verification_always_fails() {
        assert!(!hasher().verify_dummy(&secret("anything")).await.unwrap().ok);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_instead_of_growing() {
        let h = PasswordHasher::new(HashParams::default(), 1, 0).unwrap();
        assert!(matches!(
            h.hash(&secret("Correct7Horse")).await,
            Err(AuthError::Overloaded)
        ));
    }
}
