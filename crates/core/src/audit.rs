//! Audit events: every security-relevant outcome is one structured log event on the
//! `authgate::audit` target. Events never carry passwords, tokens or hashes.

use crate::domain::{ClientInfo, SessionId, UserId};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    /// A user registered.
    Register,
    /// A login succeeded.
    LoginSucceeded,
    /// A login failed (unknown account or wrong password).
    LoginFailed,
    /// A refresh token was rotated.
    Refresh,
    /// A rotated refresh token was presented again; its session was revoked.
    RefreshReuseDetected,
    /// A session ended by logout.
    Logout,
    /// A session was revoked by its owner from another device.
    SessionRevoked,
    /// The password was changed.
    PasswordChanged,
    /// A password change was refused: the current password given was wrong.
    PasswordChangeFailed,
    /// The password was reset with a mailed token.
    PasswordReset,
    /// The email address was verified.
    EmailVerified,
    /// An administrator created a user from the command line.
    UserCreated,
    /// A request was refused by a rate limit or a login block.
    RateLimited,
    /// An administrator disabled an account (its sessions ended with it).
    AccountDisabled,
    /// An administrator enabled a disabled account again.
    AccountEnabled,
    /// A profile was changed (role, names, username, verified flag, email).
    UserUpdated,
    /// An account was erased (by an administrator or its owner).
    UserDeleted,
    /// An administrator mailed the user a password reset link.
    PasswordResetSent,
    /// A sensitive change (erasing the account, changing its email) was refused: wrong
    /// current password.
    ReauthenticationFailed,
    /// The user asked to change their email; a confirmation link went to the new address.
    EmailChangeRequested,
    /// The confirmation link was followed: the account has its new address.
    EmailChanged,
    /// The old address undid a change of the account's email.
    EmailChangeUndone,
}

impl AuditKind {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Register => "register",
            AuditKind::LoginSucceeded => "login_succeeded",
            AuditKind::LoginFailed => "login_failed",
            AuditKind::Refresh => "refresh",
            AuditKind::RefreshReuseDetected => "refresh_reuse_detected",
            AuditKind::Logout => "logout",
            AuditKind::SessionRevoked => "session_revoked",
            AuditKind::PasswordChanged => "password_changed",
            AuditKind::PasswordChangeFailed => "password_change_failed",
            AuditKind::PasswordReset => "password_reset",
            AuditKind::EmailVerified => "email_verified",
            AuditKind::UserCreated => "user_created",
            AuditKind::RateLimited => "rate_limited",
            AuditKind::AccountDisabled => "account_disabled",
            AuditKind::AccountEnabled => "account_enabled",
            AuditKind::UserUpdated => "user_updated",
            AuditKind::UserDeleted => "user_deleted",
            AuditKind::PasswordResetSent => "password_reset_sent",
            AuditKind::ReauthenticationFailed => "reauthentication_failed",
            AuditKind::EmailChangeRequested => "email_change_requested",
            AuditKind::EmailChanged => "email_changed",
            AuditKind::EmailChangeUndone => "email_change_undone",
        }
    }
}

/// One audit event.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    /// What happened.
    pub kind: AuditKind,
    /// The user concerned, when known.
    pub user_id: Option<&'a UserId>,
    /// The session concerned, when there is one.
    pub session_id: Option<&'a SessionId>,
    /// Where the request came from.
    pub client: &'a ClientInfo,
    /// A short free-form reason (never a secret).
    pub detail: Option<&'a str>,
}

impl AuditKind {
    /// `failure` for refusals and attacks, `success` otherwise.
    pub fn outcome(self) -> &'static str {
        match self {
            AuditKind::LoginFailed
            | AuditKind::PasswordChangeFailed
            | AuditKind::ReauthenticationFailed
            | AuditKind::RefreshReuseDetected
            | AuditKind::RateLimited => "failure",
            _ => "success",
        }
    }
}

impl AuditEvent<'_> {
    /// The event as the store keeps it.
    pub fn to_record(&self, at: chrono::DateTime<chrono::Utc>) -> crate::store::AuditRecord {
        crate::store::AuditRecord {
            id: uuid::Uuid::now_v7().to_string(),
            at,
            kind: self.kind.as_str().to_owned(),
            outcome: self.kind.outcome().to_owned(),
            user_id: self.user_id.cloned(),
            session_id: self.session_id.cloned(),
            ip: self.client.ip.clone(),
            user_agent: self.client.user_agent.clone(),
            request_id: self.client.request_id.clone(),
            detail: self
                .detail
                .map(|d| serde_json::json!({ "reason": d }).to_string()),
        }
    }

    /// Writes the event to the log and counts it in `authgate_auth_events_total{event}`.
    pub fn emit(&self) {
        metrics::counter!("authgate_auth_events_total", "event" => self.kind.as_str()).increment(1);
        tracing::info!(
            target: "authgate::audit",
            event = self.kind.as_str(),
            user_id = self.user_id.map(|u| u.as_str()),
            session_id = self.session_id.map(|s| s.as_str()),
            ip = self.client.ip.as_deref(),
            user_agent = self.client.user_agent.as_deref(),
            request_id = self.client.request_id.as_deref(),
            detail = self.detail,
            "audit"
        );
    }
}
