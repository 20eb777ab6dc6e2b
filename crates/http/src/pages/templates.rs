//! The pages' MiniJinja templates: built in, each replaceable by a file of the same name in
//! the operator's `pages/` folder (`AUTHGATE_TEMPLATES_DIR/pages/`), the way the mail
//! templates are. Every template is rendered once with sample values at start-up, so a
//! syntax error or a misspelt variable stops the server instead of a sign-in.

use std::path::Path;

use minijinja::value::{Serde, Value};
use minijinja::{
    context, escape_formatter, AutoEscape, Environment, Error, ErrorKind, Output, State,
    UndefinedBehavior,
};

use super::config::{Pages, PagesError};
use super::view::PageView;

/// The stylesheet's template (rendered once, with the accent colour).
pub(crate) const STYLESHEET: &str = "authgate.css";

/// The page templates, by name, and the shared ones they extend or import.
const BUILT_IN: &[(&str, &str)] = &[
    (
        "layout.html",
        include_str!("../../templates/pages/layout.html"),
    ),
    (
        "macros.html",
        include_str!("../../templates/pages/macros.html"),
    ),
    (
        "login.html",
        include_str!("../../templates/pages/login.html"),
    ),
    (
        "register.html",
        include_str!("../../templates/pages/register.html"),
    ),
    (
        "forgot_password.html",
        include_str!("../../templates/pages/forgot_password.html"),
    ),
    (
        "reset_password.html",
        include_str!("../../templates/pages/reset_password.html"),
    ),
    (
        "verify_email.html",
        include_str!("../../templates/pages/verify_email.html"),
    ),
    (
        "account.html",
        include_str!("../../templates/pages/account.html"),
    ),
    (
        "logout.html",
        include_str!("../../templates/pages/logout.html"),
    ),
    (
        "message.html",
        include_str!("../../templates/pages/message.html"),
    ),
    (
        "email_change.html",
        include_str!("../../templates/pages/email_change.html"),
    ),
    (
        STYLESHEET,
        include_str!("../../templates/pages/authgate.css"),
    ),
];

/// A page that can be shown (one template each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    Login,
    Register,
    ForgotPassword,
    ResetPassword,
    VerifyEmail,
    Account,
    Logout,
    Message,
    EmailChange,
}

impl Page {
    const ALL: [Page; 9] = [
        Page::Login,
        Page::Register,
        Page::ForgotPassword,
        Page::ResetPassword,
        Page::VerifyEmail,
        Page::Account,
        Page::Logout,
        Page::Message,
        Page::EmailChange,
    ];

    fn template(self) -> &'static str {
        match self {
            Page::Login => "login.html",
            Page::Register => "register.html",
            Page::ForgotPassword => "forgot_password.html",
            Page::ResetPassword => "reset_password.html",
            Page::VerifyEmail => "verify_email.html",
            Page::Account => "account.html",
            Page::Logout => "logout.html",
            Page::Message => "message.html",
            Page::EmailChange => "email_change.html",
        }
    }
}

/// The loaded templates.
pub(crate) struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The built-in templates, each replaced by the file of the same name in `dir` when it
    /// has one. A missing `dir` is fine (the operator overrides only mail templates).
    pub(crate) fn load(dir: Option<&Path>) -> Result<Templates, PagesError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_formatter(html_formatter);
        let dir = dir.filter(|d| d.is_dir());
        for (file, built_in) in BUILT_IN {
            let source = match dir {
                Some(dir) => read_override(dir, file)?,
                None => None,
            };
            let origin = if source.is_some() {
                "operator"
            } else {
                "built-in"
            };
            let source = source.unwrap_or_else(|| (*built_in).to_owned());
            env.add_template_owned(*file, source).map_err(|e| {
                PagesError::Template(format!("{origin} page template {file}: {}", describe(&e)))
            })?;
        }
        if let Some(dir) = dir {
            warn_about_unknown_files(dir);
        }
        Ok(Templates { env })
    }

    /// The stylesheet with `accent` (already checked to be a hex colour) written in.
    pub(crate) fn stylesheet(&self, accent: &str) -> Result<String, PagesError> {
        self.env
            .get_template(STYLESHEET)
            .and_then(|t| t.render(context! { accent }))
            .map_err(|e| PagesError::Template(format!("{STYLESHEET}: {}", describe(&e))))
    }

    /// Renders `page` with `view`.
    pub(crate) fn render(&self, page: Page, view: &PageView) -> Result<String, String> {
        let name = page.template();
        self.env
            .get_template(name)
            .and_then(|t| t.render(Value::from(Serde(view))))
            .map_err(|e| format!("page template {name}: {}", describe(&e)))
    }

    /// Renders every page with sample values (everything a page may show), so runtime
    /// errors (an unknown variable, a bad filter) show at start-up.
    pub(crate) fn validate(&self, pages: &Pages) -> Result<(), PagesError> {
        let sample = PageView::sample(pages);
        for page in Page::ALL {
            self.render(page, &sample).map_err(PagesError::Template)?;
        }
        Ok(())
    }
}

/// The operator's version of `file`, if the folder has one.
fn read_override(dir: &Path, file: &str) -> Result<Option<String>, PagesError> {
    let path = dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(source) => {
            tracing::info!(path = %path.display(), "using operator page template");
            Ok(Some(source))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(PagesError::Template(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// Files that replace nothing are probably misnamed: say so.
fn warn_about_unknown_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !BUILT_IN.iter().any(|(file, _)| *file == name) {
            tracing::warn!(
                file = %entry.path().display(),
                "ignoring unknown file in the page template folder (expected e.g. login.html)"
            );
        }
    }
}

/// The error with its line and causes.
fn describe(e: &Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// MiniJinja's formatter, except that strings in HTML are escaped as `&<>"'` only (its
/// default also escapes `/`, which makes every URL in an attribute hard to read).
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
