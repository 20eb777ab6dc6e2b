//! The names of the collections the store keeps.

/// Collection of users.
pub(crate) const USERS: &str = "users";
/// Collection of sessions.
pub(crate) const SESSIONS: &str = "sessions";
/// Collection of refresh tokens (current and rotated), by hash.
pub(crate) const REFRESH_TOKENS: &str = "refresh_tokens";
/// Collection of email-verification and password-reset tokens, by hash.
pub(crate) const ONE_TIME_TOKENS: &str = "one_time_tokens";
/// Collection of mail waiting to be sent.
pub(crate) const MAIL_QUEUE: &str = "mail_queue";
/// Collection of token signing keys, by kid.
pub(crate) const SIGNING_KEYS: &str = "signing_keys";
/// Collection of periodic jobs' next run (`_id` the job, `next_run_at`).
pub(crate) const HOUSEKEEPING: &str = "housekeeping";
/// Collection of audit events, by event id.
pub(crate) const AUDIT_EVENTS: &str = "audit_events";
