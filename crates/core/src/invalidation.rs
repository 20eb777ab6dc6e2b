//! Cache invalidation across instances: every change that makes a cached session or user
//! stale is published (`session:<id>`, `user:<id>`) on a feed every instance on the store
//! follows, and each instance drops the entry (see [`crate::AuthService::follow_invalidations`]).

use std::sync::Arc;

use async_trait::async_trait;

use crate::store::StoreResult;

/// Published when the signing keys changed (`authgate keys rotate`): every instance reads
/// them again at once instead of at its next periodic reload.
pub const SIGNING_KEYS_CHANGED: &str = "signing-keys";

/// What a follower is told: a key published by some instance, or that the feed was cut
/// (keys may have been missed: forget everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalidated<'a> {
    /// `session:<id>`, `user:<id>`, `user-sessions:<id>` or [`SIGNING_KEYS_CHANGED`].
    Key(&'a str),
    /// The connection to the feed dropped: keys may be missed until [`Invalidated::Following`].
    FeedCut,
    /// The feed is followed (again): every key from now on is seen.
    Following,
}

/// Called with each [`Invalidated`] event.
pub type InvalidationSink = Arc<dyn Fn(Invalidated<'_>) + Send + Sync>;

/// A publish/subscribe feed of invalidated keys, shared by every instance on one store.
#[async_trait]
pub trait Invalidations: Send + Sync {
    /// Tells every instance (this one too) that `key` changed.
    async fn publish(&self, key: &str) -> StoreResult<()>;

    /// Follows the feed, calling `sink` with [`Invalidated::Following`] once listening and
    /// then with every key, until the connection drops (`Ok`, after
    /// [`Invalidated::FeedCut`]) or cannot be opened (`Err`); the caller opens it again.
    async fn follow(&self, sink: InvalidationSink) -> StoreResult<()>;
}
