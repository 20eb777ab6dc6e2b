//! [`AuditEntry`]: one audit event, said in a sentence before it is recorded.

use super::AuthService;
use crate::audit::{AuditEvent, AuditKind};
use crate::domain::{ClientInfo, SessionId, UserId};
use crate::tokens::Principal;

/// An audit event being described; made by `AuthService::audit`, written by
/// [`AuditEntry::record`]:
/// `self.audit(AuditKind::LoginFailed, client).user(&id).detail("wrong password").record()`.
#[must_use = "an audit event is written only by .record()"]
pub(super) struct AuditEntry<'a> {
    service: &'a AuthService,
    event: AuditEvent<'a>,
}

impl<'a> AuditEntry<'a> {
    pub(super) fn new(service: &'a AuthService, kind: AuditKind, client: &'a ClientInfo) -> Self {
        AuditEntry {
            service,
            event: AuditEvent {
                kind,
                user_id: None,
                session_id: None,
                client,
                detail: None,
            },
        }
    }

    /// The user the event concerns.
    pub(super) fn user(mut self, user: &'a UserId) -> Self {
        self.event.user_id = Some(user);
        self
    }

    /// The session the event concerns.
    pub(super) fn session(mut self, session: &'a SessionId) -> Self {
        self.event.session_id = Some(session);
        self
    }

    /// The caller's user and session.
    pub(super) fn principal(self, who: &'a Principal) -> Self {
        self.user(&who.user_id).session(&who.session_id)
    }

    /// A short reason (never a secret).
    pub(super) fn detail(mut self, detail: &'a str) -> Self {
        self.event.detail = Some(detail);
        self
    }

    /// Logs the event and stores it off the request path; a failed write is logged, never
    /// fails the flow.
    pub(super) fn record(self) {
        self.event.emit();
        let record = self.event.to_record(self.service.now());
        self.service.inner.audit.record(record);
    }
}
