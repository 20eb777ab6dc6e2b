//! The limits' state in this process's memory: a governor GCRA limiter per key, and the
//! accounts' login records under one lock, so parallel attempts count exactly. Limits are
//! per instance and reset on restart.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::Clock as _;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::{
    limited, Action, LimitsConfig, LoginAttempt, Rate, ACTIONS, FAILURE_WINDOW, MAX_BACKOFF,
};
use crate::clock::Clock;
use crate::error::AuthError;

impl Rate {
    fn quota(self) -> Quota {
        let burst = NonZeroU32::new(self.max).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(self.interval())
            .unwrap_or(Quota::per_second(burst))
            .allow_burst(burst)
    }
}

/// The service's [`Clock`] as governor reads it: its monotonic time in nanoseconds.
#[derive(Clone)]
struct GovernorClock(Arc<dyn Clock>);

impl governor::clock::Clock for GovernorClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(self.0.elapsed())
    }
}

/// A per-key GCRA limiter on the service's clock.
type KeyedLimiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, GovernorClock, NoOpMiddleware<Nanos>>;

fn keyed(rate: Rate, clock: &Arc<dyn Clock>) -> KeyedLimiter {
    RateLimiter::new(
        rate.quota(),
        DefaultKeyedStateStore::default(),
        GovernorClock(clock.clone()),
    )
}

/// Applies [`LimitsConfig`] in this process's memory.
pub(super) struct MemoryLimits {
    config: LimitsConfig,
    clock: Arc<dyn Clock>,
    per_ip: HashMap<Action, KeyedLimiter>,
    forgot_per_email: KeyedLimiter,
    resend_per_account: KeyedLimiter,
    accounts: Mutex<HashMap<String, AccountRecord>>,
}

/// Times in an account's record are the clock's monotonic [`Clock::elapsed`].
#[derive(Default)]
struct AccountRecord {
    failures: u32,
    window_start: Option<Duration>,
    blocked_until: Option<Duration>,
    per_ip: HashMap<String, IpRecord>,
    trusted_ips: HashSet<String>,
}

#[derive(Clone, Copy)]
struct IpRecord {
    consecutive: u32,
    last: Duration,
}

/// Accounts tracked at most before records that limit nothing are dropped.
const MAX_TRACKED_ACCOUNTS: usize = 100_000;

impl MemoryLimits {
    /// Builds the limiters, reading the time from `clock`.
    pub(super) fn new(config: LimitsConfig, clock: Arc<dyn Clock>) -> Self {
        let per_ip = ACTIONS
            .iter()
            .map(|a| (*a, keyed(config.rate_per_ip(*a), &clock)))
            .collect();
        MemoryLimits {
            forgot_per_email: keyed(config.forgot_per_email, &clock),
            resend_per_account: keyed(config.resend_per_account, &clock),
            per_ip,
            accounts: Mutex::new(HashMap::new()),
            config,
            clock,
        }
    }

    /// Counts one `action` from `ip`; `RateLimited` past the per-IP rate.
    pub(super) fn check_ip(&self, action: Action, ip: Option<&str>) -> Result<(), AuthError> {
        let (Some(ip), true) = (ip, self.config.enabled) else {
            return Ok(());
        };
        let limiter = &self.per_ip[&action];
        check(limiter, ip, self.config.rate_per_ip(action).max)
    }

    /// Counts one forgot-password mail to `email` (normalized); limited alike whether or not
    /// the address has an account.
    pub(super) fn check_forgot(&self, email: &str) -> Result<(), AuthError> {
        if !self.config.enabled {
            return Ok(());
        }
        check(
            &self.forgot_per_email,
            email,
            self.config.forgot_per_email.max,
        )
    }

    /// Counts one verification mail for `account`.
    pub(super) fn check_resend(&self, account: &str) -> Result<(), AuthError> {
        if !self.config.enabled {
            return Ok(());
        }
        check(
            &self.resend_per_account,
            account,
            self.config.resend_per_account.max,
        )
    }

    /// Counts a login attempt on `account` from `ip` before the password is checked, or
    /// refuses it while the account or this (account, IP) pair is blocked.
    #[cfg(test)]
    pub(super) fn begin_login(
        &self,
        account: &str,
        ip: Option<&str>,
    ) -> Result<LoginAttempt, AuthError> {
        let mut attempts = self.begin_attempts(&[account], ip)?;
        Ok(attempts.remove(0))
    }

    /// Counts one password attempt from `ip` on each of `accounts` (the names one account
    /// logs in by: its email and its username key), as [`MemoryLimits::begin_login`] does, so a
    /// guess of the current password (a password change) counts toward the same block as a
    /// failed login. Refused, counting nothing, while any of them is blocked for this IP.
    pub(super) fn begin_attempts(
        &self,
        accounts: &[&str],
        ip: Option<&str>,
    ) -> Result<Vec<LoginAttempt>, AuthError> {
        let ip = ip.unwrap_or("unknown").to_owned();
        let attempts: Vec<LoginAttempt> = accounts
            .iter()
            .map(|account| LoginAttempt {
                account: (*account).to_owned(),
                ip: ip.clone(),
            })
            .collect();
        if !self.config.enabled {
            return Ok(attempts);
        }
        let mut records = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        // Read the clock under the lock: a time taken before it could be earlier than an
        // attempt recorded meanwhile by another thread, which would look like a zero wait
        // not yet served.
        let now = self.clock.elapsed();
        if records.len() >= MAX_TRACKED_ACCOUNTS {
            records.retain(|_, r| r.is_recent(now));
        }
        for attempt in &attempts {
            if let Some(record) = records.get(&attempt.account) {
                self.refusal(record, &ip, now)?;
            }
        }
        for attempt in &attempts {
            records
                .entry(attempt.account.clone())
                .or_default()
                .count_failure(&ip, now, &self.config);
        }
        Ok(attempts)
    }

    /// Why `record` refuses an attempt from `ip` at `now`, if it does.
    fn refusal(&self, record: &AccountRecord, ip: &str, now: Duration) -> Result<(), AuthError> {
        let trusted = record.trusted_ips.contains(ip);
        if let Some(until) = record.blocked_until.filter(|u| *u > now && !trusted) {
            return Err(limited(until - now, self.config.max_failures));
        }
        if let Some(ip_rec) = record.per_ip.get(ip) {
            let wait = self.backoff(ip_rec.consecutive);
            if !wait.is_zero() && ip_rec.last + wait > now {
                return Err(limited(ip_rec.last + wait - now, self.config.free_attempts));
            }
        }
        Ok(())
    }

    /// The attempt had the right password: un-count it, reset this IP's streak, and trust
    /// this IP for the account from now on.
    pub(super) fn login_succeeded(&self, attempt: LoginAttempt) {
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(record) = accounts.get_mut(&attempt.account) {
            record.failures = record.failures.saturating_sub(1);
            record.per_ip.remove(&attempt.ip);
            record.trusted_ips.insert(attempt.ip);
        }
    }

    /// Forgets every failure and block of `account` (after a password reset).
    pub(super) fn clear_account(&self, account: &str) {
        self.accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(account);
    }

    /// Drops state that no longer limits anything (call periodically).
    pub(super) fn prune(&self) {
        let now = self.clock.elapsed();
        self.accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, r| r.is_recent(now));
        self.per_ip.values().for_each(|l| l.retain_recent());
        self.forgot_per_email.retain_recent();
        self.resend_per_account.retain_recent();
    }

    fn backoff(&self, consecutive: u32) -> Duration {
        match consecutive.checked_sub(self.config.free_attempts) {
            None => Duration::ZERO,
            Some(extra) => Duration::from_secs(1u64 << extra.min(20)).min(MAX_BACKOFF),
        }
    }
}

impl AccountRecord {
    fn count_failure(&mut self, ip: &str, now: Duration, config: &LimitsConfig) {
        if self
            .window_start
            .is_none_or(|s| now.saturating_sub(s) > FAILURE_WINDOW)
        {
            self.window_start = Some(now);
            self.failures = 0;
        }
        self.failures += 1;
        if self.failures >= config.max_failures {
            self.blocked_until = Some(now + config.block_for);
        }
        let rec = self.per_ip.entry(ip.to_owned()).or_insert(IpRecord {
            consecutive: 0,
            last: now,
        });
        rec.consecutive += 1;
        rec.last = now;
    }

    fn is_recent(&self, now: Duration) -> bool {
        self.blocked_until.is_some_and(|u| u > now)
            || self
                .window_start
                .is_some_and(|s| now.saturating_sub(s) < FAILURE_WINDOW)
            || !self.trusted_ips.is_empty()
    }
}

fn check(limiter: &KeyedLimiter, key: &str, limit: u32) -> Result<(), AuthError> {
    limiter.check_key(&key.to_owned()).map_err(|not_until| {
        let wait = not_until.wait_time_from(limiter.clock().now());
        limited(wait, limit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn clock() -> Arc<dyn Clock> {
        Arc::new(ManualClock::starting_now())
    }

    fn limiter(free: u32, max_failures: u32) -> MemoryLimits {
        MemoryLimits::new(
            LimitsConfig {
                free_attempts: free,
                max_failures,
                ..LimitsConfig::default()
            },
            clock(),
        )
    }

    #[test]
    fn an_ip_is_limited_after_its_burst() {
        let mut cfg = LimitsConfig::default();
        cfg.per_ip.insert(Action::Register, Rate::per_minute(3));
        let l = MemoryLimits::new(cfg, clock());
        for _ in 0..3 {
            l.check_ip(Action::Register, Some("1.2.3.4")).unwrap();
        }
        let err = l.check_ip(Action::Register, Some("1.2.3.4")).unwrap_err();
        assert!(
            matches!(err, AuthError::RateLimited { retry_after_secs, limit: 3 } if retry_after_secs >= 1)
        );
        assert!(l.check_ip(Action::Register, Some("5.6.7.8")).is_ok());
    }

    #[test]
    fn consecutive_failures_from_one_ip_start_to_wait_after_the_free_ones() {
        let l = limiter(3, 100);
        for _ in 0..3 {
            l.begin_login("ada", Some("1.1.1.1")).unwrap();
        }
        assert!(l.begin_login("ada", Some("1.1.1.1")).is_err());
        assert!(
            l.begin_login("ada", Some("2.2.2.2")).is_ok(),
            "another IP keeps its own streak"
        );
    }

    #[test]
    fn a_refused_ip_is_let_through_again_once_its_rate_allows() {
        let clock = Arc::new(ManualClock::starting_now());
        let mut cfg = LimitsConfig::default();
        cfg.per_ip.insert(Action::Register, Rate::per_minute(2));
        let l = MemoryLimits::new(cfg, clock.clone());
        l.check_ip(Action::Register, Some("1.2.3.4")).unwrap();
        l.check_ip(Action::Register, Some("1.2.3.4")).unwrap();
        assert!(l.check_ip(Action::Register, Some("1.2.3.4")).is_err());

        clock.advance(Duration::from_secs(30));

        assert!(l.check_ip(Action::Register, Some("1.2.3.4")).is_ok());
    }

    #[test]
    fn a_slowed_down_ip_may_try_again_after_its_wait() {
        let clock = Arc::new(ManualClock::starting_now());
        let cfg = LimitsConfig {
            free_attempts: 1,
            ..LimitsConfig::default()
        };
        let l = MemoryLimits::new(cfg, clock.clone());
        l.begin_login("ada", Some("1.1.1.1")).unwrap();
        let Err(AuthError::RateLimited {
            retry_after_secs, ..
        }) = l.begin_login("ada", Some("1.1.1.1"))
        else {
            panic!("the second attempt should wait");
        };

        clock.advance(Duration::from_secs(retry_after_secs));

        assert!(l.begin_login("ada", Some("1.1.1.1")).is_ok());
    }

    #[test]
    fn an_account_block_ends_after_block_for() {
        let clock = Arc::new(ManualClock::starting_now());
        let cfg = LimitsConfig {
            free_attempts: 1000,
            max_failures: 3,
            ..LimitsConfig::default()
        };
        let block_for = cfg.block_for;
        let l = MemoryLimits::new(cfg, clock.clone());
        for i in 0..3 {
            l.begin_login("ada", Some(&format!("10.0.0.{i}"))).unwrap();
        }
        assert!(l.begin_login("ada", Some("10.0.1.1")).is_err());

        clock.advance(block_for);

        assert!(l.begin_login("ada", Some("10.0.1.1")).is_ok());
    }

    #[test]
    fn an_account_is_blocked_after_max_failures_except_for_its_trusted_ips() {
        let l = limiter(1000, 10);
        let owner = l.begin_login("ada", Some("9.9.9.9")).unwrap();
        l.login_succeeded(owner);
        for i in 0..10 {
            l.begin_login("ada", Some(&format!("10.0.0.{i}"))).unwrap();
        }
        assert!(l.begin_login("ada", Some("10.0.1.1")).is_err());
        assert!(
            l.begin_login("ada", Some("9.9.9.9")).is_ok(),
            "the owner's IP keeps a way in"
        );
        l.clear_account("ada");
        assert!(
            l.begin_login("ada", Some("10.0.1.1")).is_ok(),
            "a reset clears the block"
        );
    }

    #[test]
    fn parallel_attempts_count_exactly() {
        let l = std::sync::Arc::new(limiter(1000, 1000));
        let handles: Vec<_> = (0..50)
            .map(|i| {
                let l = l.clone();
                std::thread::spawn(move || l.begin_login("ada", Some(&format!("ip{i}"))).is_ok())
            })
            .collect();
        assert!(handles.into_iter().all(|h| h.join().unwrap()));
        assert_eq!(l.accounts.lock().unwrap()["ada"].failures, 50);
    }

    #[test]
    fn parallel_attempts_from_one_ip_within_the_free_attempts_are_never_refused() {
        // Regression: the clock was read before the lock, so a thread could see a later
        // attempt from its own IP and take a zero backoff for a wait still to serve.
        for _ in 0..20 {
            let l = std::sync::Arc::new(limiter(1000, 1000));
            let handles: Vec<_> = (0..16)
                .map(|_| {
                    let l = l.clone();
                    std::thread::spawn(move || {
                        (0..50).all(|_| l.begin_login("ada", Some("10.0.0.1")).is_ok())
                    })
                })
                .collect();
            assert!(handles.into_iter().all(|h| h.join().unwrap()));
            assert_eq!(l.accounts.lock().unwrap()["ada"].failures, 800);
        }
    }

    #[test]
    fn a_successful_login_does_not_count_as_a_failure() {
        let l = limiter(2, 100);
        for _ in 0..5 {
            let a = l.begin_login("ada", Some("1.1.1.1")).unwrap();
            l.login_succeeded(a);
        }
        assert_eq!(l.accounts.lock().unwrap()["ada"].failures, 0);
    }
}
