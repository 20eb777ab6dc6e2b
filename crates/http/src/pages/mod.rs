//! The hosted pages: server-rendered HTML for people, working without JavaScript:
//! `/login`, `/register`, `/forgot-password`, `/reset-password?token=`,
//! `/verify-email?token=`, `/account`, `/logout`, and the two links of an email change,
//! `/confirm-email-change?token=` and `/undo-email-change?token=`.
//!
//! Every page calls the same [`authgate_core::AuthService`] flows as the JSON routes, so
//! the password policy, rate limits, lockout and enumeration-safe answers are the API's;
//! a page only turns a form into a flow's input and its answer into HTML (a module per
//! flow). Links in mails spend nothing when opened (`GET` or `HEAD`): the verify and reset
//! pages show a button or a form that posts. The browser's session is a real session,
//! carried by HttpOnly cookies ([`session`]); every form carries a CSRF token ([`csrf`]);
//! every page has a strict Content-Security-Policy (no script, no inline style) and uses
//! one cached stylesheet. Templates are MiniJinja, overridable file by file.

mod account;
mod assets;
mod config;
mod cookie_jar;
mod csrf;
mod device;
mod email_change;
mod feedback;
mod forgot;
mod form;
mod login;
mod logout;
mod message;
mod redirect;
mod register;
mod reset;
mod respond;
mod session;
mod shared;
mod site;
mod templates;
mod verify;
mod view;

pub use config::{Pages, PagesConfig, PagesError};

use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

/// The pages' routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to(redirect::ACCOUNT) }))
        .route("/login", get(login::show).post(login::submit))
        .route("/register", get(register::show).post(register::submit))
        .route("/forgot-password", get(forgot::show).post(forgot::submit))
        .route("/reset-password", get(reset::show).post(reset::submit))
        .route("/verify-email", get(verify::show).post(verify::submit))
        .route("/logout", get(logout::show).post(logout::submit))
        .route(
            "/confirm-email-change",
            get(email_change::show_confirm).post(email_change::submit_confirm),
        )
        .route(
            "/undo-email-change",
            get(email_change::show_undo).post(email_change::submit_undo),
        )
        .route("/account", get(account::show))
        .route("/account/sessions/end", post(account::end_session))
        .route(
            "/account/sessions/end-others",
            post(account::end_other_sessions),
        )
        .route("/account/password", post(account::change_password))
        .route("/account/email", post(account::change_email))
        .route("/account/verification", post(account::resend_verification))
        .route("/assets/{file}", get(assets::stylesheet))
        .route("/favicon.ico", get(assets::favicon))
}
