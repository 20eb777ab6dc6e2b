//! What the flows share: a form page with its CSRF token, a refused form, the query string,
//! the confirmation notices and the page for a failure that is not about a form.

use authgate_core::AuthError;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::csrf;
use super::feedback::Failure;
use super::message::{message_page, Message};
use super::respond::{html, Cookies};
use super::site::Site;
use super::templates::Page;
use super::view::PageView;

/// `page` titled `title`, its forms carrying the browser's CSRF token (set in a cookie if
/// the browser had none), filled in by `fill`.
pub(crate) fn form_page(
    site: &Site,
    headers: &HeaderMap,
    (page, title): (Page, &str),
    status: StatusCode,
    fill: impl FnOnce(&mut PageView),
    mut cookies: Cookies,
) -> Response {
    let csrf = csrf::token(site, headers);
    let mut view = PageView::new(&site.pages, title, &csrf.value);
    view.password_hint = site.app.service.config().password_policy.describe();
    fill(&mut view);
    cookies.extend(csrf.cookies);
    html(site, status, page, &view, cookies)
}

/// `page` again, showing why its form was refused.
pub(crate) fn refused(
    site: &Site,
    headers: &HeaderMap,
    page: (Page, &str),
    failure: &Failure,
    fill: impl FnOnce(&mut PageView),
) -> Response {
    let res = form_page(
        site,
        headers,
        page,
        failure.status,
        |view| {
            failure.show_in(view);
            fill(view);
        },
        Vec::new(),
    );
    failure.decorate(res)
}

/// A failure that has no form to show it in (the store is down while a page loads).
pub(crate) fn trouble(site: &Site, e: AuthError) -> Response {
    let failure = Failure::from_auth(e);
    let message = Message::new("Please try again", &failure.message).next("/account", "Try again");
    failure.decorate(message_page(site, failure.status, message, Vec::new()))
}

/// The first value of `name` in the query string `query`.
pub(crate) fn param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// `path` with `?rd=` when there is an `rd` to carry on.
pub(crate) fn with_rd(path: &str, rd: Option<&str>) -> String {
    match rd {
        Some(rd) => {
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("rd", rd)
                .finish();
            format!("{path}?{query}")
        }
        None => path.to_owned(),
    }
}

/// The sentence of a confirmation named in a redirect (`?notice=`). Only these fixed
/// sentences can appear, so a crafted link cannot put words on the page.
pub(crate) fn notice(key: Option<&str>) -> Option<String> {
    let text = match key? {
        "signed-out" => "You are signed out.",
        "password-changed" => "Your password was changed and every device was signed out. Sign in with the new password.",
        "password-reset" => "Your password was reset. Sign in with the new password.",
        "session-ended" => "That device is signed out.",
        "others-ended" => "Every other device is signed out.",
        "verification-sent" => "A new verification link is on its way to your inbox.",
        "email-change-sent" => "A confirmation link is on its way to the new address: your account keeps its address until the link is opened. Every other device was signed out.",
        _ => return None,
    };
    Some(text.to_owned())
}
