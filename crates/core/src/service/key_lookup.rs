//! Tokens signed by a key this node has not loaded yet: another instance picked up a
//! rotation first and signs with the new key. Rather than refuse them until this node's own
//! periodic reload ([`crate::keys::KEY_RELOAD_INTERVAL`]), it reads the keys again at once;
//! at most once per [`LOOKUP_PAUSE_MS`], so tokens with made-up kids cannot turn every
//! request into a store read.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use super::AuthService;
use crate::error::AuthError;
use crate::tokens::AccessClaims;

/// The least time between two look-ups caused by unknown kids.
const LOOKUP_PAUSE_MS: i64 = 1000;

impl AuthService {
    /// Verifies an access token; one whose kid this node does not know makes it read the
    /// signing keys again (if none was read for that reason within [`LOOKUP_PAUSE_MS`]) and
    /// verify once more.
    pub(super) async fn verify_access(&self, token: &str) -> Result<AccessClaims, AuthError> {
        let signer = self.signer();
        let now = self.now();
        let verdict = signer.verify(token, now.timestamp());
        if verdict.is_ok() || signer.knows_key_of(token) || !self.may_look_up_keys(now) {
            return verdict;
        }
        match self.reload_signing_keys().await {
            Ok(kid) => {
                tracing::info!(signing = ?kid, "a token named an unknown key: read the signing keys again");
                self.signer().verify(token, now.timestamp())
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the signing keys for an unknown kid failed");
                verdict
            }
        }
    }

    /// Claims the next look-up slot: `true` at most once per [`LOOKUP_PAUSE_MS`].
    fn may_look_up_keys(&self, now: DateTime<Utc>) -> bool {
        let at = now.timestamp_millis();
        let last = &self.inner.last_key_lookup;
        let previous = last.load(Ordering::Acquire);
        at.saturating_sub(previous) >= LOOKUP_PAUSE_MS
            && last
                .compare_exchange(previous, at, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }
}
