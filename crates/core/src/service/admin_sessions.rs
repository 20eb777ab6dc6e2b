//! Administration of a user's sessions, password resets on their behalf, and the audit
//! trail across users.

use chrono::{DateTime, Utc};

use super::admin::Actor;
use super::admin_users::{page_size, MAX_PAGE};
use super::AuthService;
use crate::audit::AuditKind;
use crate::cursor::{self, CursorKind};
use crate::domain::{ClientInfo, Session, SessionId, UserId};
use crate::error::AuthError;
use crate::store::{AuditRecord, AuditSearch, TokenPurpose};

/// The audit trail's filters and page, as a client sent them.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only events concerning this user id.
    pub user: Option<String>,
    /// Only events of this type (`login_failed`, ...).
    pub kind: Option<String>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    pub limit: Option<u32>,
}

/// A page of the audit trail.
#[derive(Debug, Clone)]
pub struct AuditPage {
    /// Events, newest first.
    pub events: Vec<AuditRecord>,
    /// Pass as `cursor` for the next (older) page; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl AuthService {
    /// The user's live sessions, newest first (at most 100).
    pub async fn admin_user_sessions(
        &self,
        actor: &Actor,
        id: &UserId,
    ) -> Result<Vec<Session>, AuthError> {
        self.require_admin(actor).await?;
        self.managed_user(id).await?;
        let mut sessions = self.inner.store.list_sessions(id, self.now()).await?;
        sessions.truncate(MAX_PAGE as usize);
        Ok(sessions)
    }

    /// Ends every session of the user at once; returns how many there were.
    pub async fn admin_revoke_sessions(
        &self,
        actor: &Actor,
        id: &UserId,
        client: &ClientInfo,
    ) -> Result<u64, AuthError> {
        self.require_admin(actor).await?;
        self.managed_user(id).await?;
        let now = self.now();
        let ended = self.inner.store.revoke_all_sessions(id, now).await;
        self.forget_sessions_of(id);
        let ended = ended?;
        let detail = format!("all sessions, {}", actor.by());
        self.audit(AuditKind::SessionRevoked, client)
            .user(id)
            .detail(&detail)
            .record();
        Ok(ended)
    }

    /// Ends one session of the user; `NotFound` unless it is a live session of theirs.
    pub async fn admin_revoke_session(
        &self,
        actor: &Actor,
        id: &UserId,
        session: &SessionId,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        self.require_admin(actor).await?;
        self.managed_user(id).await?;
        if !self.end_session(id, session, self.now()).await? {
            return Err(AuthError::NotFound("Session not found"));
        }
        let by = actor.by();
        self.audit(AuditKind::SessionRevoked, client)
            .user(id)
            .session(session)
            .detail(&by)
            .record();
        Ok(())
    }

    /// Mails the user a password reset link (superseding older ones) and, if asked, ends
    /// every session of theirs. `Validation` on `id` for an account without an email.
    pub async fn admin_send_reset(
        &self,
        actor: &Actor,
        id: &UserId,
        end_sessions: bool,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        self.require_admin(actor).await?;
        let record = self.managed_user(id).await?;
        if record.user.email.is_none() {
            return Err(AuthError::field("id", "the account has no email address"));
        }
        self.send_one_time_link(&record.user, TokenPurpose::ResetPassword)
            .await?;
        if end_sessions {
            self.end_all_sessions(id, self.now()).await?;
        }
        let detail = format!(
            "{}{}",
            if end_sessions { "sessions ended, " } else { "" },
            actor.by()
        );
        self.audit(AuditKind::PasswordResetSent, client)
            .user(id)
            .detail(&detail)
            .record();
        Ok(())
    }

    /// The audit trail across users, newest first, a page at a time.
    pub async fn admin_audit(
        &self,
        actor: &Actor,
        query: &AuditQuery,
    ) -> Result<AuditPage, AuthError> {
        self.require_admin(actor).await?;
        let before = match query.cursor.as_deref() {
            Some(c) => Some(cursor::decode(CursorKind::Audit, c)?),
            None => None,
        };
        let kind = query
            .kind
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty());
        if kind.is_some_and(|k| k.len() > 64) {
            return Err(AuthError::field("type", "must be at most 64 characters"));
        }
        let search = AuditSearch {
            user: query.user.clone().map(UserId::from_string),
            kind: kind.map(str::to_owned),
            since: query.since,
            before,
            limit: page_size(query.limit)?,
        };
        let events = self.inner.store.search_audit(&search).await?;
        let full = events.len() == search.limit as usize;
        let next_cursor = events
            .last()
            .filter(|_| full)
            .map(|e| cursor::encode(CursorKind::Audit, &e.id));
        Ok(AuditPage {
            events,
            next_cursor,
        })
    }
}
