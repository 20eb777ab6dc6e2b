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

/// A login request parsed: the account named and a password of acceptable size.
struct Credentials {
    lookup: Lookup,
    password: SecretString,
}

impl Credentials {
    fn parse(req: LoginRequest) -> Result<Credentials, AuthError> {
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
        Ok(Credentials { lookup, password })
    }

    /// The login limiter's key for the account named.
    fn limiter_key(&self) -> String {
        match &self.lookup {
            Lookup::Email(e) => email_key(e),
            Lookup::Username(u) => username_key(u),
        }
    }
}

/// An account whose password was just proved.
struct Proved {
    record: UserRecord,
    needs_rehash: bool,
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
        self.limit_ip(Action::Login, client).await?;
        let credentials = Credentials::parse(req)?;
        let Proved {
            record,
            needs_rehash,
        } = self.prove_password(&credentials, client).await?;
        if let Err(refused) = self.check_may_log_in(&record) {
            if matches!(refused, AuthError::EmailNotVerified) {
                self.remind_to_verify(&record).await;
            }
            return Err(refused);
        }
        if needs_rehash {
            let fresh = self.inner.hasher.hash(&credentials.password).await?;
            self.inner
                .store
                .set_password_hash(&record.user.id, &fresh)
                .await?;
        }
        let tokens = self.open_session(&record.user, client).await?;
        self.audit(AuditKind::LoginSucceeded, client)
            .user(&record.user.id)
            .session(&tokens.session_id)
            .record();
        // Read back so `lastLoginAt` shows this login, as the store recorded it.
        let user = self
            .inner
            .store
            .find_user_by_id(&record.user.id)
            .await?
            .map_or(record.user, |r| r.user);
        Ok(AuthSuccess { tokens, user })
    }

    /// Counts the attempt with the login limiter, finds the account and checks the
    /// password (against a dummy hash for an unknown account, so both take as long).
    async fn prove_password(
        &self,
        credentials: &Credentials,
        client: &ClientInfo,
    ) -> Result<Proved, AuthError> {
        let limiter = &self.inner.limiter;
        let begun = limiter
            .begin_login(&credentials.limiter_key(), client.ip.as_deref())
            .await;
        let attempt = match begun {
            Ok(attempt) => attempt,
            Err(e @ AuthError::StoreUnavailable(_)) => return Err(e),
            Err(e) => {
                self.audit(AuditKind::RateLimited, client)
                    .detail("login blocked")
                    .record();
                return Err(e);
            }
        };
        let record = match &credentials.lookup {
            Lookup::Email(e) => self.inner.store.find_user_by_email(e).await?,
            Lookup::Username(u) => self.inner.store.find_user_by_username(u).await?,
        };
        let Some(record) = record else {
            self.inner
                .hasher
                .verify_dummy(&credentials.password)
                .await?;
            self.audit(AuditKind::LoginFailed, client)
                .detail("unknown account")
                .record();
            return Err(AuthError::InvalidCredentials);
        };
        let verified = self
            .inner
            .hasher
            .verify(&credentials.password, &record.password_hash)
            .await?;
        if !verified.ok {
            self.audit(AuditKind::LoginFailed, client)
                .user(&record.user.id)
                .detail("wrong password")
                .record();
            return Err(AuthError::InvalidCredentials);
        }
        limiter.login_succeeded(attempt).await;
        Ok(Proved {
            record,
            needs_rehash: verified.needs_rehash,
        })
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
        if self
            .inner
            .limiter
            .check_resend(user.id.as_str())
            .await
            .is_err()
        {
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
