//! `/forgot-password`: ask for a reset link (`AuthService::forgot_password`, as the API: the
//! same answer for every address, the same per-IP and per-address limits).

use authgate_core::mail::duration_in_words;
use axum::extract::RawQuery;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::csrf;
use super::feedback::Failure;
use super::form::Fields;
use super::message::{message_page, Message};
use super::respond::see_other;
use super::shared::{form_page, param, refused};
use super::site::Site;
use super::templates::Page;
use crate::extract::Client;

const PAGE: (Page, &str) = (Page::ForgotPassword, "Forgot your password?");

/// `GET /forgot-password`: the form; `?sent=1` after a request, the answer.
pub(crate) async fn show(site: Site, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    if param(query.as_deref(), "sent").is_some() {
        let ttl = duration_in_words(site.app.service.config().reset_token_ttl);
        let message = Message::new(
            "Check your inbox",
            "If an account uses that address, we have sent it a link to choose a new password.",
        )
        .and(&format!("The link works once, for {ttl}. No mail? Check the spam folder, or ask again in a few minutes."))
        .next("/login", "Back to sign-in");
        return message_page(&site, StatusCode::OK, message, Vec::new());
    }
    form_page(&site, &headers, PAGE, StatusCode::OK, |_| {}, Vec::new())
}

/// `POST /forgot-password`: starts a reset, then shows the same answer whatever the address.
pub(crate) async fn submit(
    site: Site,
    Client(client): Client,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    let email = fields.text("email");
    let refuse = |failure: Failure| {
        refused(&site, &headers, PAGE, &failure, |view| {
            view.values.email = email.clone();
        })
    };
    if !csrf::is_genuine(&site, &headers, &fields) {
        return refuse(Failure::forged());
    }
    match site.app.service.forgot_password(&email, &client).await {
        Ok(()) => see_other(&site, "/forgot-password?sent=1", Vec::new()),
        Err(e) => refuse(Failure::from_auth(e)),
    }
}
