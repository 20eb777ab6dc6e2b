//! `/reset-password?token=`: the link in the reset mail. Opening it spends nothing (a mail
//! scanner may open it first); the form posts the token with the new password to
//! `AuthService::reset_password`, as `POST /api/auth/reset-password`.

use authgate_core::AuthError;
use axum::extract::RawQuery;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use secrecy::SecretString;

use super::csrf;
use super::feedback::Failure;
use super::form::Fields;
use super::message::{message_page, Message};
use super::respond::see_other;
use super::session::clear_session_cookies;
use super::shared::{form_page, param, refused};
use super::site::Site;
use super::templates::Page;
use crate::extract::Client;

const PAGE: (Page, &str) = (Page::ResetPassword, "Choose a new password");

/// `GET /reset-password?token=...`: the form (the token is checked when it is posted).
pub(crate) async fn show(site: Site, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let Some(token) = param(query.as_deref(), "token") else {
        return dead_link(&site);
    };
    let fill = |view: &mut super::view::PageView| view.token = Some(token);
    form_page(&site, &headers, PAGE, StatusCode::OK, fill, Vec::new())
}

/// `POST /reset-password`: sets the new password; every session ends, so sign in again.
pub(crate) async fn submit(
    site: Site,
    Client(client): Client,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    let token = fields.text("token");
    let refuse = |failure: Failure| {
        refused(&site, &headers, PAGE, &failure, |view| {
            view.token = Some(token.clone());
        })
    };
    if !csrf::is_genuine(&site, &headers, &fields) {
        return refuse(Failure::forged());
    }
    let password = Some(SecretString::from(fields.text("newPassword")));
    match site
        .app
        .service
        .reset_password(&token, password, &client)
        .await
    {
        Ok(()) => see_other(
            &site,
            "/login?notice=password-reset",
            clear_session_cookies(&site),
        ),
        Err(AuthError::InvalidToken) => dead_link(&site),
        Err(e) => refuse(Failure::from_auth(e)),
    }
}

/// A reset link that is missing its token, expired, or used.
fn dead_link(site: &Site) -> Response {
    let message = Message::new(
        "This link no longer works",
        "Reset links work once and expire. A newer link, or a password change, also ends older ones.",
    )
    .next("/forgot-password", "Ask for a new link");
    message_page(site, StatusCode::OK, message, Vec::new())
}
