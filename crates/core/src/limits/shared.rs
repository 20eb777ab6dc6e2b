//! The limits' state in a store every instance shares ([`SharedLimits`], implemented by the
//! PostgreSQL backend), so N instances on one database together allow what one allows.
//!
//! Each check is one round trip to the store. When the store cannot be reached, password
//! guesses (login, the current password of a password change, and login's per-IP rate) are
//! refused with `StoreUnavailable` (fail closed: a guess is never let through uncounted);
//! every other action is let through (fail open: registering, refreshing or asking for a
//! mail needs the store anyway). The outage is logged once when it starts and once when it
//! ends, not per request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{limited, Rate};
use crate::clock::Clock;
use crate::error::AuthError;
use crate::store::StoreResult;

/// The login-block numbers of [`super::LimitsConfig`], as a [`SharedLimits`] store applies
/// them (the same rules as the in-memory limiter; see the module [`super`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginPolicy {
    /// Consecutive failures per (account, IP) before attempts slow down.
    pub free_attempts: u32,
    /// Failures per account within `failure_window` before the account is blocked.
    pub max_failures: u32,
    /// How long an account block lasts.
    pub block_for: Duration,
    /// How long a failure counts toward a block.
    pub failure_window: Duration,
    /// The longest wait between attempts from one IP.
    pub max_backoff: Duration,
}

/// Why a [`SharedLimits`] store refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// How long until a retry may succeed.
    pub wait: Duration,
    /// The limit that was reached (for `RateLimit-Limit`).
    pub limit: u32,
}

/// Rate-limit and login-block state kept in a store that every instance shares. Every
/// method is atomic (one statement or one server-side function call): parallel callers on
/// any number of instances count exactly. "Now" is passed in, as for every store.
#[async_trait]
pub trait SharedLimits: Send + Sync {
    /// Counts one event on `key` under GCRA with `rate` (bursts of `rate.max`): `None` when
    /// allowed, or how long to wait when refused (a refused event is not counted).
    async fn take(
        &self,
        key: &str,
        rate: Rate,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Duration>>;

    /// Counts one password attempt from `ip` on each of `accounts` under `policy`, unless
    /// any of them refuses it now (blocked, or this IP must wait): then nothing is counted.
    async fn begin_attempts(
        &self,
        accounts: &[&str],
        ip: &str,
        now: DateTime<Utc>,
        policy: &LoginPolicy,
    ) -> StoreResult<Option<Refusal>>;

    /// The attempt on `account` from `ip` had the right password: un-count one failure,
    /// end this IP's streak and trust this IP for the account from now on.
    async fn login_succeeded(&self, account: &str, ip: &str) -> StoreResult<()>;

    /// Forgets every failure, block and trusted IP of `account`.
    async fn clear_account(&self, account: &str) -> StoreResult<()>;

    /// Deletes state that no longer limits anything at `now`; returns how many records.
    async fn prune(&self, now: DateTime<Utc>, policy: &LoginPolicy) -> StoreResult<u64>;
}

/// A [`SharedLimits`] store as the limiter uses it: the clock, the policy, the refusals as
/// [`AuthError`]s and the once-per-outage log.
pub(super) struct Shared {
    store: Arc<dyn SharedLimits>,
    clock: Arc<dyn Clock>,
    policy: LoginPolicy,
    outage: Outage,
}

impl Shared {
    pub(super) fn new(
        store: Arc<dyn SharedLimits>,
        clock: Arc<dyn Clock>,
        policy: LoginPolicy,
    ) -> Self {
        Shared {
            store,
            clock,
            policy,
            outage: Outage::default(),
        }
    }

    /// Counts one event on `key`; on a store failure refuses if `fail_closed`, else allows.
    pub(super) async fn take(
        &self,
        key: &str,
        rate: Rate,
        fail_closed: bool,
    ) -> Result<(), AuthError> {
        match self
            .outage
            .watch(self.store.take(key, rate, self.clock.now()).await)
        {
            Ok(None) => Ok(()),
            Ok(Some(wait)) => Err(limited(wait, rate.max)),
            Err(e) if fail_closed => Err(e.into()),
            Err(_) => Ok(()),
        }
    }

    /// Counts a password attempt on `accounts`; refuses when the store fails.
    pub(super) async fn begin_attempts(
        &self,
        accounts: &[&str],
        ip: &str,
    ) -> Result<(), AuthError> {
        let now = self.clock.now();
        let counted = self
            .store
            .begin_attempts(accounts, ip, now, &self.policy)
            .await;
        match self.outage.watch(counted)? {
            None => Ok(()),
            Some(refusal) => Err(limited(refusal.wait, refusal.limit)),
        }
    }

    /// Un-counts a successful attempt; a failure leaves it counted (and is logged).
    pub(super) async fn login_succeeded(&self, account: &str, ip: &str) {
        let _ = self
            .outage
            .watch(self.store.login_succeeded(account, ip).await);
    }

    /// Clears `account`; a failure leaves the block in place until it ends (and is logged).
    pub(super) async fn clear_account(&self, account: &str) {
        let _ = self.outage.watch(self.store.clear_account(account).await);
    }

    /// Deletes spent state.
    pub(super) async fn prune(&self) {
        let now = self.clock.now();
        match self.outage.watch(self.store.prune(now, &self.policy).await) {
            Ok(0) | Err(_) => {}
            Ok(n) => tracing::debug!(pruned = n, "deleted spent shared rate-limit state"),
        }
    }
}

/// Whether the shared store is failing now, to log an outage once, not per request.
#[derive(Default)]
struct Outage {
    down: AtomicBool,
}

impl Outage {
    /// Passes `result` through, logging when the store starts or stops failing.
    fn watch<T>(&self, result: StoreResult<T>) -> StoreResult<T> {
        match &result {
            Ok(_) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::warn!("shared rate limits are reachable again");
                }
            }
            Err(e) => {
                if !self.down.swap(true, Ordering::Relaxed) {
                    tracing::error!(
                        error = %e,
                        "shared rate limits are unreachable: refusing logins and password \
                         changes (503) and letting other requests through until they are back"
                    );
                }
            }
        }
        result
    }
}
