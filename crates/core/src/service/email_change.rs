//! Changing one's email address (ASVS 5.0 V7.5: re-authenticated). The request checks the
//! password and mails a confirmation link to the new address; the address changes only when
//! that link is followed. The old address is then told, with a link that undoes the change for
//! [`EMAIL_CHANGE_UNDO_HOURS`] hours: whoever took over the account cannot keep the owner out
//! by moving the mail elsewhere.

use secrecy::SecretString;

use super::AuthService;
use crate::audit::AuditKind;
use crate::domain::{ClientInfo, Email, User, UserId, UserRecord};
use crate::error::AuthError;
use crate::limits::Action;
use crate::mail::{outgoing, MailKind};
use crate::secret::OpaqueToken;
use crate::store::{ConsumedToken, NewOneTimeToken, Normalized, TokenPurpose, UserPatch};
use crate::tokens::Principal;

/// How long the old address may undo a change of the account's email.
pub const EMAIL_CHANGE_UNDO_HOURS: i64 = 72;

/// What following a confirmation (or undo) link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailChange {
    /// This request changed the address.
    Changed,
    /// The link had been followed already and the address is the one it set (a mail scanner
    /// or a second click got there first).
    AlreadyChanged,
}

impl AuthService {
    /// Starts changing the caller's email to `new_email` after checking `password` (counted
    /// like a login guess, see [`Self::change_password`]). A confirmation link goes to the new
    /// address and older ones die; nothing changes until it is followed. Every other session
    /// of the caller ends now, so a second device learns of the change by signing in again.
    ///
    /// Errors: `Validation` (`newEmail`, `currentPassword`), `WrongCurrentPassword`,
    /// `Conflict { field: "email" }` when another account has the address, `RateLimited`.
    pub async fn request_email_change(
        &self,
        who: &Principal,
        password: Option<SecretString>,
        new_email: Option<&str>,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let new_email = new_email.ok_or_else(|| AuthError::field("newEmail", "is required"))?;
        let new_email = Email::parse(new_email).map_err(|p| AuthError::field("newEmail", p))?;
        let record = self.reauthenticate(who, password, client).await?;
        if lower_email(&record.user).as_deref() == Some(new_email.normalized().as_str()) {
            return Err(AuthError::field(
                "newEmail",
                "is the account's address already",
            ));
        }
        let store = &self.inner.store;
        if store
            .find_user_by_email(&new_email.normalized())
            .await?
            .is_some()
        {
            return Err(AuthError::Conflict { field: "email" });
        }
        let per_account = self.inner.limiter.check_resend(who.user_id.as_str()).await;
        self.audit_limited(per_account, Action::ResendVerification, client)?;
        self.mail_email_change_link(&record.user, &new_email)
            .await?;
        self.end_other_sessions(who, client).await?;
        self.audit(AuditKind::EmailChangeRequested, client)
            .principal(who)
            .record();
        Ok(())
    }

    /// Follows the link mailed to the new address: the account's email becomes that
    /// address, verified (the link proved the mailbox), and the old address gets a notice
    /// with a link that undoes the change. Verification and reset links sent to the old
    /// address die with it (they are bound to the address they were sent to).
    ///
    /// The token is spent after the address is written, so a store failure or a taken
    /// address (409) leaves the link usable; two concurrent follows write the same address
    /// and only the one that spends the token sends the notice.
    pub async fn confirm_email_change(
        &self,
        raw: &str,
        client: &ClientInfo,
    ) -> Result<EmailChange, AuthError> {
        let purpose = TokenPurpose::ChangeEmail;
        let Some((record, new_email)) = self.write_linked_address(raw, purpose, client).await?
        else {
            return Ok(EmailChange::AlreadyChanged);
        };
        if let Some(old) = record.user.email.as_deref() {
            if old.to_lowercase() != new_email.normalized() {
                self.mail_undo_link(&record.user, old).await?;
            }
        }
        self.audit(AuditKind::EmailChanged, client)
            .user(&record.user.id)
            .record();
        Ok(EmailChange::Changed)
    }

    /// Follows the undo link mailed to the old address: the account's email goes back to
    /// it (verified), every session ends and pending change links die. Whoever made the
    /// change must sign in again; the page tells the owner to change the password.
    pub async fn undo_email_change(
        &self,
        raw: &str,
        client: &ClientInfo,
    ) -> Result<EmailChange, AuthError> {
        let purpose = TokenPurpose::RevertEmail;
        let Some((record, _)) = self.write_linked_address(raw, purpose, client).await? else {
            return Ok(EmailChange::AlreadyChanged);
        };
        let now = self.now();
        self.inner
            .store
            .invalidate_one_time_tokens(&record.user.id, TokenPurpose::ChangeEmail, now)
            .await?;
        self.end_all_sessions(&record.user.id, now).await?;
        self.audit(AuditKind::EmailChangeUndone, client)
            .user(&record.user.id)
            .record();
        Ok(EmailChange::Changed)
    }

    /// What a change or undo link does first: writes the address it carries as the
    /// account's (verified), then spends it. Returns the account as it was before and the
    /// address written, or `None` when the link had done its work already (a concurrent
    /// follow spent it, or it was used and the address is the one it set).
    async fn write_linked_address(
        &self,
        raw: &str,
        purpose: TokenPurpose,
        client: &ClientInfo,
    ) -> Result<Option<(UserRecord, Email)>, AuthError> {
        self.limit_ip(Action::VerifyEmail, client).await?;
        let token = OpaqueToken::from_client(raw).ok_or(AuthError::InvalidToken)?;
        let store = &self.inner.store;
        let found = store
            .find_one_time_token(&token.hash(), purpose, self.now())
            .await?;
        let Some(found) = found else {
            self.already_changed_by(&token, purpose).await?;
            return Ok(None);
        };
        let record = self.owner_of(&found).await?;
        let email = Email::parse(&found.email).map_err(|_| AuthError::InvalidToken)?;
        self.set_verified_email(&record.user.id, &email).await?;
        let spent = store
            .consume_one_time_token(&token.hash(), purpose, self.now())
            .await?;
        Ok(spent.map(|_| (record, email)))
    }

    /// The account a live change or undo token belongs to; a disabled one may not change.
    async fn owner_of(&self, token: &ConsumedToken) -> Result<UserRecord, AuthError> {
        let record = self.inner.store.find_user_by_id(&token.user_id).await?;
        let record = record.ok_or(AuthError::InvalidToken)?;
        if record.disabled_at.is_some() {
            return Err(AuthError::AccountDisabled);
        }
        Ok(record)
    }

    /// The answer to a change or undo link that is no longer live: `AlreadyChanged` while
    /// it has not expired, was used, and the account's address is the one it set.
    async fn already_changed_by(
        &self,
        token: &OpaqueToken,
        purpose: TokenPurpose,
    ) -> Result<EmailChange, AuthError> {
        let store = &self.inner.store;
        let state = store
            .find_unexpired_one_time_token(&token.hash(), purpose, self.now())
            .await?
            .ok_or(AuthError::InvalidToken)?;
        let record = store.find_user_by_id(&state.user_id).await?;
        let current = record.as_ref().and_then(|r| lower_email(&r.user));
        if state.used && current == Some(state.email.to_lowercase()) {
            Ok(EmailChange::AlreadyChanged)
        } else {
            Err(AuthError::InvalidToken)
        }
    }

    /// Writes `email` as the account's address, verified now. `Conflict` if another account
    /// has it.
    async fn set_verified_email(&self, user: &UserId, email: &Email) -> Result<(), AuthError> {
        let patch = UserPatch {
            email: Some(Normalized {
                display: email.as_str().to_owned(),
                normalized: email.normalized(),
            }),
            email_verified_at: Some(Some(self.now())),
            ..UserPatch::default()
        };
        let updated = self.inner.store.update_user(user, &patch).await;
        self.user_changed(user, updated)
    }

    /// Mails the confirmation link to the new address, in one transaction with its token
    /// (which remembers the address as typed), superseding older change links.
    async fn mail_email_change_link(
        &self,
        user: &User,
        new_email: &Email,
    ) -> Result<(), AuthError> {
        let cfg = &self.inner.config;
        let token = OpaqueToken::generate();
        let ttl = cfg.verification_token_ttl;
        let link = cfg.mail_links.confirm_email_change(token.expose());
        let mut context = self.mail_context(user, Some((link, ttl)));
        new_email.as_str().clone_into(&mut context.to);
        let rendered = self
            .inner
            .renderer
            .render(MailKind::ConfirmEmailChange, &context)?;
        let now = self.now();
        let record = NewOneTimeToken {
            hash: token.hash(),
            user_id: user.id.clone(),
            purpose: TokenPurpose::ChangeEmail,
            email: new_email.as_str().to_owned(),
            created_at: now,
            expires_at: now + ttl,
        };
        let mail = outgoing(new_email.as_str(), rendered);
        self.inner
            .store
            .create_one_time_token(&record, &mail, true)
            .await?;
        self.inner.mail_ready.notify_one();
        Ok(())
    }

    /// Mails the notice with the undo link to the old address `old`.
    async fn mail_undo_link(&self, user: &User, old: &str) -> Result<(), AuthError> {
        let cfg = &self.inner.config;
        let token = OpaqueToken::generate();
        let ttl = chrono::Duration::hours(EMAIL_CHANGE_UNDO_HOURS);
        let link = cfg.mail_links.undo_email_change(token.expose());
        let mut context = self.mail_context(user, Some((link, ttl)));
        old.clone_into(&mut context.to);
        let rendered = self
            .inner
            .renderer
            .render(MailKind::EmailChanged, &context)?;
        let now = self.now();
        let record = NewOneTimeToken {
            hash: token.hash(),
            user_id: user.id.clone(),
            purpose: TokenPurpose::RevertEmail,
            email: old.to_owned(),
            created_at: now,
            expires_at: now + ttl,
        };
        self.inner
            .store
            .create_one_time_token(&record, &outgoing(old, rendered), false)
            .await?;
        self.inner.mail_ready.notify_one();
        Ok(())
    }
}

fn lower_email(user: &User) -> Option<String> {
    user.email.as_deref().map(str::to_lowercase)
}
