//! Per-process caches of what the store said a moment ago, with exact invalidation on this
//! node: the live sessions (so an authenticated request does not ask the store whether its
//! session was revoked) and the user rows `GET /me` returns.
//!
//! **Exact on this node.** Every change the service makes goes through
//! [`LiveCache::forget`] or [`LiveCache::forget_where`] after the store has recorded it, and
//! a lookup racing with a change can never re-insert the old value: a change bumps an
//! epoch, and a value read from the store is only inserted if the epoch is unchanged since
//! before that read (checked under the shard's lock).
//!
//! **Bounded elsewhere.** A change made by another process (another instance on the same
//! database) reaches this node when that instance publishes it on the store's invalidation
//! feed ([`crate::invalidation`], PostgreSQL), or else once the entry is older than the
//! cache's TTL; while the feed is cut the TTL is at most [`DEGRADED_TTL`]
//! ([`LiveCache::set_degraded`]). That is why the binary turns the caches off by default on
//! MongoDB, which has no feed.
//!
//! Session expiry needs no tracking: the service enables the caches only when access tokens
//! live no longer than refresh tokens, so a session outlives every access token issued for
//! it and an unexpired token (already checked) implies an unexpired session.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::clock::Clock;

const SHARDS: usize = 16;

/// How long an entry is trusted while changes from other instances may go unseen (their
/// invalidation feed is cut): see [`LiveCache::set_degraded`].
pub const DEGRADED_TTL: Duration = Duration::from_secs(1);

/// Values by string key (a session id, a user id), each trusted for the cache's TTL.
pub struct LiveCache<V> {
    ttl: Duration,
    clock: Arc<dyn Clock>,
    per_shard: usize,
    epoch: AtomicU64,
    degraded: AtomicBool,
    shards: Vec<RwLock<HashMap<String, Entry<V>>>>,
}

struct Entry<V> {
    value: V,
    /// The clock's monotonic time when the store gave the value.
    cached_at: Duration,
}

/// The cache's change counter as read before a store lookup; see [`LiveCache::insert`].
#[derive(Debug, Clone, Copy)]
pub struct Epoch(u64);

impl<V: Clone> LiveCache<V> {
    /// A cache answering for at most `ttl` after a store lookup (as `clock` measures it),
    /// holding about `capacity` values. A zero `ttl` or `capacity` disables it.
    pub fn new(ttl: Duration, capacity: usize, clock: Arc<dyn Clock>) -> Self {
        LiveCache {
            ttl,
            clock,
            per_shard: capacity.div_ceil(SHARDS),
            epoch: AtomicU64::new(0),
            degraded: AtomicBool::new(false),
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
        }
    }

    /// Whether lookups can hit at all.
    pub fn is_enabled(&self) -> bool {
        !self.ttl.is_zero() && self.per_shard > 0
    }

    /// The value of `key` if the store gave it less than the TTL ago and it has not been
    /// forgotten since.
    pub fn get(&self, key: &str) -> Option<V> {
        if !self.is_enabled() {
            return None;
        }
        let shard = self.shard(key).read().unwrap_or_else(|p| p.into_inner());
        shard
            .get(key)
            .filter(|e| self.is_fresh(e))
            .map(|e| e.value.clone())
    }

    /// Read before asking the store, and pass to [`LiveCache::insert`] afterwards.
    pub fn epoch(&self) -> Epoch {
        Epoch(self.epoch.load(Ordering::SeqCst))
    }

    /// Remembers the store's answer for `key`, unless something was forgotten since `seen`
    /// was read (the answer may predate that change).
    pub fn insert(&self, key: &str, value: &V, seen: Epoch) {
        if !self.is_enabled() {
            return;
        }
        let mut shard = self.shard(key).write().unwrap_or_else(|p| p.into_inner());
        if self.epoch.load(Ordering::SeqCst) != seen.0 {
            return;
        }
        if shard.len() >= self.per_shard {
            shard.retain(|_, e| self.is_fresh(e));
            if shard.len() >= self.per_shard {
                shard.clear();
            }
        }
        shard.insert(
            key.to_owned(),
            Entry {
                value: value.clone(),
                cached_at: self.clock.elapsed(),
            },
        );
    }

    /// Forgets `key` (call after the store changed it).
    pub fn forget(&self, key: &str) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.shard(key)
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    /// Forgets every value matching `stale` (call after the store changed them).
    pub fn forget_where(&self, stale: impl Fn(&V) -> bool) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        for shard in &self.shards {
            shard
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|_, e| !stale(&e.value));
        }
    }

    /// While `degraded` (changes elsewhere may go unseen), entries are trusted for at most
    /// [`DEGRADED_TTL`] instead of the TTL.
    pub fn set_degraded(&self, degraded: bool) {
        self.degraded.store(degraded, Ordering::SeqCst);
    }

    fn is_fresh(&self, entry: &Entry<V>) -> bool {
        let ttl = if self.degraded.load(Ordering::SeqCst) {
            self.ttl.min(DEGRADED_TTL)
        } else {
            self.ttl
        };
        self.clock.elapsed().saturating_sub(entry.cached_at) < ttl
    }

    fn shard(&self, key: &str) -> &RwLock<HashMap<String, Entry<V>>> {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        &self.shards[(h.finish() as usize) % SHARDS]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::domain::UserId;

    fn clock() -> Arc<ManualClock> {
        Arc::new(ManualClock::starting_now())
    }

    fn cache() -> LiveCache<UserId> {
        LiveCache::new(Duration::from_secs(60), 1000, clock())
    }

    fn ada() -> UserId {
        UserId::from_string("ada")
    }

    #[test]
    fn an_inserted_session_is_answered_until_it_is_forgotten() {
        let c = cache();
        c.insert("s1", &ada(), c.epoch());
        assert_eq!(c.get("s1"), Some(ada()));
        c.forget("s1");
        assert_eq!(c.get("s1"), None);
    }

    #[test]
    fn forgetting_a_user_forgets_all_their_sessions_and_no_one_elses() {
        let c = cache();
        let grace = UserId::from_string("grace");
        c.insert("a1", &ada(), c.epoch());
        c.insert("a2", &ada(), c.epoch());
        c.insert("g1", &grace, c.epoch());
        c.forget_where(|owner| *owner == ada());
        assert_eq!(c.get("a1"), None);
        assert_eq!(c.get("a2"), None);
        assert_eq!(c.get("g1"), Some(grace));
    }

    #[test]
    fn a_store_answer_older_than_a_revocation_is_not_cached() {
        let c = cache();
        let before_lookup = c.epoch();
        // The store said "live", then a revocation landed before the answer was cached.
        c.forget("s1");
        c.insert("s1", &ada(), before_lookup);
        assert_eq!(c.get("s1"), None);
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let clock = clock();
        let c = LiveCache::<UserId>::new(Duration::from_secs(2), 10, clock.clone());
        c.insert("s1", &ada(), c.epoch());
        clock.advance(Duration::from_millis(1999));
        assert_eq!(c.get("s1"), Some(ada()));
        clock.advance(Duration::from_millis(1));
        assert_eq!(c.get("s1"), None);
    }

    #[test]
    fn a_zero_ttl_disables_the_cache() {
        let c = LiveCache::<UserId>::new(Duration::ZERO, 10, clock());
        c.insert("s1", &ada(), c.epoch());
        assert!(!c.is_enabled());
        assert_eq!(c.get("s1"), None);
    }

    #[test]
    fn a_full_cache_stays_within_its_capacity() {
        let c = LiveCache::<UserId>::new(Duration::from_secs(60), SHARDS * 2, clock());
        for i in 0..1000 {
            c.insert(&format!("s{i}"), &ada(), c.epoch());
        }
        let held: usize = c.shards.iter().map(|s| s.read().unwrap().len()).sum();
        assert!(held <= SHARDS * 2, "held {held}");
    }
}
