//! [`AuthServiceBuilder`]: the service's required parts first, the optional ones by name.

use std::sync::{Arc, RwLock};

use tokio::sync::Notify;

use super::audit_writer::AuditWriter;
use super::{closed_tracker, AuthService, Inner};
use crate::clock::{Clock, SystemClock};
use crate::config::AuthConfig;
use crate::hashing::PasswordHasher;
use crate::limits::{Limiter, LimitsConfig, SharedLimits};
use crate::live_cache::LiveCache;
use crate::mail::{MailRenderer, PlainRenderer};
use crate::store::Store;
use crate::tokens::TokenSigner;

/// Entries each cache holds at most.
const CACHE_CAPACITY: usize = 100_000;

/// Assembles an [`AuthService`]; made by [`AuthService::builder`]. Unless told otherwise it
/// applies the default limits, renders mails with the plain built-in renderer and reads the
/// system clock.
#[must_use = "call .build() to get the service"]
pub struct AuthServiceBuilder {
    store: Arc<dyn Store>,
    hasher: PasswordHasher,
    signer: Arc<TokenSigner>,
    config: AuthConfig,
    limits: LimitsConfig,
    shared_limits: Option<Arc<dyn SharedLimits>>,
    renderer: Arc<dyn MailRenderer>,
    clock: Arc<dyn Clock>,
}

impl AuthServiceBuilder {
    pub(super) fn new(
        store: Arc<dyn Store>,
        hasher: PasswordHasher,
        signer: Arc<TokenSigner>,
        config: AuthConfig,
    ) -> Self {
        AuthServiceBuilder {
            store,
            hasher,
            signer,
            config,
            limits: LimitsConfig::default(),
            shared_limits: None,
            renderer: Arc::new(PlainRenderer),
            clock: Arc::new(SystemClock::new()),
        }
    }

    /// Applies `limits` instead of the defaults.
    pub fn limits(mut self, limits: LimitsConfig) -> Self {
        self.limits = limits;
        self
    }

    /// Keeps the limits' state in `store`, shared by every instance using it, instead of in
    /// this process's memory.
    pub fn shared_limits(mut self, store: Arc<dyn SharedLimits>) -> Self {
        self.shared_limits = Some(store);
        self
    }

    /// Renders account mails with `renderer` instead of the plain built-in one.
    pub fn mail_renderer(mut self, renderer: Arc<dyn MailRenderer>) -> Self {
        self.renderer = renderer;
        self
    }

    /// Reads the time from `clock` (tests pass a manual clock and advance it).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The service.
    pub fn build(self) -> AuthService {
        let config = self.config;
        // Exact only while every access token expires before its session: see
        // `crate::live_cache`.
        let cache_ttl = if config.access_token_ttl <= config.refresh_token_ttl {
            config.cache_ttl.to_std().unwrap_or_default()
        } else {
            std::time::Duration::ZERO
        };
        AuthService {
            inner: Arc::new(Inner {
                audit: AuditWriter::new(self.store.clone()),
                sessions: LiveCache::new(cache_ttl, CACHE_CAPACITY, self.clock.clone()),
                users: LiveCache::new(cache_ttl, CACHE_CAPACITY, self.clock.clone()),
                limiter: match self.shared_limits {
                    Some(shared) => Limiter::shared(self.limits, self.clock.clone(), shared),
                    None => Limiter::new(self.limits, self.clock.clone()),
                },
                invalidations: self.store.invalidations(),
                store: self.store,
                clock: self.clock,
                hasher: self.hasher,
                signer: RwLock::new(self.signer),
                config,
                renderer: self.renderer,
                mail_ready: Arc::new(Notify::new()),
                background: closed_tracker(),
                admin_changes: tokio::sync::Mutex::new(()),
                last_key_lookup: std::sync::atomic::AtomicI64::new(i64::MIN),
            }),
        }
    }
}
