//! Publishing this instance's changes to the other instances' caches, and dropping what
//! they publish (see [`crate::invalidation`]).

use std::time::Duration;

use super::AuthService;
use crate::domain::UserId;
use crate::invalidation::{Invalidated, SIGNING_KEYS_CHANGED};

/// The first pause before the feed is opened again after it failed; doubled up to
/// [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(100);
const MAX_RETRY: Duration = Duration::from_secs(5);

/// Counts each time the feed was cut and opened again.
const RECONNECTS: &str = "authgate_invalidation_listener_reconnects_total";

impl AuthService {
    /// Tells the other instances that `key` changed (in the background: the store has
    /// already recorded the change, and this node has already forgotten it).
    pub(super) fn publish(&self, key: String) {
        let Some(feed) = self.inner.invalidations.clone() else {
            return;
        };
        tokio::spawn(async move {
            if let Err(e) = feed.publish(&key).await {
                tracing::warn!(error = %e, "could not publish a cache invalidation");
            }
        });
    }

    /// Whether the store has a feed to follow ([`AuthService::follow_invalidations`]).
    pub fn has_invalidation_feed(&self) -> bool {
        self.inner.invalidations.is_some()
    }

    /// Drops what an instance published from this node's caches; a cut feed forgets
    /// everything (keys may have been missed).
    pub fn apply_invalidation(&self, event: Invalidated<'_>) {
        let inner = &self.inner;
        match event {
            Invalidated::FeedCut => {
                tracing::warn!("the cache invalidation feed was cut: cached entries are trusted for at most 1 s until it is followed again");
                metrics::counter!(RECONNECTS).increment(1);
                inner.sessions.set_degraded(true);
                inner.users.set_degraded(true);
                inner.sessions.forget_where(|_| true);
                inner.users.forget_where(|_| true);
            }
            Invalidated::Following => {
                tracing::info!("following the cache invalidation feed");
                // Forget again what was cached while keys could be missed.
                inner.sessions.forget_where(|_| true);
                inner.users.forget_where(|_| true);
                inner.sessions.set_degraded(false);
                inner.users.set_degraded(false);
            }
            Invalidated::Key(key) => match key.split_once(':') {
                Some(("session", id)) => inner.sessions.forget(id),
                Some(("user", id)) => inner.users.forget(id),
                Some(("user-sessions", id)) => {
                    let user = UserId::from_string(id.to_owned());
                    inner.sessions.forget_where(|owner| *owner == user);
                }
                None if key == SIGNING_KEYS_CHANGED => self.reload_keys_in_background(),
                _ => tracing::debug!(key, "unknown invalidation ignored"),
            },
        }
    }

    /// Reads the signing keys again (another instance rotated them), off the feed's task.
    fn reload_keys_in_background(&self) {
        let service = self.clone();
        tokio::spawn(async move {
            match service.reload_signing_keys().await {
                Ok(kid) => {
                    tracing::info!(signing = ?kid, "the signing keys changed: read them again")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading the changed signing keys failed; the periodic reload will retry")
                }
            }
        });
    }

    /// Follows the store's invalidation feed for as long as the future runs, opening it
    /// again (with a growing pause) whenever it drops. Until it follows, and while it is
    /// cut, the caches trust an entry for at most [`crate::live_cache::DEGRADED_TTL`].
    /// Returns at once without a feed.
    pub async fn follow_invalidations(self) {
        let Some(feed) = self.inner.invalidations.clone() else {
            return;
        };
        self.inner.sessions.set_degraded(true);
        self.inner.users.set_degraded(true);
        let mut pause = FIRST_RETRY;
        loop {
            let service = self.clone();
            let sink = std::sync::Arc::new(move |e: Invalidated<'_>| service.apply_invalidation(e));
            match feed.follow(sink).await {
                Ok(()) => pause = FIRST_RETRY,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?pause, "cache invalidation feed failed");
                }
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_RETRY);
        }
    }
}
