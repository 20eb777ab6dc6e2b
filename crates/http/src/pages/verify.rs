//! `/verify-email?token=`: the link in the verification mail. Opening it (`GET` or `HEAD`,
//! as mail scanners and link previews do) spends nothing; the person presses the button,
//! which posts the token to `AuthService::verify_email`, the flow behind
//! `GET /api/auth/verify-email/{token}`. A second press says the address is verified.

use authgate_core::service::EmailVerification;
use authgate_core::AuthError;
use axum::extract::RawQuery;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::csrf;
use super::feedback::Failure;
use super::form::Fields;
use super::message::{message_page, Message};
use super::shared::{form_page, param, refused};
use super::site::Site;
use super::templates::Page;
use crate::extract::Client;

const PAGE: (Page, &str) = (Page::VerifyEmail, "Confirm your email address");

/// `GET /verify-email?token=...`: the button.
pub(crate) async fn show(site: Site, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let Some(token) = param(query.as_deref(), "token") else {
        return outcome(&site, Err(AuthError::InvalidToken));
    };
    let fill = |view: &mut super::view::PageView| view.token = Some(token);
    form_page(&site, &headers, PAGE, StatusCode::OK, fill, Vec::new())
}

/// `POST /verify-email`: verifies the address.
pub(crate) async fn submit(
    site: Site,
    Client(client): Client,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    let token = fields.text("token");
    if !csrf::is_genuine(&site, &headers, &fields) {
        return refused(&site, &headers, PAGE, &Failure::forged(), |view| {
            view.token = Some(token.clone());
        });
    }
    let done = site.app.service.verify_email(&token, &client).await;
    outcome(&site, done)
}

fn outcome(site: &Site, done: Result<EmailVerification, AuthError>) -> Response {
    let next = site
        .pages
        .config
        .app_url
        .clone()
        .map_or(("/account".to_owned(), "Go to your account"), |app| {
            (app, "Continue")
        });
    let (status, message) = match done {
        Ok(EmailVerification::Verified) => (
            StatusCode::OK,
            Message::new("Email address verified", "Thank you: your email address is confirmed."),
        ),
        Ok(EmailVerification::AlreadyVerified) => (
            StatusCode::OK,
            Message::new("Email address verified", "Your email address was already confirmed. There is nothing more to do."),
        ),
        Err(AuthError::InvalidToken) => (
            StatusCode::OK,
            Message::new(
                "This link no longer works",
                "Verification links expire, and a newer link replaces older ones. Sign in and ask for a new link on your account page.",
            ),
        ),
        Err(e) => {
            let failure = Failure::from_auth(e);
            let message = Message::new("Please try again", &failure.message);
            let res = message_page(site, failure.status, message.next("/account", "Your account"), Vec::new());
            return failure.decorate(res);
        }
    };
    message_page(site, status, message.next(&next.0, next.1), Vec::new())
}
