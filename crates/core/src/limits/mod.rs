//! Rate limits and per-account brute-force protection.
//!
//! Two mechanisms:
//! - **Per-key rates** (GCRA): every sensitive action is limited per client IP, and
//!   mail-sending actions also per address, so one client cannot flood the service and one
//!   inbox cannot be bombed.
//! - **Login lockout** per account, counted atomically so parallel attempts count exactly:
//!   each attempt is counted *before* the password is checked (and un-counted when it
//!   succeeds). Per (account, IP), the first `free_attempts` consecutive failures are free;
//!   after that each attempt must wait twice as long as the previous one (1 s, 2 s, 4 s, ...
//!   up to 15 min). Per account, `max_failures` failures within an hour block the account for
//!   `block_for`, except from IPs that have logged in to it successfully before, so the
//!   owner's own device keeps a way in. A password reset clears the account's record.
//!
//! Where the state lives: in this process's memory ([`memory`], the default: limits are per
//! instance and reset on restart), or in a [`SharedLimits`] store that every instance on one
//! database shares ([`shared`]), so N instances together allow what one allows.

mod memory;
mod shared;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::error::AuthError;

use memory::MemoryLimits;
use shared::Shared;
pub use shared::{LoginPolicy, Refusal, SharedLimits};

/// `max` events per `per`, with bursts of up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Events allowed per period (and the burst size).
    pub max: u32,
    /// The period.
    pub per: Duration,
}

impl Rate {
    /// `max` per minute.
    pub const fn per_minute(max: u32) -> Rate {
        Rate {
            max,
            per: Duration::from_secs(60),
        }
    }

    /// `max` per hour.
    pub const fn per_hour(max: u32) -> Rate {
        Rate {
            max,
            per: Duration::from_secs(3600),
        }
    }

    /// Parses `30/min`, `5/hour`, `10/s`, `100/15m`.
    pub fn parse(s: &str) -> Result<Rate, String> {
        let (n, period) = s
            .split_once('/')
            .ok_or("expected <count>/<period>, e.g. 30/min")?;
        let max: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("{n:?} is not a count"))?;
        let per = match period.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            "d" | "day" => Duration::from_secs(86400),
            other => humantime::parse_duration(other)
                .map_err(|_| format!("{other:?} is not a period"))?,
        };
        if max == 0 || per.is_zero() {
            return Err("count and period must be positive".into());
        }
        Ok(Rate { max, per })
    }

    /// The time one event uses up of the allowance (the GCRA emission interval).
    pub fn interval(self) -> Duration {
        self.per / self.max.max(1)
    }
}

/// An action subject to limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// POST /login.
    Login,
    /// POST /register.
    Register,
    /// POST /refresh.
    Refresh,
    /// POST /forgot-password.
    ForgotPassword,
    /// POST /reset-password.
    ResetPassword,
    /// POST /resend-verification.
    ResendVerification,
    /// GET /verify-email/{token}.
    VerifyEmail,
}

const ACTIONS: [Action; 7] = [
    Action::Login,
    Action::Register,
    Action::Refresh,
    Action::ForgotPassword,
    Action::ResetPassword,
    Action::ResendVerification,
    Action::VerifyEmail,
];

impl Action {
    /// Stable snake_case name (metrics, audit, settings).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::Register => "register",
            Action::Refresh => "refresh",
            Action::ForgotPassword => "forgot_password",
            Action::ResetPassword => "reset_password",
            Action::ResendVerification => "resend_verification",
            Action::VerifyEmail => "verify_email",
        }
    }
}

/// The rate of an action that has none configured.
const FALLBACK_RATE: Rate = Rate::per_minute(60);

/// Limits in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsConfig {
    /// Off: nothing is limited (benchmarks, trusted networks).
    pub enabled: bool,
    /// Per client IP, per action.
    pub per_ip: HashMap<Action, Rate>,
    /// Per email address: forgot-password mails.
    pub forgot_per_email: Rate,
    /// Per account: verification mails.
    pub resend_per_account: Rate,
    /// Consecutive failures per (account, IP) before attempts slow down.
    pub free_attempts: u32,
    /// Failures per account within an hour before the account is blocked.
    pub max_failures: u32,
    /// How long an account block lasts.
    pub block_for: Duration,
}

impl LimitsConfig {
    /// The per-IP rate of `action` ([`FALLBACK_RATE`] when none is configured).
    fn rate_per_ip(&self, action: Action) -> Rate {
        self.per_ip.get(&action).copied().unwrap_or(FALLBACK_RATE)
    }

    /// The login-block numbers as a [`SharedLimits`] store applies them.
    pub fn login_policy(&self) -> LoginPolicy {
        LoginPolicy {
            free_attempts: self.free_attempts,
            max_failures: self.max_failures,
            block_for: self.block_for,
            failure_window: FAILURE_WINDOW,
            max_backoff: MAX_BACKOFF,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let per_ip = HashMap::from([
            (Action::Login, Rate::per_minute(30)),
            (Action::Register, Rate::per_minute(20)),
            (Action::Refresh, Rate::per_minute(120)),
            (Action::ForgotPassword, Rate::per_minute(10)),
            (Action::ResetPassword, Rate::per_minute(20)),
            (Action::ResendVerification, Rate::per_minute(10)),
            (Action::VerifyEmail, Rate::per_minute(30)),
        ]);
        LimitsConfig {
            enabled: true,
            per_ip,
            forgot_per_email: Rate::per_hour(5),
            resend_per_account: Rate::per_hour(5),
            free_attempts: 5,
            max_failures: 50,
            block_for: Duration::from_secs(15 * 60),
        }
    }
}

/// Failures older than this no longer count toward an account block.
const FAILURE_WINDOW: Duration = Duration::from_secs(3600);
/// The longest wait between attempts from one IP on one account.
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// A login attempt counted by [`Limiter::begin_login`]; report how it ended.
#[derive(Debug)]
pub struct LoginAttempt {
    account: String,
    ip: String,
}

/// Applies [`LimitsConfig`], in memory or in a [`SharedLimits`] store.
pub struct Limiter {
    config: LimitsConfig,
    memory: MemoryLimits,
    shared: Option<Shared>,
}

impl Limiter {
    /// Builds in-memory limiters, reading the time from `clock`.
    pub fn new(config: LimitsConfig, clock: Arc<dyn Clock>) -> Self {
        Limiter {
            memory: MemoryLimits::new(config.clone(), clock),
            config,
            shared: None,
        }
    }

    /// Builds limiters whose state lives in `store`, shared by every instance using it.
    pub fn shared(
        config: LimitsConfig,
        clock: Arc<dyn Clock>,
        store: Arc<dyn SharedLimits>,
    ) -> Self {
        Limiter {
            memory: MemoryLimits::new(config.clone(), clock.clone()),
            shared: Some(Shared::new(store, clock, config.login_policy())),
            config,
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &LimitsConfig {
        &self.config
    }

    /// Whether the state lives in a shared store (`false`: in this process).
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Counts one `action` from `ip`; `RateLimited` past the per-IP rate. With shared
    /// limits, an unreachable store refuses logins (`StoreUnavailable`) and lets the other
    /// actions through.
    pub async fn check_ip(&self, action: Action, ip: Option<&str>) -> Result<(), AuthError> {
        let (Some(ip), true) = (ip, self.config.enabled) else {
            return Ok(());
        };
        let rate = self.config.rate_per_ip(action);
        match &self.shared {
            None => self.memory.check_ip(action, Some(ip)),
            Some(shared) => {
                let key = format!("ip:{}:{ip}", action.as_str());
                shared.take(&key, rate, action == Action::Login).await
            }
        }
    }

    /// Counts one forgot-password mail to `email` (normalized); limited alike whether or not
    /// the address has an account.
    pub async fn check_forgot(&self, email: &str) -> Result<(), AuthError> {
        if !self.config.enabled {
            return Ok(());
        }
        let rate = self.config.forgot_per_email;
        match &self.shared {
            None => self.memory.check_forgot(email),
            Some(shared) => shared.take(&format!("forgot:{email}"), rate, false).await,
        }
    }

    /// Counts one verification mail for `account`.
    pub async fn check_resend(&self, account: &str) -> Result<(), AuthError> {
        if !self.config.enabled {
            return Ok(());
        }
        let rate = self.config.resend_per_account;
        match &self.shared {
            None => self.memory.check_resend(account),
            Some(shared) => shared.take(&format!("resend:{account}"), rate, false).await,
        }
    }

    /// Counts a login attempt on `account` from `ip` before the password is checked, or
    /// refuses it while the account or this (account, IP) pair is blocked.
    pub async fn begin_login(
        &self,
        account: &str,
        ip: Option<&str>,
    ) -> Result<LoginAttempt, AuthError> {
        let mut attempts = self.begin_attempts(&[account], ip).await?;
        Ok(attempts.remove(0))
    }

    /// Counts one password attempt from `ip` on each of `accounts` (the names one account
    /// logs in by: its email and its username key), as [`Limiter::begin_login`] does, so a
    /// guess of the current password (a password change) counts toward the same block as a
    /// failed login. Refused, counting nothing, while any of them is blocked for this IP.
    /// With shared limits, an unreachable store refuses (`StoreUnavailable`): a guess is
    /// never let through uncounted.
    pub async fn begin_attempts(
        &self,
        accounts: &[&str],
        ip: Option<&str>,
    ) -> Result<Vec<LoginAttempt>, AuthError> {
        let ip = ip.unwrap_or("unknown");
        let attempts: Vec<LoginAttempt> = accounts
            .iter()
            .map(|account| LoginAttempt {
                account: (*account).to_owned(),
                ip: ip.to_owned(),
            })
            .collect();
        if !self.config.enabled {
            return Ok(attempts);
        }
        match &self.shared {
            None => drop(self.memory.begin_attempts(accounts, Some(ip))?),
            Some(shared) => shared.begin_attempts(accounts, ip).await?,
        }
        Ok(attempts)
    }

    /// The attempt had the right password: un-count it, reset this IP's streak, and trust
    /// this IP for the account from now on.
    pub async fn login_succeeded(&self, attempt: LoginAttempt) {
        if !self.config.enabled {
            return;
        }
        match &self.shared {
            None => self.memory.login_succeeded(attempt),
            Some(shared) => shared.login_succeeded(&attempt.account, &attempt.ip).await,
        }
    }

    /// Forgets every failure and block of `account` (after a password reset).
    pub async fn clear_account(&self, account: &str) {
        match &self.shared {
            None => self.memory.clear_account(account),
            Some(shared) => shared.clear_account(account).await,
        }
    }

    /// Drops state that no longer limits anything (call periodically).
    pub async fn prune(&self) {
        match &self.shared {
            None => self.memory.prune(),
            Some(shared) => shared.prune().await,
        }
    }
}

/// The refusal for a wait of `wait` on a limit of `limit`.
fn limited(wait: Duration, limit: u32) -> AuthError {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    AuthError::RateLimited {
        retry_after_secs: secs.max(1),
        limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn rates_parse_from_settings() {
        assert_eq!(Rate::parse("30/min").unwrap(), Rate::per_minute(30));
        assert_eq!(Rate::parse("5/hour").unwrap(), Rate::per_hour(5));
        assert_eq!(
            Rate::parse("100/15m").unwrap(),
            Rate {
                max: 100,
                per: Duration::from_secs(900)
            }
        );
        assert!(Rate::parse("0/min").is_err());
        assert!(Rate::parse("abc").is_err());
    }

    #[tokio::test]
    async fn disabled_limits_never_refuse() {
        let l = Limiter::new(
            LimitsConfig {
                enabled: false,
                max_failures: 1,
                ..LimitsConfig::default()
            },
            Arc::new(ManualClock::starting_now()),
        );
        for _ in 0..10 {
            assert!(l.begin_login("ada", None).await.is_ok());
            assert!(l.check_forgot("a@b.c").await.is_ok());
        }
    }

    #[tokio::test]
    async fn a_successful_login_through_the_limiter_resets_the_streak() {
        let l = Limiter::new(
            LimitsConfig {
                free_attempts: 2,
                ..LimitsConfig::default()
            },
            Arc::new(ManualClock::starting_now()),
        );
        for _ in 0..5 {
            let a = l.begin_login("ada", Some("1.1.1.1")).await.unwrap();
            l.login_succeeded(a).await;
        }
        assert!(l.begin_login("ada", Some("1.1.1.1")).await.is_ok());
    }
}
