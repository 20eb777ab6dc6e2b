//! Accepting connections without spinning: an accept error (EMFILE: out of file
//! descriptors) waits before the next try, longer each time, and is logged at most once per
//! [`LOG_EVERY`] with the number of errors since; so are connections refused at the cap.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};

/// The first wait after an accept error.
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
/// The longest wait between two accept attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// At most one log line per kind of trouble in this interval.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// The accept loop's trouble: the current backoff and what has not been logged yet.
#[derive(Default)]
pub(super) struct AcceptErrors {
    backoff: Option<Duration>,
    errors: Throttled,
    refused: Throttled,
    dropped: Throttled,
}

impl AcceptErrors {
    /// The next connection; errors are logged (throttled) and retried after a backoff.
    pub(super) async fn accept(&mut self, listener: &TcpListener) -> (TcpStream, SocketAddr) {
        loop {
            match listener.accept().await {
                Ok(accepted) => {
                    self.backoff = None;
                    return accepted;
                }
                Err(e) => {
                    let wait = self
                        .backoff
                        .map_or(FIRST_BACKOFF, |b| (b * 2).min(MAX_BACKOFF));
                    self.backoff = Some(wait);
                    if let Some(since) = self.errors.note() {
                        tracing::error!(
                            error = %e,
                            errors_since_last_report = since,
                            "accept error; retrying in {wait:?} (AUTHGATE_MAX_CONNECTIONS may be above the open-file limit)"
                        );
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// A connection over the cap was answered 503.
    pub(super) fn note_refused(&mut self, cap: usize) {
        if let Some(since) = self.refused.note() {
            tracing::warn!(
                refused_since_last_report = since,
                "{cap} connections open (AUTHGATE_MAX_CONNECTIONS): new ones get 503"
            );
        }
    }

    /// A connection over the cap was closed without an answer (too many 503s in flight).
    pub(super) fn note_dropped(&mut self, cap: usize) {
        if let Some(since) = self.dropped.note() {
            tracing::warn!(
                dropped_since_last_report = since,
                "{cap} connections open and too many 503s in flight: closing new connections unanswered"
            );
        }
    }
}

/// Counts events and says when one should be logged.
#[derive(Default)]
struct Throttled {
    last_logged: Option<Instant>,
    unlogged: u64,
}

impl Throttled {
    /// Counts an event; `Some(n)` (the events since the last line, this one included) when
    /// it is time to log.
    fn note(&mut self) -> Option<u64> {
        self.unlogged += 1;
        let due = self.last_logged.is_none_or(|at| at.elapsed() >= LOG_EVERY);
        if !due {
            return None;
        }
        self.last_logged = Some(Instant::now());
        Some(std::mem::take(&mut self.unlogged))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_events_is_logged_once_then_counted() {
        let mut t = Throttled::default();
        assert_eq!(t.note(), Some(1));
        for _ in 0..99 {
            assert_eq!(t.note(), None);
        }
        t.last_logged = Some(Instant::now() - LOG_EVERY);
        assert_eq!(t.note(), Some(100));
    }
}
