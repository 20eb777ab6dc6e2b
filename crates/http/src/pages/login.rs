//! `/login`: sign in with an email or username and a password (`AuthService::login`, as
//! `POST /api/auth/login`), then on to `rd`, the app or the account page.

use authgate_core::service::LoginRequest;
use axum::extract::RawQuery;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use secrecy::SecretString;

use super::csrf;
use super::feedback::Failure;
use super::form::Fields;
use super::redirect::{signed_in_now, unless_signed_in};
use super::shared::{form_page, notice, param, refused, with_rd};
use super::site::Site;
use super::templates::Page;
use super::view::PageView;
use crate::extract::Client;

const PAGE: (Page, &str) = (Page::Login, "Sign in");

/// `GET /login[?rd=...][&notice=...]`: the form, or straight on when already signed in.
pub(crate) async fn show(
    site: Site,
    Client(client): Client,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let rd = param(query.as_deref(), "rd");
    let cookies = match unless_signed_in(&site, &headers, &client, rd.as_deref()).await {
        Ok(cookies) => cookies,
        Err(on) => return on,
    };
    let notice = notice(param(query.as_deref(), "notice").as_deref());
    let fill = |view: &mut PageView| {
        view.links.register = with_rd("/register", rd.as_deref());
        view.rd = rd;
        view.notice = notice;
    };
    form_page(&site, &headers, PAGE, StatusCode::OK, fill, cookies)
}

/// `POST /login`: signs in and opens the browser session.
pub(crate) async fn submit(
    site: Site,
    Client(client): Client,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    let rd = fields.non_empty("rd");
    let identifier = fields.text("identifier");
    let refuse = |failure: Failure| {
        refused(&site, &headers, PAGE, &failure, |view| {
            view.links.register = with_rd("/register", rd.as_deref());
            view.values.identifier = identifier.clone();
            view.rd = rd.clone();
        })
    };
    if !csrf::is_genuine(&site, &headers, &fields) {
        return refuse(Failure::forged());
    }
    let request = LoginRequest {
        identifier: Some(identifier.clone()),
        password: Some(SecretString::from(fields.text("password"))),
        ..LoginRequest::default()
    };
    match site.app.service.login(request, &client).await {
        Ok(done) => signed_in_now(&site, rd.as_deref(), &done.tokens),
        Err(e) => refuse(Failure::from_auth(e)),
    }
}
