//! A per-process cache of sessions known to be live, so an authenticated request does not
//! ask the store each time.
//!
//! **Exact on this node.** Every revocation the service makes goes through
//! [`SessionCache::forget_session`] or [`SessionCache::forget_user`] after the store has
//! recorded it, and a lookup racing with a revocation can never re-insert the revoked
//! session: a revocation bumps an epoch, and an entry read from the store is only inserted
//! if the epoch is unchanged since before that read (checked under the shard's lock).
//!
//! **Bounded elsewhere.** A revocation made by another process (another instance on the same
//! database) reaches this node once the entry is older than the cache's TTL; that is why the
//! binary turns the cache off by default for the shared databases.
//!
//! Expiry needs no tracking: the service enables the cache only when access tokens live no
//! longer than refresh tokens, so a session outlives every access token issued for it and an
//! unexpired token (already checked) implies an unexpired session.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use crate::domain::UserId;

const SHARDS: usize = 16;

/// Live sessions of this process, by session id.
pub struct SessionCache {
    ttl: Duration,
    per_shard: usize,
    epoch: AtomicU64,
    shards: Vec<RwLock<HashMap<String, Entry>>>,
}

struct Entry {
    owner: UserId,
    cached_at: Instant,
}

/// The cache's revocation counter as read before a store lookup; see [`SessionCache::insert`].
#[derive(Debug, Clone, Copy)]
pub struct Epoch(u64);

impl SessionCache {
    /// A cache answering for at most `ttl` after a store lookup, holding about `capacity`
    /// sessions. A zero `ttl` or `capacity` disables it.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        SessionCache {
            ttl,
            per_shard: capacity.div_ceil(SHARDS),
            epoch: AtomicU64::new(0),
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
        }
    }

    /// Whether lookups can hit at all.
    pub fn is_enabled(&self) -> bool {
        !self.ttl.is_zero() && self.per_shard > 0
    }

    /// The owner of `session` if it was live less than the TTL ago and not revoked since.
    pub fn owner(&self, session: &str) -> Option<UserId> {
        if !self.is_enabled() {
            return None;
        }
        let shard = self
            .shard(session)
            .read()
            .unwrap_or_else(|p| p.into_inner());
        shard
            .get(session)
            .filter(|e| e.cached_at.elapsed() < self.ttl)
            .map(|e| e.owner.clone())
    }

    /// Read before asking the store, and pass to [`SessionCache::insert`] afterwards.
    pub fn epoch(&self) -> Epoch {
        Epoch(self.epoch.load(Ordering::SeqCst))
    }

    /// Remembers that the store said `session` is live, unless a revocation happened since
    /// `seen` was read (the answer may predate it).
    pub fn insert(&self, session: &str, owner: &UserId, seen: Epoch) {
        if !self.is_enabled() {
            return;
        }
        let mut shard = self
            .shard(session)
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if self.epoch.load(Ordering::SeqCst) != seen.0 {
            return;
        }
        if shard.len() >= self.per_shard {
            let ttl = self.ttl;
            shard.retain(|_, e| e.cached_at.elapsed() < ttl);
            if shard.len() >= self.per_shard {
                shard.clear();
            }
        }
        shard.insert(
            session.to_owned(),
            Entry {
                owner: owner.clone(),
                cached_at: Instant::now(),
            },
        );
    }

    /// Forgets `session` (call after the store revoked it).
    pub fn forget_session(&self, session: &str) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.shard(session)
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(session);
    }

    /// Forgets every session of `user` (call after the store revoked them).
    pub fn forget_user(&self, user: &UserId) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        for shard in &self.shards {
            shard
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|_, e| e.owner != *user);
        }
    }

    fn shard(&self, session: &str) -> &RwLock<HashMap<String, Entry>> {
        let mut h = DefaultHasher::new();
        session.hash(&mut h);
        &self.shards[(h.finish() as usize) % SHARDS]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> SessionCache {
        SessionCache::new(Duration::from_secs(60), 1000)
    }

    fn ada() -> UserId {
        UserId("ada".into())
    }

    #[test]
    fn an_inserted_session_is_answered_until_it_is_forgotten() {
        let c = cache();
        c.insert("s1", &ada(), c.epoch());
        assert_eq!(c.owner("s1"), Some(ada()));
        c.forget_session("s1");
        assert_eq!(c.owner("s1"), None);
    }

    #[test]
    fn forgetting_a_user_forgets_all_their_sessions_and_no_one_elses() {
        let c = cache();
        let grace = UserId("grace".into());
        c.insert("a1", &ada(), c.epoch());
        c.insert("a2", &ada(), c.epoch());
        c.insert("g1", &grace, c.epoch());
        c.forget_user(&ada());
        assert_eq!(c.owner("a1"), None);
        assert_eq!(c.owner("a2"), None);
        assert_eq!(c.owner("g1"), Some(grace));
    }

    #[test]
    fn a_store_answer_older_than_a_revocation_is_not_cached() {
        let c = cache();
        let before_lookup = c.epoch();
        // The store said "live", then a revocation landed before the answer was cached.
        c.forget_session("s1");
        c.insert("s1", &ada(), before_lookup);
        assert_eq!(c.owner("s1"), None);
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let c = SessionCache::new(Duration::from_millis(20), 10);
        c.insert("s1", &ada(), c.epoch());
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(c.owner("s1"), None);
    }

    #[test]
    fn a_zero_ttl_disables_the_cache() {
        let c = SessionCache::new(Duration::ZERO, 10);
        c.insert("s1", &ada(), c.epoch());
        assert!(!c.is_enabled());
        assert_eq!(c.owner("s1"), None);
    }

    #[test]
    fn a_full_cache_stays_within_its_capacity() {
        let c = SessionCache::new(Duration::from_secs(60), SHARDS * 2);
        for i in 0..1000 {
            c.insert(&format!("s{i}"), &ada(), c.epoch());
        }
        let held: usize = c.shards.iter().map(|s| s.read().unwrap().len()).sum();
        assert!(held <= SHARDS * 2, "held {held}");
    }
}
