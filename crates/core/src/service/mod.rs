//! [`AuthService`]: the flows (register, login, refresh, logout, sessions, ...).
//!
//! It depends only on the [`Store`] traits, the [`PasswordHasher`] and the [`TokenSigner`];
//! nothing here knows HTTP or SQL.

mod account;
mod admin;
mod admin_sessions;
mod admin_users;
mod audit_entry;
mod audit_writer;
mod builder;
mod email_change;
mod identify;
mod import;
mod invalidate;
mod key_lookup;
mod login;
mod refresh_logout;
mod register;
mod self_service;
mod sessions;

use audit_entry::AuditEntry;
use audit_writer::AuditWriter;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio_util::task::TaskTracker;

use crate::audit::AuditKind;
use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::domain::{ClientInfo, Session, SessionId, User, UserId};
use crate::error::AuthError;
use crate::hashing::PasswordHasher;
use crate::limits::{Action, Limiter};
use crate::live_cache::LiveCache;
use crate::mail::MailRenderer;
use crate::secret::{random_key, OpaqueToken};
use crate::store::{AuditRecord, NewSession, Store, StoreResult};
use crate::tokens::Principal;
use crate::tokens::{AccessClaims, TokenSigner};

pub use account::{EmailVerification, VerificationLink};
pub use admin::Actor;
pub use admin_sessions::{AuditPage, AuditQuery};
pub use admin_users::{
    AdminUserChange, ManagedUser, UserDetail, UserListQuery, UserPage, DEFAULT_PAGE, MAX_PAGE,
};
pub use builder::AuthServiceBuilder;
pub use email_change::{EmailChange, EMAIL_CHANGE_UNDO_HOURS};
pub use identify::Identity;
pub use import::ImportRecord;
pub use login::LoginRequest;
pub use register::RegisterRequest;
pub use self_service::{AccountExport, ProfileChange, MAX_EXPORTED_EVENTS};
pub use sessions::SessionView;

/// Tokens handed to a client after login, registration or refresh.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    /// Signed JWT.
    pub access_token: String,
    /// Opaque refresh token (shown once).
    pub refresh_token: OpaqueToken,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: i64,
    /// The session the tokens belong to.
    pub session_id: SessionId,
}

/// A successful registration or login.
#[derive(Debug, Clone)]
pub struct AuthSuccess {
    /// The new session's tokens.
    pub tokens: IssuedTokens,
    /// The user.
    pub user: User,
}

/// The authentication service: every flow of the API.
#[derive(Clone)]
pub struct AuthService {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    hasher: PasswordHasher,
    /// Replaced whole when the signing keys are reloaded ([`AuthService::reload_signing_keys`]).
    signer: RwLock<Arc<TokenSigner>>,
    config: AuthConfig,
    renderer: Arc<dyn MailRenderer>,
    mail_ready: Arc<Notify>,
    limiter: Limiter,
    /// Owners of sessions seen live, by session id.
    sessions: LiveCache<UserId>,
    /// Users as `GET /me` returns them, by user id.
    users: LiveCache<User>,
    audit: AuditWriter,
    /// Where changes are published for the other instances' caches, if the store has a feed.
    invalidations: Option<Arc<dyn crate::invalidation::Invalidations>>,
    /// Work a request started and did not wait for (forgot-password's look-up and mail).
    /// Closed from the start, so `wait` means "until none is running".
    background: TaskTracker,
    /// Held from counting the administrators to writing a change that could remove one.
    admin_changes: tokio::sync::Mutex<()>,
    /// When (ms since the epoch) a token with an unknown kid last made this node read the
    /// signing keys ([`key_lookup`]).
    last_key_lookup: std::sync::atomic::AtomicI64,
}

impl AuthService {
    /// Starts assembling the service from its parts; see [`AuthServiceBuilder`] for the
    /// optional ones (limits, mail renderer, clock).
    pub fn builder(
        store: Arc<dyn Store>,
        hasher: PasswordHasher,
        signer: Arc<TokenSigner>,
        config: AuthConfig,
    ) -> AuthServiceBuilder {
        AuthServiceBuilder::new(store, hasher, signer, config)
    }

    /// The rate limiter (for periodic pruning).
    pub fn limiter(&self) -> &Limiter {
        &self.inner.limiter
    }

    /// Notified whenever a mail is queued, so the mail worker wakes at once.
    pub fn mail_ready(&self) -> Arc<Notify> {
        self.inner.mail_ready.clone()
    }

    /// The settings in force.
    pub fn config(&self) -> &AuthConfig {
        &self.inner.config
    }

    /// The store behind the service.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The password hasher (for its queue depth).
    pub fn hasher(&self) -> &PasswordHasher {
        &self.inner.hasher
    }

    /// The published JSON Web Key Set.
    pub fn jwks(&self) -> serde_json::Value {
        self.signer().jwks().clone()
    }

    /// The clock the service reads the time from.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The signer in use now.
    fn signer(&self) -> Arc<TokenSigner> {
        // A poisoned lock still holds a complete signer: replacing it is one assignment.
        let guard = self.inner.signer.read().unwrap_or_else(|e| e.into_inner());
        Arc::clone(&guard)
    }

    /// Reads the signing keys from the store again, so that a key made by `authgate keys
    /// rotate` (or by another instance) signs from now on and retired keys drop out of the
    /// JWKS once their tokens have expired. Returns the id of the key that signs now. A no-op
    /// with HS256, whose secret comes from the configuration.
    pub async fn reload_signing_keys(&self) -> Result<Option<String>, AuthError> {
        if self.signer().algorithm() == jsonwebtoken::Algorithm::HS256 {
            return Ok(None);
        }
        let fresh = crate::keys::load_signer(
            self.inner.store.as_ref(),
            &self.inner.config,
            None,
            self.inner.clock.now(),
        )
        .await?;
        let kid = fresh.kid().map(str::to_owned);
        *self.inner.signer.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
        Ok(kid)
    }

    /// Succeeds when the store answers.
    pub async fn ready(&self) -> Result<(), AuthError> {
        Ok(self.inner.store.ping().await?)
    }

    /// The current time, truncated to milliseconds: the finest precision every backend
    /// keeps, so a value read back equals the value written.
    fn now(&self) -> DateTime<Utc> {
        let now = self.inner.clock.now();
        DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
    }

    /// Revokes one session of `user` in the store and on this node at once; `false` if it
    /// was not a live session of theirs.
    async fn end_session(
        &self,
        user: &UserId,
        session: &SessionId,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        let ended = self.inner.store.revoke_session(user, session, now).await;
        // Forgotten even if the store failed: the revocation may have landed.
        self.inner.sessions.forget(session.as_str());
        self.publish(format!("session:{session}"));
        Ok(ended?)
    }

    /// Revokes every session of `user` in the store and on this node at once.
    async fn end_all_sessions(&self, user: &UserId, now: DateTime<Utc>) -> Result<(), AuthError> {
        let ended = self.inner.store.revoke_all_sessions(user, now).await;
        self.forget_sessions_of(user);
        ended.map(|_| ()).map_err(AuthError::from)
    }

    /// Makes this node look every session of `user` up afresh (after they were revoked in
    /// the store, or may have been).
    fn forget_sessions_of(&self, user: &UserId) {
        self.inner.sessions.forget_where(|owner| owner == user);
        self.publish(format!("user-sessions:{user}"));
    }

    /// Passes on the result of a store call that changes `user`'s row, after making
    /// `GET /me` read that row afresh (even on failure: the change may have landed).
    fn user_changed<T>(&self, user: &UserId, result: StoreResult<T>) -> Result<T, AuthError> {
        self.inner.users.forget(user.as_str());
        self.publish(format!("user:{user}"));
        Ok(result?)
    }

    /// Opens a session for `user` and mints its first tokens.
    async fn open_session(
        &self,
        user: &User,
        client: &ClientInfo,
    ) -> Result<IssuedTokens, AuthError> {
        let now = self.now();
        let refresh = OpaqueToken::generate();
        let session = Session {
            id: SessionId::new(),
            user_id: user.id.clone(),
            created_at: now,
            last_used_at: now,
            expires_at: now + self.inner.config.refresh_token_ttl,
            user_agent: client.user_agent.clone(),
            ip: client.ip.clone(),
        };
        let new = NewSession {
            session,
            refresh_hash: refresh.hash(),
            rotation_key: random_key(),
        };
        // The login time is part of the user row.
        self.user_changed(&user.id, self.inner.store.create_session(&new).await)?;
        self.mint(&user.id, &user.role, &new.session.id, refresh, now)
    }

    /// Signs an access token for a session and pairs it with a refresh token.
    fn mint(
        &self,
        user_id: &UserId,
        role: &str,
        session_id: &SessionId,
        refresh: OpaqueToken,
        now: DateTime<Utc>,
    ) -> Result<IssuedTokens, AuthError> {
        let cfg = &self.inner.config;
        let claims = AccessClaims {
            iss: cfg.public_url.clone(),
            aud: cfg.audience.clone(),
            sub: user_id.as_str().to_owned(),
            sid: session_id.as_str().to_owned(),
            role: role.to_owned(),
            iat: now.timestamp(),
            exp: (now + cfg.access_token_ttl).timestamp(),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        Ok(IssuedTokens {
            access_token: self.signer().sign(&claims)?,
            refresh_token: refresh,
            expires_in: cfg.access_token_ttl.num_seconds(),
            refresh_expires_in: cfg.refresh_token_ttl.num_seconds(),
            session_id: session_id.clone(),
        })
    }

    /// Whether `user` must verify their email before logging in or refreshing: verification
    /// is required and the account has an unverified address.
    fn must_verify_first(&self, user: &User) -> bool {
        self.inner.config.require_verified_email && user.email.is_some() && !user.email_verified
    }

    /// Applies the per-IP limit of `action`, auditing a refusal.
    async fn limit_ip(&self, action: Action, client: &ClientInfo) -> Result<(), AuthError> {
        let checked = self
            .inner
            .limiter
            .check_ip(action, client.ip.as_deref())
            .await;
        self.audit_limited(checked, action, client)
    }

    /// Audits a limiter's refusal, passing the result through.
    fn audit_limited(
        &self,
        result: Result<(), AuthError>,
        action: Action,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        if matches!(result, Err(AuthError::RateLimited { .. })) {
            self.audit(AuditKind::RateLimited, client)
                .detail(action.as_str())
                .record();
        }
        result
    }

    /// Starts an audit event of `kind` for a request from `client`; add what it concerns,
    /// then [`AuditEntry::record`] it.
    fn audit<'a>(&'a self, kind: AuditKind, client: &'a ClientInfo) -> AuditEntry<'a> {
        AuditEntry::new(self, kind, client)
    }

    /// Waits until the work requests started in the background (reset mails being queued)
    /// has finished and every audit event so far is stored (at shutdown, and in tests).
    pub async fn flush(&self) {
        self.inner.background.wait().await;
        self.inner.audit.flush().await;
    }

    /// The caller's own audit events, newest first: `limit` (1 to 100) events older than
    /// the event `before`, if given.
    pub async fn audit_events(
        &self,
        who: &Principal,
        before: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, AuthError> {
        Ok(self
            .inner
            .store
            .list_audit(&who.user_id, before, limit.clamp(1, 100))
            .await?)
    }

    /// Deletes audit events older than `before` (retention).
    pub async fn prune_audit(&self, before: DateTime<Utc>) -> Result<u64, AuthError> {
        Ok(self.inner.store.prune_audit(before).await?)
    }

    /// Deletes sessions (and their refresh tokens) that expired or were revoked before
    /// `before`.
    pub async fn prune_sessions(&self, before: DateTime<Utc>) -> Result<u64, AuthError> {
        Ok(self.inner.store.prune_sessions(before).await?)
    }

    /// Whether this instance prunes the `period` starting now: `true` for one of the
    /// instances sharing the store per period (see [`Store::claim_housekeeping`]).
    pub async fn claim_housekeeping(&self, period: chrono::Duration) -> Result<bool, AuthError> {
        Ok(self
            .inner
            .store
            .claim_housekeeping(self.now(), period)
            .await?)
    }
}

/// A task tracker that is already closed: [`TaskTracker::wait`] then returns as soon as no
/// tracked task is running, however often it is called, and spawning still works.
fn closed_tracker() -> TaskTracker {
    let tracker = TaskTracker::new();
    tracker.close();
    tracker
}
