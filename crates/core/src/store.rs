//! The storage traits. One implementation per backend (SQLite, PostgreSQL, MongoDB), all held
//! to one contract test suite (`authgate-store-tests`).
//!
//! Rules every backend follows:
//! - uniqueness of email and username is case-insensitive, on the `*_normalized` values the
//!   core passes in, and a violation is [`StoreError::Conflict`] naming the field;
//! - "now" is always passed in by the core, never read from the database clock, so expiry
//!   behaves the same on every backend and can be tested;
//! - operations documented as atomic are single statements, row locks or transactions:
//!   never a read followed by a separate write.

mod admin;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use admin::{AdminStore, AuditSearch, Normalized, UserErasure, UserPatch, UserSearch};

use crate::domain::{NewUser, Session, SessionId, UserId, UserRecord};
use crate::error::StoreError;
use crate::secret::TokenHash;

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// Users.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts a user. A taken email or username is `Conflict { field: "email" | "username" }`.
    async fn insert_user(&self, user: &NewUser) -> StoreResult<()>;
    /// The user with this id.
    async fn find_user_by_id(&self, id: &UserId) -> StoreResult<Option<UserRecord>>;
    /// The user with this lower-cased email.
    async fn find_user_by_email(&self, email_normalized: &str) -> StoreResult<Option<UserRecord>>;
    /// The user with this lower-cased username.
    async fn find_user_by_username(
        &self,
        username_normalized: &str,
    ) -> StoreResult<Option<UserRecord>>;
    /// Replaces the password hash (rehash on login, change, reset). `NotFound` if no such user.
    async fn set_password_hash(&self, id: &UserId, password_hash: &str) -> StoreResult<()>;
    /// Marks the email verified. `NotFound` if no such user.
    async fn set_email_verified(&self, id: &UserId, at: DateTime<Utc>) -> StoreResult<()>;
    /// Disables (`Some(at)`) or re-enables (`None`) the account. `NotFound` if no such user.
    async fn set_disabled(&self, id: &UserId, at: Option<DateTime<Utc>>) -> StoreResult<()>;
    /// Applies a password change or reset as one transaction (see [`PasswordReplacement`]):
    /// spends the reset token if one is given, stores the new hash (and marks the email
    /// verified if asked), revokes every live session of the user, invalidates the user's
    /// unused reset tokens and queues the notice. `Ok(false)`, with nothing written, when
    /// the reset token is not a live reset token of this user; `NotFound` if no such user.
    ///
    /// A backend without transactions writes in this order: token, password, sessions,
    /// reset tokens, notice. Once the new password is stored no session can be opened with
    /// the old one, so revoking afterwards catches every old session; revoking first would
    /// let a login with the old password slip in between and survive the change.
    async fn replace_password(&self, change: &PasswordReplacement) -> StoreResult<bool>;
}

/// Everything that changes when a password is changed or reset, for
/// [`UserStore::replace_password`].
#[derive(Debug, Clone)]
pub struct PasswordReplacement {
    /// Whose password.
    pub user_id: UserId,
    /// The new password's hash.
    pub password_hash: String,
    /// When (sessions are revoked and tokens used at this time).
    pub at: DateTime<Utc>,
    /// A reset: the hash of the reset token to spend. Nothing is written unless it is a live
    /// reset token of this user; of concurrent replacements with one token, at most one
    /// succeeds.
    pub reset_token: Option<TokenHash>,
    /// Marks the email verified (a reset proved control of the mailbox).
    pub mark_email_verified: bool,
    /// The "your password was changed" notice to queue, if the user has an address.
    pub notice: Option<OutgoingMail>,
}

/// What a backend needs to open a session.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The session as it will be listed.
    pub session: Session,
    /// Hash of the first refresh token.
    pub refresh_hash: TokenHash,
    /// Per-session key from which successors of refresh tokens are derived.
    pub rotation_key: Vec<u8>,
}

/// A refresh token found by its hash, with the state of its session.
#[derive(Debug, Clone)]
pub struct RefreshTokenRecord {
    /// The token's session.
    pub session_id: SessionId,
    /// The session's owner.
    pub user_id: UserId,
    /// When this token was exchanged for its successor (None: it is the current one).
    pub rotated_at: Option<DateTime<Utc>>,
    /// The session's rotation key.
    pub rotation_key: Vec<u8>,
    /// When the session was revoked, if it was.
    pub session_revoked_at: Option<DateTime<Utc>>,
    /// When the session expires.
    pub session_expires_at: DateTime<Utc>,
}

/// A refresh token with its session's owner: what a refresh reads first
/// ([`Store::find_refresh_token_with_owner`]).
#[derive(Debug, Clone)]
pub struct RefreshTokenWithOwner {
    /// The token and its session's state.
    pub token: RefreshTokenRecord,
    /// The session's owner.
    pub owner: UserRecord,
}

/// The outcome of [`SessionStore::rotate_refresh_token`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// This call rotated the token; the successor is now the session's current token.
    Rotated,
    /// The token was not current (already rotated, or the session is revoked or expired).
    NotCurrent,
}

/// Sessions and their refresh tokens.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Opens a session with its first refresh token, and records the login time on the
    /// user (`last_login_at = session.created_at`), in one transaction.
    async fn create_session(&self, new: &NewSession) -> StoreResult<()>;

    /// The refresh token with this hash, current or rotated, with its session's state.
    async fn find_refresh_token(&self, hash: &TokenHash)
        -> StoreResult<Option<RefreshTokenRecord>>;

    /// Atomically: if `old` is the current token of a live session (not rotated, session not
    /// revoked, `expires_at > now`), mark it rotated at `now`, store `new` as the current
    /// token, and set the session's `last_used_at = now` and `expires_at = new_expires_at`.
    /// Of many concurrent calls with the same `old`, exactly one gets `Rotated`.
    async fn rotate_refresh_token(
        &self,
        session_id: &SessionId,
        old: &TokenHash,
        new: &TokenHash,
        now: DateTime<Utc>,
        new_expires_at: DateTime<Utc>,
    ) -> StoreResult<Rotation>;

    /// The owner of the session if it is live (not revoked, `expires_at > now`). This is on
    /// every authenticated request: a primary-key look-up.
    async fn live_session_owner(
        &self,
        id: &SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>>;

    /// The user's live sessions, newest first.
    async fn list_sessions(
        &self,
        user_id: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Session>>;

    /// Revokes one live session of this user. `false` if it does not exist, is not theirs,
    /// or was already revoked or expired.
    async fn revoke_session(
        &self,
        user_id: &UserId,
        id: &SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Revokes every live session of the user; returns how many were revoked.
    async fn revoke_all_sessions(&self, user_id: &UserId, now: DateTime<Utc>) -> StoreResult<u64>;

    /// Revokes every live session of the user except `keep` ("sign out everywhere else"), in
    /// one statement; returns how many were revoked.
    async fn revoke_other_sessions(
        &self,
        user_id: &UserId,
        keep: &SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;

    /// Deletes sessions (and their refresh tokens) that expired or were revoked before
    /// `before`; returns how many sessions were deleted.
    async fn prune_sessions(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// What a one-time token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenPurpose {
    /// Proves control of an email address.
    VerifyEmail,
    /// Allows setting a new password without the old one.
    ResetPassword,
    /// Proves control of the new address of an email change; its `email` is that address
    /// as typed.
    ChangeEmail,
    /// Lets the old address undo an email change; its `email` is the old address as it was.
    RevertEmail,
}

impl TokenPurpose {
    /// Stable name stored by backends.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::ResetPassword => "reset_password",
            TokenPurpose::ChangeEmail => "change_email",
            TokenPurpose::RevertEmail => "revert_email",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "verify_email" => Some(TokenPurpose::VerifyEmail),
            "reset_password" => Some(TokenPurpose::ResetPassword),
            "change_email" => Some(TokenPurpose::ChangeEmail),
            "revert_email" => Some(TokenPurpose::RevertEmail),
            _ => None,
        }
    }
}

/// A one-time token to store (hash only), bound to the address it was sent to.
#[derive(Debug, Clone)]
pub struct NewOneTimeToken {
    /// SHA-256 of the token.
    pub hash: TokenHash,
    /// Whose token.
    pub user_id: UserId,
    /// What it allows.
    pub purpose: TokenPurpose,
    /// The address the token was mailed to: lower-cased, except for [`TokenPurpose::ChangeEmail`]
    /// and [`TokenPurpose::RevertEmail`], which keep the address as it is to be written.
    pub email: String,
    /// Issued at.
    pub created_at: DateTime<Utc>,
    /// Unusable from this time on.
    pub expires_at: DateTime<Utc>,
}

/// A one-time token that was just consumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedToken {
    /// Whose token it was.
    pub user_id: UserId,
    /// The address it was sent to (lower-cased).
    pub email: String,
}

/// A one-time token that has not expired yet, used or not (see
/// [`OneTimeTokenStore::find_unexpired_one_time_token`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnexpiredToken {
    /// Whose token it is.
    pub user_id: UserId,
    /// The address it was sent to (lower-cased).
    pub email: String,
    /// Whether it was used (or invalidated by a newer token or a password change).
    pub used: bool,
}

/// A mail to send, queued in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Unique id (UUIDv7 text).
    pub id: String,
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text_body: String,
    /// HTML body.
    pub html_body: String,
}

/// A queued mail claimed by a worker.
#[derive(Debug, Clone)]
pub struct QueuedMail {
    /// The mail.
    pub mail: OutgoingMail,
    /// Delivery attempts so far, including this claim.
    pub attempts: u32,
    /// When the mail was queued (lets a worker give up on mail that is too old).
    pub queued_at: DateTime<Utc>,
}

/// One-time tokens and the durable mail queue. Tokens and the mail that carries them are
/// written in one transaction, so a crash never leaves one without the other.
#[async_trait]
pub trait OneTimeTokenStore: Send + Sync {
    /// Stores the token and queues `mail`, in one transaction. When `supersede` is true, the
    /// user's earlier unused tokens of the same purpose are invalidated in that transaction.
    async fn create_one_time_token(
        &self,
        token: &NewOneTimeToken,
        mail: &OutgoingMail,
        supersede: bool,
    ) -> StoreResult<()>;

    /// The live token with this hash and purpose (unused, `expires_at > now`), without
    /// using it: lets a flow check its other inputs before spending the token.
    async fn find_one_time_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ConsumedToken>>;

    /// The token with this hash and purpose while it has not expired (`expires_at > now`),
    /// whether or not it was used, without changing it: lets a flow answer a link opened a
    /// second time (a mail scanner got there first) by what the link did.
    async fn find_unexpired_one_time_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UnexpiredToken>>;

    /// Atomically marks the token used if it exists, has this purpose, is unused and
    /// `expires_at > now`. Of two concurrent calls, at most one gets `Some`.
    async fn consume_one_time_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ConsumedToken>>;

    /// Invalidates every unused token of this user and purpose.
    async fn invalidate_one_time_tokens(
        &self,
        user_id: &UserId,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
}

/// The durable outgoing mail queue.
#[async_trait]
pub trait MailQueue: Send + Sync {
    /// Queues a mail for sending as soon as possible.
    async fn enqueue_mail(&self, mail: &OutgoingMail, now: DateTime<Utc>) -> StoreResult<()>;
    /// Claims up to `limit` mails due at `now`: each claimed mail's next attempt moves to
    /// `lease_until` and its attempt count goes up by one, atomically, so two workers never
    /// claim the same mail at once and a worker that dies releases it when the lease ends.
    async fn claim_due_mail(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<QueuedMail>>;
    /// Removes a delivered mail from the queue.
    async fn mark_mail_sent(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Records a failed attempt; the mail is retried at `retry_at`.
    async fn mark_mail_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Removes a mail the worker gave up on (rejected for good, or too old), body and all:
    /// it is never sent, and the one-time link it may carry leaves the database.
    async fn discard_mail(&self, id: &str) -> StoreResult<()>;
    /// Mails waiting to be sent.
    async fn mail_queue_depth(&self) -> StoreResult<u64>;
}

/// A signing key pair as stored.
#[derive(Clone)]
pub struct StoredKey {
    /// Key id (`kid` header).
    pub kid: String,
    /// JOSE algorithm name, e.g. `EdDSA`.
    pub algorithm: String,
    /// Private key, PKCS#8 DER.
    pub private_der: Vec<u8>,
    /// Public key, raw bytes (32 for Ed25519).
    pub public_key: Vec<u8>,
    /// When the key was created; the newest unretired key signs.
    pub created_at: DateTime<Utc>,
    /// When the key stopped signing; it stays published until tokens it signed expire.
    pub retired_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("private_der", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

/// Signing keys.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Every stored key, oldest first.
    async fn signing_keys(&self) -> StoreResult<Vec<StoredKey>>;
    /// Adds a key. A duplicate `kid` is `Conflict { field: "kid" }`.
    async fn insert_signing_key(&self, key: &StoredKey) -> StoreResult<()>;
    /// Marks every unretired key older than `kid` as retired at `at`.
    async fn retire_signing_keys_except(&self, kid: &str, at: DateTime<Utc>) -> StoreResult<()>;
}

/// One stored audit event.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Unique, time-ordered id (UUIDv7 text): the pagination cursor.
    pub id: String,
    /// When it happened (millisecond precision).
    pub at: DateTime<Utc>,
    /// Event type, e.g. `login_failed` (see `AuditKind`).
    pub kind: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// The user concerned, when known.
    pub user_id: Option<UserId>,
    /// The session concerned, when there is one.
    pub session_id: Option<SessionId>,
    /// Client IP.
    pub ip: Option<String>,
    /// Client User-Agent.
    pub user_agent: Option<String>,
    /// Request id, to correlate with logs.
    pub request_id: Option<String>,
    /// A small JSON object with details (never a secret), as text.
    pub detail: Option<String>,
}

/// The audit trail.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends an event.
    async fn record_audit(&self, event: &AuditRecord) -> StoreResult<()>;
    /// Appends several events (in one transaction where the backend has them).
    async fn record_audit_batch(&self, events: &[AuditRecord]) -> StoreResult<()> {
        for event in events {
            self.record_audit(event).await?;
        }
        Ok(())
    }
    /// The user's events, newest first: at most `limit`, only those whose id is smaller
    /// than `before` when it is given (ids are time-ordered, so `before` pages backwards).
    async fn list_audit(
        &self,
        user_id: &UserId,
        before: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// Deletes events older than `before`; returns how many.
    async fn prune_audit(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// A backend: every store trait, plus schema management and a health check.
#[async_trait]
pub trait Store:
    UserStore
    + SessionStore
    + OneTimeTokenStore
    + MailQueue
    + KeyStore
    + AuditStore
    + AdminStore
    + Send
    + Sync
    + 'static
{
    /// Creates or upgrades the schema (idempotent; safe when several instances start at once).
    async fn migrate(&self) -> StoreResult<()>;
    /// Succeeds when the store answers a trivial query.
    async fn ping(&self) -> StoreResult<()>;
    /// `sqlite`, `postgres` or `mongodb`.
    fn backend_name(&self) -> &'static str;
    /// Inserts `users`, then `sessions` (each with its first refresh token), as one bulk
    /// write: for filling a big store fast (`authgate-bench seed`), not for the request path.
    /// A session's user must be in `users` or already stored; unlike
    /// [`SessionStore::create_session`] no login time is stamped on the user (`users` carry
    /// their own `last_login_at`). A taken email or username is `Conflict` as in
    /// [`UserStore::insert_user`], an unknown user of a session is `NotFound`. SQLite and
    /// PostgreSQL write the whole call in one transaction, so an error leaves none of it;
    /// this default inserts row by row through `insert_user` and `create_session` (which
    /// does stamp the login) and stops at the first error.
    async fn insert_in_bulk(&self, users: &[NewUser], sessions: &[NewSession]) -> StoreResult<()> {
        for user in users {
            self.insert_user(user).await?;
        }
        for session in sessions {
            self.create_session(session).await?;
        }
        Ok(())
    }
    /// The refresh token with this hash as [`SessionStore::find_refresh_token`] gives it,
    /// with its session's owner as [`UserStore::find_user_by_id`] gives them: `None` when no
    /// token has the hash or its owner is gone. Every refresh reads both; SQLite and
    /// PostgreSQL read them in one joined query, this default in two reads.
    async fn find_refresh_token_with_owner(
        &self,
        hash: &TokenHash,
    ) -> StoreResult<Option<RefreshTokenWithOwner>> {
        let Some(token) = self.find_refresh_token(hash).await? else {
            return Ok(None);
        };
        let owner = self.find_user_by_id(&token.user_id).await?;
        Ok(owner.map(|owner| RefreshTokenWithOwner { token, owner }))
    }
    /// The connection pool's state, for metrics; `None` when the driver does not tell.
    fn pool_usage(&self) -> Option<PoolUsage> {
        None
    }
    /// Rate-limit and login-block state in this store, shared by every instance on it;
    /// `None` when the backend keeps none (the limiter then counts in memory).
    fn shared_limits(&self) -> Option<std::sync::Arc<dyn crate::limits::SharedLimits>> {
        None
    }
    /// The feed on which instances of this store tell each other which cached sessions and
    /// users changed; `None` when the backend has none (caches then rely on their TTL).
    fn invalidations(&self) -> Option<std::sync::Arc<dyn crate::invalidation::Invalidations>> {
        None
    }
    /// Claims the housekeeping (pruning expired state) of the `period` starting at `now`
    /// for the caller: of the instances sharing the store, one gets `true` per period
    /// (atomic: callers racing for it have one winner) and the others `false` until
    /// `period` has passed since the claim.
    async fn claim_housekeeping(
        &self,
        now: DateTime<Utc>,
        period: chrono::Duration,
    ) -> StoreResult<bool>;
}

/// A snapshot of a store's connection pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    /// Connections open now (idle or in use).
    pub open: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most the pool will open.
    pub max: u32,
}
