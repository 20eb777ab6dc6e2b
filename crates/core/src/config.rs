//! The settings the flows depend on. Built and validated by the binary's configuration
//! loader; the core only reads them.

use chrono::Duration;

use crate::mail::MailLinks;
use crate::policy::PasswordPolicy;

/// Settings of the authentication rules.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Public base URL of the service (`iss` claim, links in mails), without trailing slash.
    pub public_url: String,
    /// `aud` claim of access tokens.
    pub audience: String,
    /// Life of an access token.
    pub access_token_ttl: Duration,
    /// Clock skew tolerated when judging an access token's `exp` and `nbf`.
    pub token_clock_skew: Duration,
    /// Life of a refresh token (and of an idle session).
    pub refresh_token_ttl: Duration,
    /// How long after a rotation the old refresh token still yields the same successor,
    /// for clients that send concurrent refreshes.
    pub refresh_grace: Duration,
    /// Accounts must have an email (false: username-only accounts are allowed).
    pub require_email: bool,
    /// Login is refused until the email is verified.
    pub require_verified_email: bool,
    /// Roles a client may ask for at registration (`user` is always allowed).
    pub self_assignable_roles: Vec<String>,
    /// The roles an administrator may give (`AUTHGATE_ROLES`); `user` and `admin` always
    /// exist, and so do the self-assignable ones.
    pub roles: Vec<String>,
    /// Rules for new passwords.
    pub password_policy: PasswordPolicy,
    /// Life of an email verification token.
    pub verification_token_ttl: Duration,
    /// Life of a password reset token.
    pub reset_token_ttl: Duration,
    /// How long a session found live, or a user row, may be trusted without asking the
    /// store again (zero: ask every time). Changes made on this node take effect at once
    /// either way; see [`crate::live_cache`].
    pub cache_ttl: Duration,
    /// Where the links in account mails lead (authgate's pages unless configured).
    pub mail_links: MailLinks,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            public_url: "http://127.0.0.1:8080".into(),
            audience: "authgate".into(),
            access_token_ttl: Duration::minutes(15),
            token_clock_skew: Duration::seconds(crate::tokens::DEFAULT_CLOCK_SKEW_SECS),
            refresh_token_ttl: Duration::days(30),
            refresh_grace: Duration::seconds(10),
            require_email: true,
            require_verified_email: false,
            self_assignable_roles: Vec::new(),
            roles: vec!["user".into(), "admin".into()],
            password_policy: PasswordPolicy::default(),
            verification_token_ttl: Duration::hours(24),
            reset_token_ttl: Duration::hours(1),
            cache_ttl: Duration::zero(),
            mail_links: MailLinks::default(),
        }
    }
}

impl AuthConfig {
    /// Whether `role` is a known role: `user`, `admin`, one of [`AuthConfig::roles`] or a
    /// self-assignable one.
    pub fn is_known_role(&self, role: &str) -> bool {
        role == crate::domain::Role::USER
            || role == crate::domain::Role::ADMIN
            || self.roles.iter().any(|r| r == role)
            || self.self_assignable_roles.iter().any(|r| r == role)
    }
}
