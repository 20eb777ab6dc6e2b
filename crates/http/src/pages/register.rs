//! `/register`: create an account (`AuthService::register`, as `POST /api/auth/register`,
//! so the same policy, the same verification mail and the same limits), signed in at once.

use authgate_core::service::RegisterRequest;
use axum::extract::RawQuery;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use secrecy::SecretString;

use super::csrf;
use super::feedback::Failure;
use super::form::Fields;
use super::redirect::{signed_in_now, unless_signed_in};
use super::shared::{form_page, param, refused, with_rd};
use super::site::Site;
use super::templates::Page;
use super::view::PageView;
use crate::extract::Client;

const PAGE: (Page, &str) = (Page::Register, "Create your account");

/// `GET /register[?rd=...]`: the form, or straight on when already signed in.
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
    let fill = |view: &mut PageView| {
        view.links.login = with_rd("/login", rd.as_deref());
        view.rd = rd;
    };
    form_page(&site, &headers, PAGE, StatusCode::OK, fill, cookies)
}

/// `POST /register`: creates the account and opens the browser session.
pub(crate) async fn submit(
    site: Site,
    Client(client): Client,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    let rd = fields.non_empty("rd");
    let (name, email) = (fields.text("name"), fields.text("email"));
    let refuse = |failure: Failure| {
        refused(&site, &headers, PAGE, &failure, |view| {
            view.links.login = with_rd("/login", rd.as_deref());
            view.values.name = name.clone();
            view.values.email = email.clone();
            view.rd = rd.clone();
        })
    };
    if !csrf::is_genuine(&site, &headers, &fields) {
        return refuse(Failure::forged());
    }
    let request = RegisterRequest {
        name: Some(name.clone()),
        email: Some(email.clone()),
        password: Some(SecretString::from(fields.text("password"))),
        ..RegisterRequest::default()
    };
    match site.app.service.register(request, &client).await {
        Ok(done) => signed_in_now(&site, rd.as_deref(), &done.tokens),
        Err(e) => refuse(Failure::from_auth(e)),
    }
}
