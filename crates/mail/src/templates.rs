//! [`TemplateRenderer`]: account mails from MiniJinja templates, built in or overridden by the
//! operator from a folder.
//!
//! Each [`MailKind`] (`verify_email`, `reset_password`, `password_changed`, `account_deleted`,
//! `confirm_email_change`, `email_changed`) has three templates: `<kind>.subject` (one line), `<kind>.txt` (the plain
//! text part) and `<kind>.html` (the HTML part, autoescaped). The built-in HTML templates extend
//! `layout.html`. An operator folder may hold any of these files; each one found replaces the
//! built-in template of that name, the others stay as shipped.
//!
//! Templates may use `name` (may be none), `link` (none for `password_changed` and
//! `account_deleted`),
//! `expires_in` (the link's lifetime in words, "24 hours"), `expires_in_minutes`,
//! `forgot_password_url` (where to ask for a reset link: the password-changed notice points
//! there), `public_url` and `to`.
//!
//! The folder may also hold a `pages/` subfolder: the hosted pages' templates (read by
//! `authgate-http`), which this renderer leaves alone.

use std::path::Path;

use authgate_core::mail::{MailContext, MailKind, MailRenderer, RenderedMail};
use authgate_core::AuthError;
use minijinja::value::Value;
use minijinja::{
    context, escape_formatter, AutoEscape, Environment, Error, ErrorKind, Output, State,
    UndefinedBehavior,
};

use crate::error::MailError;

/// The built-in templates, by file name.
const BUILT_IN: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    (
        "verify_email.subject",
        include_str!("../templates/verify_email.subject"),
    ),
    (
        "verify_email.txt",
        include_str!("../templates/verify_email.txt"),
    ),
    (
        "verify_email.html",
        include_str!("../templates/verify_email.html"),
    ),
    (
        "reset_password.subject",
        include_str!("../templates/reset_password.subject"),
    ),
    (
        "reset_password.txt",
        include_str!("../templates/reset_password.txt"),
    ),
    (
        "reset_password.html",
        include_str!("../templates/reset_password.html"),
    ),
    (
        "password_changed.subject",
        include_str!("../templates/password_changed.subject"),
    ),
    (
        "password_changed.txt",
        include_str!("../templates/password_changed.txt"),
    ),
    (
        "password_changed.html",
        include_str!("../templates/password_changed.html"),
    ),
    (
        "account_deleted.subject",
        include_str!("../templates/account_deleted.subject"),
    ),
    (
        "account_deleted.txt",
        include_str!("../templates/account_deleted.txt"),
    ),
    (
        "account_deleted.html",
        include_str!("../templates/account_deleted.html"),
    ),
    (
        "confirm_email_change.subject",
        include_str!("../templates/confirm_email_change.subject"),
    ),
    (
        "confirm_email_change.txt",
        include_str!("../templates/confirm_email_change.txt"),
    ),
    (
        "confirm_email_change.html",
        include_str!("../templates/confirm_email_change.html"),
    ),
    (
        "email_changed.subject",
        include_str!("../templates/email_changed.subject"),
    ),
    (
        "email_changed.txt",
        include_str!("../templates/email_changed.txt"),
    ),
    (
        "email_changed.html",
        include_str!("../templates/email_changed.html"),
    ),
];

/// The subfolder of the operator folder that holds the hosted pages' templates.
const PAGES_FOLDER: &str = "pages";

const KINDS: [MailKind; 6] = [
    MailKind::VerifyEmail,
    MailKind::ResetPassword,
    MailKind::PasswordChanged,
    MailKind::AccountDeleted,
    MailKind::ConfirmEmailChange,
    MailKind::EmailChanged,
];

/// Renders account mails from templates (implements [`MailRenderer`]).
///
/// ```
/// use authgate_core::mail::{MailContext, MailKind, MailRenderer};
/// use authgate_mail::TemplateRenderer;
///
/// let renderer = TemplateRenderer::new(None).expect("built-in templates are valid");
/// let mail = renderer.render(MailKind::VerifyEmail, &MailContext {
///     to: "ada@example.com".into(),
///     name: Some("Ada".into()),
///     link: Some("https://auth.example.com/verify-email?token=abc".into()),
///     expires_in_minutes: 1440,
///     expires_in: "24 hours".into(),
///     forgot_password_url: "https://auth.example.com/forgot-password".into(),
///     public_url: "https://auth.example.com".into(),
/// }).unwrap();
/// assert_eq!(mail.subject, "Confirm your email address");
/// assert!(mail.html.contains("https://auth.example.com/verify-email?token=abc"));
/// assert!(mail.text.contains("valid for 24 hours"));
/// ```
pub struct TemplateRenderer {
    env: Environment<'static>,
}

impl std::fmt::Debug for TemplateRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateRenderer").finish_non_exhaustive()
    }
}

impl TemplateRenderer {
    /// Loads the built-in templates, replaced by the files found in `override_dir` (if given),
    /// and checks every template by rendering it with sample values. A missing folder, an
    /// unreadable file, a syntax error or an unknown variable is an error here, at start-up,
    /// rather than when the first mail is sent.
    pub fn new(override_dir: Option<&Path>) -> Result<Self, MailError> {
        let mut env = Environment::new();
        // A misspelt variable is an error, not an empty string.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_formatter(html_formatter);
        for (file, built_in) in BUILT_IN {
            let source = match override_dir {
                Some(dir) => read_override(dir, file)?,
                None => None,
            };
            let overridden = source.is_some();
            let source = source.unwrap_or_else(|| (*built_in).to_owned());
            env.add_template_owned(*file, source)
                .map_err(|e| template_error(file, overridden, &e))?;
        }
        if let Some(dir) = override_dir {
            warn_about_unknown_files(dir)?;
        }
        let renderer = TemplateRenderer { env };
        renderer.validate()?;
        Ok(renderer)
    }

    /// Renders every template with sample values, so runtime errors show at start-up.
    fn validate(&self) -> Result<(), MailError> {
        let sample = MailContext {
            to: "user@example.com".into(),
            name: Some("Sample".into()),
            link: Some("https://example.com/link".into()),
            expires_in_minutes: 60,
            expires_in: "1 hour".into(),
            forgot_password_url: "https://example.com/forgot-password".into(),
            public_url: "https://example.com".into(),
        };
        let anonymous = MailContext {
            name: None,
            link: None,
            ..sample.clone()
        };
        for kind in KINDS {
            for ctx in [&sample, &anonymous] {
                self.render_parts(kind, ctx).map_err(|(file, e)| {
                    MailError::Template(format!("{file}: {}", describe(&e)))
                })?;
            }
        }
        Ok(())
    }

    /// Renders the three parts of `kind`; on failure, says which file failed.
    fn render_parts(
        &self,
        kind: MailKind,
        ctx: &MailContext,
    ) -> Result<RenderedMail, (String, minijinja::Error)> {
        let values = context! {
            name => ctx.name.clone(),
            link => ctx.link.clone(),
            expires_in_minutes => ctx.expires_in_minutes,
            expires_in => ctx.expires_in.clone(),
            forgot_password_url => ctx.forgot_password_url.clone(),
            public_url => ctx.public_url.clone(),
            to => ctx.to.clone(),
        };
        let base = kind.template_name();
        let render = |ext: &str| -> Result<String, (String, minijinja::Error)> {
            let file = format!("{base}.{ext}");
            self.env
                .get_template(&file)
                .and_then(|t| t.render(values.clone()))
                .map_err(|e| (file, e))
        };
        let subject = render("subject")?;
        Ok(RenderedMail {
            subject: one_line(&subject),
            text: ensure_trailing_newline(render("txt")?),
            html: ensure_trailing_newline(render("html")?),
        })
    }
}

impl MailRenderer for TemplateRenderer {
    fn render(&self, kind: MailKind, ctx: &MailContext) -> Result<RenderedMail, AuthError> {
        self.render_parts(kind, ctx).map_err(|(file, e)| {
            AuthError::Internal(format!("mail template {file}: {}", describe(&e)))
        })
    }
}

/// The operator's version of `file`, if the folder has one.
fn read_override(dir: &Path, file: &str) -> Result<Option<String>, MailError> {
    if !dir.is_dir() {
        return Err(MailError::Template(format!(
            "template folder {} does not exist or is not a folder",
            dir.display()
        )));
    }
    let path = dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(source) => {
            tracing::info!(path = %path.display(), "using operator mail template");
            Ok(Some(source))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(MailError::Template(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// Files in the operator folder that replace nothing are probably misnamed: say so.
fn warn_about_unknown_files(dir: &Path) -> Result<(), MailError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| MailError::Template(format!("cannot list {}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == PAGES_FOLDER && entry.path().is_dir() {
            continue;
        }
        if !BUILT_IN.iter().any(|(file, _)| *file == name) {
            tracing::warn!(
                file = %entry.path().display(),
                "ignoring unknown file in the mail template folder (expected e.g. verify_email.html)"
            );
        }
    }
    Ok(())
}

fn template_error(file: &str, overridden: bool, e: &minijinja::Error) -> MailError {
    let origin = if overridden {
        "operator template"
    } else {
        "built-in template"
    };
    MailError::Template(format!("{origin} {file}: {}", describe(e)))
}

/// The error with its line and cause, e.g. `syntax error: unexpected end of input (in
/// verify_email.html:3)`.
fn describe(e: &minijinja::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// MiniJinja's formatter, except that strings in HTML are escaped as `&<>"'` only: its
/// default also escapes `/`, which turns every link into `https:&#x2f;&#x2f;...`.
fn html_formatter(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    match (state.auto_escape(), value.as_str()) {
        (AutoEscape::Html, Some(s)) if !value.is_safe() => out
            .write_str(&escape_html(s))
            .map_err(|e| Error::new(ErrorKind::WriteFailure, "cannot write").with_source(e)),
        _ => escape_formatter(out, state, value),
    }
}

fn escape_html(s: &str) -> String {
    let mut escaped = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Subjects are one line: trims and joins lines with spaces (no header injection).
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn ensure_trailing_newline(mut s: String) -> String {
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}
