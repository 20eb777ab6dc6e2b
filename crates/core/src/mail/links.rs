//! [`MailLinks`]: where the links in account mails lead. By default to authgate's own pages
//! under the public URL; an app with pages of its own points them there with URL templates.

/// The placeholder a link template holds where the token goes.
pub const TOKEN_PLACEHOLDER: &str = "{token}";

/// The links account mails carry, built only from configuration (never from a request).
///
/// ```
/// use authgate_core::mail::MailLinks;
/// let hosted = MailLinks::hosted("https://auth.example.com");
/// assert_eq!(hosted.verify("abc"), "https://auth.example.com/verify-email?token=abc");
/// assert_eq!(hosted.reset("abc"), "https://auth.example.com/reset-password?token=abc");
/// let app = hosted.with_reset_template("https://app.example.com/reset#token={token}");
/// assert_eq!(app.reset("abc"), "https://app.example.com/reset#token=abc");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailLinks {
    verify: String,
    reset: String,
    forgot_password: String,
    confirm_email_change: String,
    undo_email_change: String,
}

impl MailLinks {
    /// Links to authgate's own pages under `public_url` (without trailing slash).
    pub fn hosted(public_url: &str) -> Self {
        MailLinks {
            verify: format!("{public_url}/verify-email?token={TOKEN_PLACEHOLDER}"),
            reset: format!("{public_url}/reset-password?token={TOKEN_PLACEHOLDER}"),
            forgot_password: format!("{public_url}/forgot-password"),
            confirm_email_change: format!(
                "{public_url}/confirm-email-change?token={TOKEN_PLACEHOLDER}"
            ),
            undo_email_change: format!("{public_url}/undo-email-change?token={TOKEN_PLACEHOLDER}"),
        }
    }

    /// Verification links from `template` (`AUTHGATE_VERIFY_URL`), whose `{token}` is
    /// replaced by the token.
    pub fn with_verify_template(mut self, template: &str) -> Self {
        template.clone_into(&mut self.verify);
        self
    }

    /// Reset links from `template` (`AUTHGATE_RESET_URL`), whose `{token}` is replaced by
    /// the token.
    pub fn with_reset_template(mut self, template: &str) -> Self {
        template.clone_into(&mut self.reset);
        self
    }

    /// The verification link carrying `token`.
    pub fn verify(&self, token: &str) -> String {
        self.verify.replace(TOKEN_PLACEHOLDER, token)
    }

    /// The reset link carrying `token`.
    pub fn reset(&self, token: &str) -> String {
        self.reset.replace(TOKEN_PLACEHOLDER, token)
    }

    /// The link to the new address of an email change, carrying `token`: authgate's
    /// `/confirm-email-change` page (no app template: the page posts to authgate itself).
    pub fn confirm_email_change(&self, token: &str) -> String {
        self.confirm_email_change.replace(TOKEN_PLACEHOLDER, token)
    }

    /// The undo link to the old address of an email change, carrying `token`: authgate's
    /// `/undo-email-change` page.
    pub fn undo_email_change(&self, token: &str) -> String {
        self.undo_email_change.replace(TOKEN_PLACEHOLDER, token)
    }

    /// Where someone who did not change their password asks for a reset link (the
    /// "password changed" notice points there): authgate's forgot-password page.
    pub fn forgot_password(&self) -> &str {
        &self.forgot_password
    }
}

impl Default for MailLinks {
    fn default() -> Self {
        MailLinks::hosted("http://127.0.0.1:8080")
    }
}
