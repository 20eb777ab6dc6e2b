//! [`VerifiedTokens`]: the access tokens this process verified, so a token seen again (every
//! request a client makes within its token's life) skips the signature check, which costs
//! tens of microseconds with EdDSA.
//!
//! Safe by construction: an entry is keyed by the whole token and found only by an identical
//! token (the map compares keys byte for byte; its hash only picks the bucket), and only
//! tokens that passed the full check are put in. An entry is used only while its `exp` holds
//! (with the same clock skew). The cache lives inside the
//! [`TokenSigner`](crate::tokens::TokenSigner), so a key reload or rotation, which builds a new
//! signer, starts with an empty one. The session check runs on every request anyway: a hit
//! skips only the cryptography, never the revocation check.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::tokens::AccessClaims;

/// Most tokens held: about 6 MB at ~600 bytes per token and claims.
pub const VERIFIED_TOKENS_CAPACITY: usize = 10_000;

/// A bounded map from a verified token to its claims.
pub(crate) struct VerifiedTokens {
    entries: RwLock<HashMap<Box<str>, AccessClaims>>,
    capacity: usize,
}

impl VerifiedTokens {
    /// An empty cache of at most `capacity` tokens (0: caches nothing).
    pub(crate) fn new(capacity: usize) -> Self {
        VerifiedTokens {
            entries: RwLock::new(HashMap::new()),
            capacity,
        }
    }

    /// The claims of `token` if it was verified here and its `exp` is not before
    /// `oldest_exp` (now less the clock skew).
    pub(crate) fn get(&self, token: &str, oldest_exp: i64) -> Option<AccessClaims> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries
            .get(token)
            .filter(|claims| claims.exp >= oldest_exp)
            .cloned()
    }

    /// Remembers that `token` verified to `claims`. When full, expired entries go first; if
    /// that frees nothing, the cache starts over (a bound, not an LRU: tokens live minutes).
    pub(crate) fn insert(&self, token: &str, claims: &AccessClaims, oldest_exp: i64) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity {
            entries.retain(|_, c| c.exp >= oldest_exp);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(token.into(), claims.clone());
    }

    /// How many tokens are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> AccessClaims {
        AccessClaims {
            iss: "i".into(),
            aud: "a".into(),
            sub: "u".into(),
            sid: "s".into(),
            role: "user".into(),
            iat: 0,
            exp,
            jti: "j".into(),
        }
    }

    #[test]
    fn a_token_is_found_only_by_the_identical_token_and_only_until_it_expires() {
        let cache = VerifiedTokens::new(10);
        cache.insert("a.b.c", &claims(100), 0);

        assert_eq!(cache.get("a.b.c", 100).map(|c| c.exp), Some(100));
        assert!(cache.get("a.b.c", 101).is_none(), "expired");
        assert!(cache.get("a.b.C", 0).is_none());
        assert!(cache.get("a.b.c ", 0).is_none());
    }

    #[test]
    fn a_full_cache_drops_expired_tokens_first_and_never_grows_past_its_bound() {
        let cache = VerifiedTokens::new(3);
        cache.insert("old", &claims(10), 0);
        cache.insert("live1", &claims(100), 0);
        cache.insert("live2", &claims(100), 0);

        cache.insert("live3", &claims(100), 50);

        assert!(cache.get("old", 0).is_none());
        assert!(cache.get("live1", 50).is_some());
        assert!(cache.get("live3", 50).is_some());
        for i in 0..10 {
            cache.insert(&format!("t{i}"), &claims(100), 50);
            assert!(cache.len() <= 3);
        }
    }

    #[test]
    fn a_capacity_of_zero_caches_nothing() {
        let cache = VerifiedTokens::new(0);
        cache.insert("a", &claims(100), 0);
        assert!(cache.get("a", 0).is_none());
    }
}
