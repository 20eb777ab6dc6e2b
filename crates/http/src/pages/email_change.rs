//! `/confirm-email-change?token=` and `/undo-email-change?token=`: the links in the mails of
//! an email change. Opening one (`GET` or `HEAD`) spends nothing; the button posts the token
//! to `AuthService::confirm_email_change` or `undo_email_change`, the flows behind
//! `POST /api/auth/confirm-email-change` and `/undo-email-change`.

use authgate_core::service::EmailChange;
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
use super::view::{LinkView, PageView};
use crate::extract::Client;

/// Which of the two links a page serves.
#[derive(Clone, Copy)]
enum Link {
    Confirm,
    Undo,
}

impl Link {
    fn title(self) -> &'static str {
        match self {
            Link::Confirm => "Confirm your new email address",
            Link::Undo => "Undo the change of your email address",
        }
    }

    fn fill(self, view: &mut PageView, token: String) {
        let (path, intro, button) = match self {
            Link::Confirm => (
                "/confirm-email-change",
                "Select the button to make this address the email address of your account.",
                "Confirm my new address",
            ),
            Link::Undo => (
                "/undo-email-change",
                "Select the button to give your account its old email address back. Every device is signed out; change your password afterwards.",
                "Undo the change",
            ),
        };
        view.paragraphs = vec![intro.to_owned()];
        view.action = Some(LinkView {
            href: path.to_owned(),
            label: button.to_owned(),
        });
        view.token = Some(token);
    }
}

/// `GET /confirm-email-change?token=...`: the button.
pub(crate) async fn show_confirm(site: Site, headers: HeaderMap, query: RawQuery) -> Response {
    show(&site, &headers, query, Link::Confirm)
}

/// `GET /undo-email-change?token=...`: the button.
pub(crate) async fn show_undo(site: Site, headers: HeaderMap, query: RawQuery) -> Response {
    show(&site, &headers, query, Link::Undo)
}

/// `POST /confirm-email-change`: makes the change.
pub(crate) async fn submit_confirm(
    site: Site,
    client: Client,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    submit(&site, client, &headers, &fields, Link::Confirm).await
}

/// `POST /undo-email-change`: undoes it.
pub(crate) async fn submit_undo(
    site: Site,
    client: Client,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    submit(&site, client, &headers, &fields, Link::Undo).await
}

fn show(site: &Site, headers: &HeaderMap, RawQuery(query): RawQuery, link: Link) -> Response {
    let Some(token) = param(query.as_deref(), "token") else {
        return outcome(site, link, Err(AuthError::InvalidToken));
    };
    let page = (Page::EmailChange, link.title());
    form_page(
        site,
        headers,
        page,
        StatusCode::OK,
        |view| link.fill(view, token),
        Vec::new(),
    )
}

async fn submit(
    site: &Site,
    Client(client): Client,
    headers: &HeaderMap,
    fields: &Fields,
    link: Link,
) -> Response {
    let token = fields.text("token");
    if !csrf::is_genuine(site, headers, fields) {
        let page = (Page::EmailChange, link.title());
        return refused(site, headers, page, &Failure::forged(), |view| {
            link.fill(view, token.clone());
        });
    }
    let service = &site.app.service;
    let done = match link {
        Link::Confirm => service.confirm_email_change(&token, &client).await,
        Link::Undo => service.undo_email_change(&token, &client).await,
    };
    outcome(site, link, done)
}

fn outcome(site: &Site, link: Link, done: Result<EmailChange, AuthError>) -> Response {
    let message = match (link, done) {
        (Link::Confirm, Ok(_)) => Message::new(
            "Email address changed",
            "This is now the email address of your account: sign in with it from now on.",
        )
        .next("/login", "Sign in"),
        (Link::Undo, Ok(_)) => Message::new(
            "Email address restored",
            "Your account has its old email address back, and every device was signed out.",
        )
        .and("If you did not change the address yourself, someone may know your password: sign in and change it now.")
        .next("/login", "Sign in"),
        (_, Err(AuthError::InvalidToken)) => Message::new(
            "This link no longer works",
            "Links in these mails expire, work once, and a newer request replaces older links. Sign in to see your account's address.",
        )
        .next("/login", "Sign in"),
        (_, Err(e)) => {
            let failure = Failure::from_auth(e);
            let message = Message::new("Please try again", &failure.message);
            let res = message_page(site, failure.status, message.next("/account", "Your account"), Vec::new());
            return failure.decorate(res);
        }
    };
    message_page(site, StatusCode::OK, message, Vec::new())
}
