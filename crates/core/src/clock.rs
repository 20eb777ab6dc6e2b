//! Time, injected. The service, the rate limiter, the caches and token verification read
//! the time from one [`Clock`], so a test can advance it instead of sleeping, and the store
//! contract's rule holds: "now" is passed in, never read from a database clock.
//!
//! ```
//! use std::time::Duration;
//! use authgate_core::clock::{Clock, ManualClock};
//! let clock = ManualClock::starting_now();
//! let (wall, mono) = (clock.now(), clock.elapsed());
//! clock.advance(Duration::from_secs(90));
//! assert_eq!(clock.now() - wall, chrono::Duration::seconds(90));
//! assert_eq!(clock.elapsed() - mono, Duration::from_secs(90));
//! ```

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// A source of time.
pub trait Clock: Send + Sync + 'static {
    /// Wall-clock time: what is stored, and what token expiry is checked against.
    fn now(&self) -> DateTime<Utc>;
    /// Monotonic time since an arbitrary fixed start: rate limits, back-offs and cache ages,
    /// which must never run backwards when the wall clock is set.
    fn elapsed(&self) -> Duration;
}

/// The operating system's clocks.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    /// A clock whose monotonic time starts now.
    pub fn new() -> Self {
        SystemClock {
            start: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

/// A clock that moves only when told to (tests). Wall and monotonic time advance together.
#[derive(Debug)]
pub struct ManualClock {
    start: DateTime<Utc>,
    offset: Mutex<Duration>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock {
            start,
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// A clock standing at the real current time, truncated to milliseconds (the precision
    /// every store keeps).
    pub fn starting_now() -> Self {
        let now = Utc::now();
        Self::new(DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap_or_else(|p| p.into_inner()) += by;
    }

    fn offset(&self) -> Duration {
        *self.offset.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        let offset = chrono::Duration::from_std(self.offset()).unwrap_or(chrono::Duration::MAX);
        self.start + offset
    }

    fn elapsed(&self) -> Duration {
        self.offset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_never_runs_backwards() {
        let clock = SystemClock::new();
        let first = clock.elapsed();
        assert!(clock.elapsed() >= first);
    }

    #[test]
    fn a_manual_clock_stands_still_until_advanced() {
        let clock = ManualClock::starting_now();
        let before = clock.now();
        assert_eq!(clock.now(), before);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now() - before, chrono::Duration::milliseconds(1500));
        assert_eq!(clock.elapsed(), Duration::from_millis(1500));
    }
}
