//! Composing account mails. The core decides *which* mail to send and with what link; a
//! [`MailRenderer`] turns that into subject and bodies (the `authgate-mail` crate renders
//! operator-overridable templates). Mails are queued in the store and sent by a worker.

mod links;
mod words;

pub use links::{MailLinks, TOKEN_PLACEHOLDER};
pub use words::duration_in_words;

use crate::error::AuthError;
use crate::store::OutgoingMail;

/// Which mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// "Confirm your email address" with a verification link.
    VerifyEmail,
    /// "Reset your password" with a reset link.
    ResetPassword,
    /// "Your password was changed" notice.
    PasswordChanged,
    /// "Your account was deleted" confirmation.
    AccountDeleted,
    /// "Confirm your new email address", to the new address, with the confirmation link.
    ConfirmEmailChange,
    /// "Your email address was changed", to the old address, with the undo link.
    EmailChanged,
}

impl MailKind {
    /// Template base name: `verify_email`, `reset_password`, `password_changed`, ...
    pub fn template_name(self) -> &'static str {
        match self {
            MailKind::VerifyEmail => "verify_email",
            MailKind::ResetPassword => "reset_password",
            MailKind::PasswordChanged => "password_changed",
            MailKind::AccountDeleted => "account_deleted",
            MailKind::ConfirmEmailChange => "confirm_email_change",
            MailKind::EmailChanged => "email_changed",
        }
    }
}

/// What a template may use.
#[derive(Debug, Clone)]
pub struct MailContext {
    /// Recipient address.
    pub to: String,
    /// The user's name, if known.
    pub name: Option<String>,
    /// The action link (verification or reset), built from the public URL only.
    pub link: Option<String>,
    /// Minutes until the link expires.
    pub expires_in_minutes: i64,
    /// The link's lifetime in words ("24 hours", "1 hour"); empty without a link.
    pub expires_in: String,
    /// Where to ask for a reset link (the "password changed" notice points there).
    pub forgot_password_url: String,
    /// The public URL of the service.
    pub public_url: String,
}

/// Subject and bodies of a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

/// Renders mails from templates.
pub trait MailRenderer: Send + Sync {
    /// Renders `kind` for `ctx`.
    fn render(&self, kind: MailKind, ctx: &MailContext) -> Result<RenderedMail, AuthError>;
}

/// Builds a queue entry from a rendered mail.
pub fn outgoing(to: &str, rendered: RenderedMail) -> OutgoingMail {
    OutgoingMail {
        id: uuid::Uuid::now_v7().to_string(),
        to: to.to_owned(),
        subject: rendered.subject,
        text_body: rendered.text,
        html_body: rendered.html,
    }
}

/// A minimal built-in renderer (plain sentences, HTML-escaped), used when no template
/// renderer is configured.
#[derive(Debug, Default, Clone, Copy)]
pub struct PlainRenderer;

impl MailRenderer for PlainRenderer {
    fn render(&self, kind: MailKind, ctx: &MailContext) -> Result<RenderedMail, AuthError> {
        let greeting = format!("Hello {},", ctx.name.as_deref().unwrap_or("there"));
        let link = ctx.link.clone().unwrap_or_default();
        let (subject, body) = match kind {
            MailKind::VerifyEmail => (
                "Confirm your email address",
                format!("Confirm your email address by opening this link (valid for {}):\n{link}", ctx.expires_in),
            ),
            MailKind::ResetPassword => (
                "Reset your password",
                format!(
                    "Someone asked to reset your password. If it was you, open this link (valid for {}):\n{link}\nIf not, ignore this mail.",
                    ctx.expires_in
                ),
            ),
            MailKind::PasswordChanged => (
                "Your password was changed",
                format!(
                    "Your password was just changed and every session was signed out. If this was not you, reset your password now at {}",
                    ctx.forgot_password_url
                ),
            ),
            MailKind::AccountDeleted => (
                "Your account was deleted",
                format!(
                    "Your account at {} and everything tied to it were deleted, as you asked.",
                    ctx.public_url
                ),
            ),
            MailKind::ConfirmEmailChange => (
                "Confirm your new email address",
                format!(
                    "Confirm that this is the new email address of your account by opening this link (valid for {}):\n{link}\nIf you did not ask for this, ignore this mail.",
                    ctx.expires_in
                ),
            ),
            MailKind::EmailChanged => (
                "Your email address was changed",
                format!(
                    "The email address of your account was changed, and mail now goes to the new address. If this was not you, undo the change with this link (valid for {}) and change your password:\n{link}",
                    ctx.expires_in
                ),
            ),
        };
        let text = format!("{greeting}\n\n{body}\n");
        let html = format!(
            "<p>{}</p><p>{}</p>",
            escape(&greeting),
            escape(&body).replace('\n', "<br>")
        );
        Ok(RenderedMail {
            subject: subject.to_owned(),
            text,
            html,
        })
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
