//! Account recovery and upkeep: email verification, forgot/reset password, change password.

use secrecy::{ExposeSecret, SecretString};

use super::AuthService;
use crate::audit::AuditKind;
use crate::domain::{ClientInfo, Email, User, UserRecord};
use crate::error::AuthError;
use crate::limits::Action;
use crate::mail::{duration_in_words, outgoing, MailContext, MailKind};
use crate::secret::{OpaqueToken, TokenHash};
use crate::store::{NewOneTimeToken, PasswordReplacement, TokenPurpose, UnexpiredToken};
use crate::tokens::Principal;

/// What a verification link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailVerification {
    /// This request verified the address.
    Verified,
    /// The address the link was sent to had been verified already (the link was opened
    /// before, by the person or by a mail scanner).
    AlreadyVerified,
}

/// What a verification link would do if opened now ([`AuthService::check_verification_link`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationLink {
    /// It would verify the address.
    Pending,
    /// The address is verified already.
    AlreadyVerified,
}

impl AuthService {
    /// Marks the email verified if `raw` is a live verification token for the user's
    /// current address. Single use, but idempotent for the person it was sent to: once the
    /// address is verified, the same link (until it expires) answers
    /// [`EmailVerification::AlreadyVerified`] instead of `InvalidToken`, so a mail scanner
    /// that opened it first does not leave the person an error.
    pub async fn verify_email(
        &self,
        raw: &str,
        client: &ClientInfo,
    ) -> Result<EmailVerification, AuthError> {
        self.limit_ip(Action::VerifyEmail, client).await?;
        let token = OpaqueToken::from_client(raw).ok_or(AuthError::InvalidToken)?;
        let now = self.now();
        let store = &self.inner.store;
        let used = store
            .consume_one_time_token(&token.hash(), TokenPurpose::VerifyEmail, now)
            .await?;
        let Some(used) = used else {
            return self.already_verified_by(&token).await;
        };
        let record = store
            .find_user_by_id(&used.user_id)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        if normalized_email(&record.user).as_deref() != Some(used.email.as_str()) {
            return Err(AuthError::InvalidToken);
        }
        self.user_changed(
            &used.user_id,
            store.set_email_verified(&used.user_id, now).await,
        )?;
        self.audit(AuditKind::EmailVerified, client)
            .user(&used.user_id)
            .record();
        Ok(EmailVerification::Verified)
    }

    /// What opening the verification link `raw` would do, without doing it (for `HEAD`):
    /// `Pending` if it would verify the address, `AlreadyVerified` if the address it was
    /// sent to is verified, else `InvalidToken`. Rate limited like [`Self::verify_email`].
    pub async fn check_verification_link(
        &self,
        raw: &str,
        client: &ClientInfo,
    ) -> Result<VerificationLink, AuthError> {
        self.limit_ip(Action::VerifyEmail, client).await?;
        let token = OpaqueToken::from_client(raw).ok_or(AuthError::InvalidToken)?;
        let (state, user) = self.verification_token_owner(&token).await?;
        match (state.used, user.email_verified) {
            (_, true) => Ok(VerificationLink::AlreadyVerified),
            (false, false) => Ok(VerificationLink::Pending),
            (true, false) => Err(AuthError::InvalidToken),
        }
    }

    /// The answer to a verification link that could not be spent: `AlreadyVerified` when it
    /// was sent to the owner's current address and that address is verified.
    async fn already_verified_by(
        &self,
        token: &OpaqueToken,
    ) -> Result<EmailVerification, AuthError> {
        let (_, user) = self.verification_token_owner(token).await?;
        if user.email_verified {
            Ok(EmailVerification::AlreadyVerified)
        } else {
            Err(AuthError::InvalidToken)
        }
    }

    /// An unexpired verification token, used or not, and its owner, if it was sent to the
    /// owner's current address.
    async fn verification_token_owner(
        &self,
        token: &OpaqueToken,
    ) -> Result<(UnexpiredToken, User), AuthError> {
        let store = &self.inner.store;
        let state = store
            .find_unexpired_one_time_token(&token.hash(), TokenPurpose::VerifyEmail, self.now())
            .await?
            .ok_or(AuthError::InvalidToken)?;
        let record = store
            .find_user_by_id(&state.user_id)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        if normalized_email(&record.user).as_deref() != Some(state.email.as_str()) {
            return Err(AuthError::InvalidToken);
        }
        Ok((state, record.user))
    }

    /// Sends a fresh verification mail (older links stop working).
    pub async fn resend_verification(
        &self,
        who: &Principal,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        self.limit_ip(Action::ResendVerification, client).await?;
        let per_account = self.inner.limiter.check_resend(who.user_id.as_str()).await;
        self.audit_limited(per_account, Action::ResendVerification, client)?;
        let record = self.inner.store.find_user_by_id(&who.user_id).await?;
        let record = record.ok_or(AuthError::Unauthenticated(
            "Session has been revoked or has expired",
        ))?;
        if record.user.email.is_none() {
            return Err(AuthError::field(
                "email",
                "the account has no email address",
            ));
        }
        if record.user.email_verified {
            return Err(AuthError::AlreadyVerified);
        }
        self.send_one_time_link(&record.user, TokenPurpose::VerifyEmail)
            .await
    }

    /// Starts a password reset. Answers at once and alike for known and unknown addresses:
    /// the look-up and the mail happen in a background task, so neither the answer nor its
    /// timing tells whether the address has an account. The task is tracked: [`Self::flush`]
    /// waits for it, so a shutdown does not drop a reset mail that was about to be queued.
    pub async fn forgot_password(&self, email: &str, client: &ClientInfo) -> Result<(), AuthError> {
        self.limit_ip(Action::ForgotPassword, client).await?;
        let email = Email::parse(email).map_err(|p| AuthError::field("email", p))?;
        let per_address = self.inner.limiter.check_forgot(&email.normalized()).await;
        self.audit_limited(per_address, Action::ForgotPassword, client)?;
        let service = self.clone();
        self.inner.background.spawn(async move {
            if let Err(e) = service.send_reset_if_known(&email).await {
                tracing::error!(error = %e, "could not queue a password reset mail");
            }
        });
        Ok(())
    }

    async fn send_reset_if_known(&self, email: &Email) -> Result<(), AuthError> {
        let Some(record) = self
            .inner
            .store
            .find_user_by_email(&email.normalized())
            .await?
        else {
            tracing::info!(target: "authgate::audit", event = "password_reset_requested", outcome = "unknown_account", "audit");
            return Ok(());
        };
        if record.disabled_at.is_some() {
            return Ok(());
        }
        tracing::info!(target: "authgate::audit", event = "password_reset_requested", user_id = %record.user.id, "audit");
        self.send_one_time_link(&record.user, TokenPurpose::ResetPassword)
            .await
    }

    /// Sets a new password with a reset token: marks the email verified (the mailbox was
    /// proven), revokes every session and older reset links, and sends a notice. Does not
    /// log the user in.
    ///
    /// The token is spent only in the store transaction that writes the new password, after
    /// the password was checked and hashed: a refused password or a busy hasher (503) leaves
    /// the link usable.
    pub async fn reset_password(
        &self,
        raw: &str,
        new_password: Option<SecretString>,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        self.limit_ip(Action::ResetPassword, client).await?;
        let token = OpaqueToken::from_client(raw).ok_or(AuthError::InvalidToken)?;
        let new_password =
            new_password.ok_or_else(|| AuthError::field("newPassword", "is required"))?;
        self.check_policy("newPassword", &new_password, None)?;
        let record = self.reset_token_owner(&token).await?;
        self.check_new_password(&new_password, &record.user)?;
        let password_hash = self.inner.hasher.hash(&new_password).await?;
        if !self
            .replace_password(&record, password_hash, Some(token.hash()))
            .await?
        {
            return Err(AuthError::InvalidToken);
        }
        self.lift_login_blocks(&record.user).await;
        self.audit(AuditKind::PasswordReset, client)
            .user(&record.user.id)
            .record();
        Ok(())
    }

    /// The owner of a live reset token, if the token was sent to their current address.
    async fn reset_token_owner(&self, token: &OpaqueToken) -> Result<UserRecord, AuthError> {
        let store = &self.inner.store;
        let found = store
            .find_one_time_token(&token.hash(), TokenPurpose::ResetPassword, self.now())
            .await?;
        let found = found.ok_or(AuthError::InvalidToken)?;
        let record = store
            .find_user_by_id(&found.user_id)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        if normalized_email(&record.user).as_deref() != Some(found.email.as_str()) {
            return Err(AuthError::InvalidToken);
        }
        Ok(record)
    }

    /// The mailbox owner proved control: lifts any login block on the account.
    async fn lift_login_blocks(&self, user: &User) {
        for key in login_keys(user) {
            self.inner.limiter.clear_account(&key).await;
        }
    }

    /// Counts a guess of `user`'s current password with the login limiter, on every name the
    /// account logs in by and against the login's per-IP rate, so guessing it here is as
    /// limited as guessing at `/login` and fills the same account block. Refusals are
    /// audited.
    pub(super) async fn begin_password_guess(
        &self,
        user: &User,
        client: &ClientInfo,
    ) -> Result<Vec<crate::limits::LoginAttempt>, AuthError> {
        self.limit_ip(crate::limits::Action::Login, client).await?;
        let keys = login_keys(user);
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let begun = self
            .inner
            .limiter
            .begin_attempts(&keys, client.ip.as_deref())
            .await;
        begun.inspect_err(|e| {
            if !matches!(e, AuthError::RateLimited { .. }) {
                return;
            }
            self.audit(AuditKind::RateLimited, client)
                .user(&user.id)
                .detail("password change blocked")
                .record();
        })
    }

    /// Changes the password after checking the current one; revokes every session of the
    /// user (this one too: the client logs in again) and sends a notice.
    pub async fn change_password(
        &self,
        who: &Principal,
        current: Option<SecretString>,
        new_password: Option<SecretString>,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let current = current.ok_or_else(|| AuthError::field("currentPassword", "is required"))?;
        let new_password =
            new_password.ok_or_else(|| AuthError::field("newPassword", "is required"))?;
        let record = self.inner.store.find_user_by_id(&who.user_id).await?;
        let record = record.ok_or(AuthError::Unauthenticated(
            "Session has been revoked or has expired",
        ))?;
        self.check_new_password(&new_password, &record.user)?;
        let attempts = self.begin_password_guess(&record.user, client).await?;
        if current.expose_secret().len() > crate::policy::MAX_PASSWORD_BYTES
            || !self
                .inner
                .hasher
                .verify(&current, &record.password_hash)
                .await?
                .ok
        {
            self.audit(AuditKind::PasswordChangeFailed, client)
                .user(&record.user.id)
                .session(&who.session_id)
                .detail("wrong current password")
                .record();
            return Err(AuthError::WrongCurrentPassword);
        }
        for attempt in attempts {
            self.inner.limiter.login_succeeded(attempt).await;
        }
        let password_hash = self.inner.hasher.hash(&new_password).await?;
        self.replace_password(&record, password_hash, None).await?;
        self.audit(AuditKind::PasswordChanged, client)
            .user(&record.user.id)
            .session(&who.session_id)
            .record();
        Ok(())
    }

    /// Stores a new hash, ends every session, kills outstanding reset links and queues a
    /// notice, in one store transaction that also spends `reset_token` when given. `false`
    /// (nothing changed) when that token is no longer live.
    async fn replace_password(
        &self,
        record: &UserRecord,
        password_hash: String,
        reset_token: Option<TokenHash>,
    ) -> Result<bool, AuthError> {
        let user = &record.user;
        let notice = match user.email.as_deref() {
            Some(to) => {
                let context = self.mail_context(user, None);
                let rendered = self
                    .inner
                    .renderer
                    .render(MailKind::PasswordChanged, &context)?;
                Some(outgoing(to, rendered))
            }
            None => None,
        };
        let change = PasswordReplacement {
            user_id: user.id.clone(),
            password_hash,
            at: self.now(),
            mark_email_verified: reset_token.is_some(),
            reset_token,
            notice,
        };
        let replaced = self.inner.store.replace_password(&change).await;
        // Forgotten even if the store failed: the change may have landed.
        self.forget_sessions_of(&user.id);
        let replaced = self.user_changed(&user.id, replaced)?;
        if replaced && change.notice.is_some() {
            self.inner.mail_ready.notify_one();
        }
        Ok(replaced)
    }

    /// Mails a fresh verification or reset link, superseding older ones, in one transaction
    /// with its token.
    pub(super) async fn send_one_time_link(
        &self,
        user: &User,
        purpose: TokenPurpose,
    ) -> Result<(), AuthError> {
        let (Some(to), Some(normalized)) = (user.email.as_deref(), normalized_email(user)) else {
            return Ok(());
        };
        let cfg = &self.inner.config;
        let token = OpaqueToken::generate();
        let (kind, ttl, link) = match purpose {
            TokenPurpose::VerifyEmail => (
                MailKind::VerifyEmail,
                cfg.verification_token_ttl,
                cfg.mail_links.verify(token.expose()),
            ),
            TokenPurpose::ResetPassword => (
                MailKind::ResetPassword,
                cfg.reset_token_ttl,
                cfg.mail_links.reset(token.expose()),
            ),
            // Their links carry an address other than the account's (email_change.rs).
            TokenPurpose::ChangeEmail | TokenPurpose::RevertEmail => {
                return Err(AuthError::Internal(format!(
                    "{} links are not sent to the account's address",
                    purpose.as_str()
                )))
            }
        };
        let now = self.now();
        let rendered = self
            .inner
            .renderer
            .render(kind, &self.mail_context(user, Some((link, ttl))))?;
        let record = NewOneTimeToken {
            hash: token.hash(),
            user_id: user.id.clone(),
            purpose,
            email: normalized,
            created_at: now,
            expires_at: now + ttl,
        };
        self.inner
            .store
            .create_one_time_token(&record, &outgoing(to, rendered), true)
            .await?;
        self.inner.mail_ready.notify_one();
        Ok(())
    }

    /// What a mail's templates may use; `link` is the action link and its lifetime.
    pub(super) fn mail_context(
        &self,
        user: &User,
        link: Option<(String, chrono::Duration)>,
    ) -> MailContext {
        let cfg = &self.inner.config;
        let (link, ttl) = link.unzip();
        MailContext {
            to: user.email.clone().unwrap_or_default(),
            name: user.name.clone(),
            link,
            expires_in_minutes: ttl.map_or(0, |t| t.num_minutes()),
            expires_in: ttl.map(duration_in_words).unwrap_or_default(),
            forgot_password_url: cfg.mail_links.forgot_password().to_owned(),
            public_url: cfg.public_url.clone(),
        }
    }

    /// The policy check of `newPassword` for `user`, whose email's local part it may not
    /// contain.
    fn check_new_password(&self, password: &SecretString, user: &User) -> Result<(), AuthError> {
        let local = user
            .email
            .as_deref()
            .and_then(|e| Email::parse(e).ok())
            .map(|e| e.local_part());
        self.check_policy("newPassword", password, local.as_deref())
    }

    fn check_policy(
        &self,
        field: &str,
        password: &SecretString,
        email_local: Option<&str>,
    ) -> Result<(), AuthError> {
        self.inner
            .config
            .password_policy
            .check(password.expose_secret(), email_local)
            .map_err(|problems| {
                let details = [(field.to_owned(), problems)].into_iter().collect();
                AuthError::Validation {
                    message: "Validation failed".into(),
                    details,
                }
            })
    }
}

fn normalized_email(user: &User) -> Option<String> {
    user.email.as_deref().map(str::to_lowercase)
}

/// The login limiter's keys of `user`: one per name the account logs in by.
fn login_keys(user: &User) -> Vec<String> {
    let email = user
        .email
        .as_deref()
        .map(|e| super::login::email_key(&e.to_lowercase()));
    let username = user
        .username
        .as_deref()
        .map(|u| super::login::username_key(&u.to_lowercase()));
    email.into_iter().chain(username).collect()
}
