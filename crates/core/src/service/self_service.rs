//! Self-service account management (ASVS 5.0 V7.5: sensitive changes re-authenticate):
//! changing one's profile, erasing one's account, exporting one's data.

use secrecy::{ExposeSecret, SecretString};

use super::AuthService;
use crate::audit::AuditKind;
use crate::domain::{ClientInfo, PersonName, Session, User, UserRecord, Username};
use crate::error::AuthError;
use crate::mail::{outgoing, MailKind};
use crate::store::{AuditRecord, Normalized, UserPatch};
use crate::tokens::Principal;

/// Most audit events an export carries (newest first).
pub const MAX_EXPORTED_EVENTS: usize = 10_000;

/// A change to one's own profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    /// Display name.
    pub name: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Username (409 `username_taken` when another account has it, in any case).
    pub username: Option<String>,
}

/// Everything authgate holds about the caller (GDPR articles 15 and 20).
#[derive(Debug, Clone)]
pub struct AccountExport {
    /// The profile.
    pub user: User,
    /// Live sessions, newest first.
    pub sessions: Vec<Session>,
    /// The caller's audit events, newest first (at most [`MAX_EXPORTED_EVENTS`]).
    pub audit: Vec<AuditRecord>,
}

/// A parsed optional name field.
fn name_field(field: &str, value: Option<&str>) -> Result<Option<Option<String>>, AuthError> {
    value
        .map(|v| {
            PersonName::parse(v)
                .map(|n| Some(n.into_inner()))
                .map_err(|p| AuthError::field(field, p))
        })
        .transpose()
}

impl AuthService {
    /// Changes the caller's name, first or last name or username; returns the profile.
    pub async fn update_profile(
        &self,
        who: &Principal,
        change: &ProfileChange,
        client: &ClientInfo,
    ) -> Result<User, AuthError> {
        let username = change
            .username
            .as_deref()
            .map(|u| {
                Username::parse(u)
                    .map(|u| Normalized {
                        display: u.as_str().to_owned(),
                        normalized: u.normalized(),
                    })
                    .map_err(|p| AuthError::field("username", p))
            })
            .transpose()?;
        let patch = UserPatch {
            name: name_field("name", change.name.as_deref())?,
            first_name: name_field("firstName", change.first_name.as_deref())?,
            last_name: name_field("lastName", change.last_name.as_deref())?,
            username: username.map(Some),
            ..UserPatch::default()
        };
        let updated = self.inner.store.update_user(&who.user_id, &patch).await;
        match self.user_changed(&who.user_id, updated) {
            Err(AuthError::NotFound(_)) => {
                return Err(AuthError::Unauthenticated(
                    "Session has been revoked or has expired",
                ))
            }
            other => other?,
        }
        self.audit(AuditKind::UserUpdated, client)
            .principal(who)
            .detail("profile, by self")
            .record();
        self.me(who).await
    }

    /// Erases the caller's account after checking the password: sessions, tokens, mail and
    /// the account, in one store transaction that also queues a confirmation to the
    /// account's address. The caller's tokens die at once. The last enabled administrator
    /// cannot (409 `last_admin`).
    pub async fn delete_account(
        &self,
        who: &Principal,
        password: Option<SecretString>,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let record = self.reauthenticate(who, password, client).await?;
        let guard = self.keep_an_admin(&record).await?;
        let confirmation = match record.user.email.as_deref() {
            Some(to) => {
                let ctx = self.mail_context(&record.user, None);
                let rendered = self.inner.renderer.render(MailKind::AccountDeleted, &ctx)?;
                Some(outgoing(to, rendered))
            }
            None => None,
        };
        self.erase(&record, confirmation).await?;
        drop(guard);
        self.audit(AuditKind::UserDeleted, client)
            .principal(who)
            .detail("by self")
            .record();
        Ok(())
    }

    /// The caller's profile, sessions and audit events.
    pub async fn export_account(&self, who: &Principal) -> Result<AccountExport, AuthError> {
        let user = self.me(who).await?;
        let store = &self.inner.store;
        let sessions = store.list_sessions(&who.user_id, self.now()).await?;
        let mut audit: Vec<AuditRecord> = Vec::new();
        while audit.len() < MAX_EXPORTED_EVENTS {
            let before = audit.last().map(|e| e.id.clone());
            let page = store
                .list_audit(&who.user_id, before.as_deref(), 100)
                .await?;
            let last_page = page.len() < 100;
            audit.extend(page);
            if last_page {
                break;
            }
        }
        audit.truncate(MAX_EXPORTED_EVENTS);
        Ok(AccountExport {
            user,
            sessions,
            audit,
        })
    }

    /// The caller's stored account, if `password` is its password (re-authentication for
    /// a sensitive change); `Validation` when missing, `WrongCurrentPassword` (401) when
    /// wrong. Each try counts like a login guess (the login's per-IP rate and the account's
    /// block, as for changing the password), and a wrong one is audited.
    pub(super) async fn reauthenticate(
        &self,
        who: &Principal,
        password: Option<SecretString>,
        client: &ClientInfo,
    ) -> Result<UserRecord, AuthError> {
        let password =
            password.ok_or_else(|| AuthError::field("currentPassword", "is required"))?;
        let record = self.inner.store.find_user_by_id(&who.user_id).await?;
        let record = record.ok_or(AuthError::Unauthenticated(
            "Session has been revoked or has expired",
        ))?;
        let attempts = self.begin_password_guess(&record.user, client).await?;
        let too_long = password.expose_secret().len() > crate::policy::MAX_PASSWORD_BYTES;
        if too_long
            || !self
                .inner
                .hasher
                .verify(&password, &record.password_hash)
                .await?
                .ok
        {
            self.audit(AuditKind::ReauthenticationFailed, client)
                .principal(who)
                .detail("wrong current password")
                .record();
            return Err(AuthError::WrongCurrentPassword);
        }
        for attempt in attempts {
            self.inner.limiter.login_succeeded(attempt).await;
        }
        Ok(record)
    }
}
