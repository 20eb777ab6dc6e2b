//! Login by email, username or a generic identifier.

use secrecy::{ExposeSecret, SecretString};

use super::{AuthService, AuthSuccess};
use crate::audit::AuditKind;
use crate::domain::{ClientInfo, Email, UserRecord, Username};
use crate::error::AuthError;
use crate::limits::Action;
use crate::policy::MAX_PASSWORD_BYTES;
use crate::store::TokenPurpose;

/// A login as the client sent it.
#[derive(Debug, Default)]
pub struct LoginRequest {
    /// Email address.
    pub email: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// Email or username.
    pub identifier: Option<String>,
    /// Password.
    pub password: Option<SecretString>,
}

/// Which account the client names.
enum Lookup {
    Email(String),
    Username(String),
}

impl AuthService {
    /// Checks credentials and opens a session.
    ///
    /// Unknown accounts and wrong passwords get the same `InvalidCredentials` after the same
    /// amount of hashing work. A disabled account (403) or an unverified email when
    /// verification is required (403) are only revealed to someone who knows the password.
    pub async fn login(
        &self,
        req: LoginRequest,
        client: &ClientInfo,
    ) -> Result<AuthSuccess, AuthError> {
        self.limit_ip(Action::Login, client)?;
        let lookup = parse_lookup(&req)?;
        let password = req
            .password
            .ok_or_else(|| AuthError::field("password", "is required"))?;
        if password.expose_secret().is_empty() {
            return Err(AuthError::field("password", "is required"));
        }
        if password.expose_secret().len() > MAX_PASSWORD_BYTES {
            return Err(AuthError::field("password", "is too long"));
        }
        let account = match &lookup {
            Lookup::Email(e) => email_key(e),
            Lookup::Username(u) => username_key(u),
        };
        let attempt = match self
            .inner
            .limiter
            .begin_login(&account, client.ip.as_deref())
        {
            Ok(attempt) => attempt,
            Err(e) => {
                self.audit(
                    AuditKind::RateLimited,
                    None,
                    None,
                    client,
                    Some("login blocked"),
                );
                return Err(e);
            }
        };
        let record = match &lookup {
            Lookup::Email(e) => self.inner.store.find_user_by_email(e).await?,
            Lookup::Username(u) => self.inner.store.find_user_by_username(u).await?,
        };
        let Some(record) = record else {
            self.inner.hasher.verify_dummy(&password).await?;
            self.audit(
                AuditKind::LoginFailed,
                None,
                None,
                client,
                Some("unknown account"),
            );
            return Err(AuthError::InvalidCredentials);
        };
        let verified = self
            .inner
            .hasher
            .verify(&password, &record.password_hash)
            .await?;
        if !verified.ok {
            self.audit(
                AuditKind::LoginFailed,
                Some(&record.user.id),
                None,
                client,
                Some("wrong password"),
            );
            return Err(AuthError::InvalidCredentials);
        }
        self.inner.limiter.login_succeeded(attempt);
        if let Err(refused) = self.check_may_log_in(&record) {
            if matches!(refused, AuthError::EmailNotVerified) {
                self.remind_to_verify(&record).await;
            }
            return Err(refused);
        }
        if verified.needs_rehash {
            let fresh = self.inner.hasher.hash(&password).await?;
            self.inner
                .store
                .set_password_hash(&record.user.id, &fresh)
                .await?;
        }
        let tokens = self.open_session(&record.user, client).await?;
        self.audit(
            AuditKind::LoginSucceeded,
            Some(&record.user.id),
            Some(&tokens.session_id),
            client,
            None,
        );
        // Read back so `lastLoginAt` shows this login, as the store recorded it.
        let user = self
            .inner
            .store
            .find_user_by_id(&record.user.id)
            .await?
            .map_or(record.user, |r| r.user);
        Ok(AuthSuccess { tokens, user })
    }

    fn check_may_log_in(&self, record: &UserRecord) -> Result<(), AuthError> {
        if record.disabled_at.is_some() {
            return Err(AuthError::AccountDisabled);
        }
        if self.must_verify_first(&record.user) {
            return Err(AuthError::EmailNotVerified);
        }
        Ok(())
    }

    /// Mails a fresh verification link to someone who proved the password of an unverified
    /// account, so a user whose link expired or was lost is never stuck. Skipped silently
    /// when the account's resend limit is reached; a failure is logged, never answered.
    async fn remind_to_verify(&self, record: &UserRecord) {
        let user = &record.user;
        if self.inner.limiter.check_resend(&user.id.0).is_err() {
            tracing::debug!(user_id = %user.id, "verification reminder skipped: resend limit");
            return;
        }
        if let Err(e) = self
            .send_one_time_link(user, TokenPurpose::VerifyEmail)
            .await
        {
            tracing::error!(error = %e, user_id = %user.id, "could not queue a verification mail");
        }
    }
}

fn parse_lookup(req: &LoginRequest) -> Result<Lookup, AuthError> {
    if let Some(e) = &req.email {
        return Email::parse(e)
            .map(|e| Lookup::Email(e.normalized()))
            .map_err(|p| AuthError::field("email", p));
    }
    if let Some(u) = &req.username {
        return Username::parse(u)
            .map(|u| Lookup::Username(u.normalized()))
            .map_err(|p| AuthError::field("username", p));
    }
    if let Some(id) = &req.identifier {
        if id.contains('@') {
            return Email::parse(id)
                .map(|e| Lookup::Email(e.normalized()))
                .map_err(|p| AuthError::field("identifier", p));
        }
        return Username::parse(id)
            .map(|u| Lookup::Username(u.normalized()))
            .map_err(|p| AuthError::field("identifier", p));
    }
    Err(AuthError::field(
        "email",
        "is required (or username, or identifier)",
    ))
}

/// The login limiter's key for a (lower-cased) email.
pub(super) fn email_key(email_normalized: &str) -> String {
    format!("email:{email_normalized}")
}

/// The login limiter's key for a (lower-cased) username.
pub(super) fn username_key(username_normalized: &str) -> String {
    format!("username:{username_normalized}")
}
