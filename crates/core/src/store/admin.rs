//! The store side of administration and self-service account management: searching users,
//! counting their sessions, changing their profile, erasing them, and the audit trail across
//! users.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{AuditRecord, OutgoingMail, StoreResult};
use crate::domain::{UserId, UserRecord};

/// What [`AdminStore::search_users`] looks for. Results are ordered by user id (UUIDv7, so by
/// creation time), ascending: a stable order that keyset pagination (`after`) can resume.
#[derive(Debug, Clone, Default)]
pub struct UserSearch {
    /// Lower-cased prefix of the email or the username (`*_normalized`); `None`: everyone.
    /// Backends answer it from the unique indexes on the normalized values (a range scan).
    pub prefix: Option<String>,
    /// Only users with this role.
    pub role: Option<String>,
    /// Only disabled (`true`) or only enabled (`false`) users.
    pub disabled: Option<bool>,
    /// Only users whose id is greater than this one (the previous page's last id).
    pub after: Option<UserId>,
    /// At most this many users.
    pub limit: u32,
}

impl UserSearch {
    /// The exclusive upper bound of the prefix range: every string that starts with `prefix`
    /// sorts (byte-wise) below `prefix` followed by U+10FFFF, the greatest code point.
    pub fn prefix_upper_bound(prefix: &str) -> String {
        format!("{prefix}\u{10FFFF}")
    }
}

/// A username or an email address as shown and in its lower-cased, unique form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// As the user typed it (trimmed).
    pub display: String,
    /// Lower-cased, for the unique index.
    pub normalized: String,
}

/// A change to a user's profile for [`AdminStore::update_user`]: every `Some` field is
/// written, every `None` left as it is. `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    /// A new role.
    pub role: Option<String>,
    /// A new display name (or none).
    pub name: Option<Option<String>>,
    /// A new given name (or none).
    pub first_name: Option<Option<String>>,
    /// A new family name (or none).
    pub last_name: Option<Option<String>>,
    /// A new username (or none). A taken one is `Conflict { field: "username" }`.
    pub username: Option<Option<Normalized>>,
    /// A new email address. A taken one is `Conflict { field: "email" }`.
    pub email: Option<Normalized>,
    /// Marks the email verified at this time (`Some(Some(at))`, keeping an earlier time if
    /// it was verified already; with a new `email` the time is replaced) or unverified
    /// (`Some(None)`).
    pub email_verified_at: Option<Option<DateTime<Utc>>>,
}

impl UserPatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.role.is_none()
            && self.name.is_none()
            && self.first_name.is_none()
            && self.last_name.is_none()
            && self.username.is_none()
            && self.email.is_none()
            && self.email_verified_at.is_none()
    }
}

/// Everything [`AdminStore::erase_user`] removes, and the mail it queues instead.
#[derive(Debug, Clone)]
pub struct UserErasure {
    /// Whose account.
    pub user_id: UserId,
    /// Addresses whose mail (queued or sent, bodies and all) leaves the queue: the account's
    /// address as shown and lower-cased.
    pub mail_to: Vec<String>,
    /// A confirmation to queue in the same transaction (after the account's mail is gone).
    pub confirmation: Option<OutgoingMail>,
    /// When.
    pub at: DateTime<Utc>,
}

/// What [`AdminStore::search_audit`] looks for: events newest first, every filter optional.
#[derive(Debug, Clone, Default)]
pub struct AuditSearch {
    /// Only events concerning this user.
    pub user: Option<UserId>,
    /// Only events of this type (`login_failed`, ...).
    pub kind: Option<String>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events whose id is smaller than this one (the previous page's last id).
    pub before: Option<String>,
    /// At most this many events.
    pub limit: u32,
}

/// Administration and account management.
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Users matching `search`, by id ascending, at most `search.limit`.
    async fn search_users(&self, search: &UserSearch) -> StoreResult<Vec<UserRecord>>;

    /// How many live sessions (not revoked, `expires_at > now`) the user has.
    async fn count_live_sessions(&self, user_id: &UserId, now: DateTime<Utc>) -> StoreResult<u64>;

    /// How many enabled accounts have the role `role`.
    async fn count_enabled_with_role(&self, role: &str) -> StoreResult<u64>;

    /// Applies `patch` to the user in one statement (or document update). `NotFound` if no
    /// such user; `Conflict` naming the field for a taken username or email.
    async fn update_user(&self, id: &UserId, patch: &UserPatch) -> StoreResult<()>;

    /// Erases the user in one transaction: their sessions and refresh tokens, one-time
    /// tokens, the mail addressed to them and the account itself, then queues the
    /// confirmation. Audit events stay (they name the user by id only). `false`, with
    /// nothing written, if no such user.
    ///
    /// A backend without transactions deletes the account first (no login can start after
    /// it), then sessions, tokens and mail, then queues the confirmation.
    async fn erase_user(&self, erasure: &UserErasure) -> StoreResult<bool>;

    /// Audit events across users matching `search`, newest first.
    async fn search_audit(&self, search: &AuditSearch) -> StoreResult<Vec<AuditRecord>>;
}
