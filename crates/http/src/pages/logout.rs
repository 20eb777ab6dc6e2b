//! `/logout`: a confirmation (a link or an image cannot sign anyone out), then
//! `AuthService::logout` of this browser's session, as `POST /api/auth/logout`.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::csrf;
use super::feedback::Failure;
use super::form::Fields;
use super::respond::see_other;
use super::session::{clear_session_cookies, visit};
use super::shared::{form_page, refused, trouble};
use super::site::Site;
use super::templates::Page;
use crate::extract::Client;

const PAGE: (Page, &str) = (Page::Logout, "Sign out");

/// `GET /logout`: the button (to the sign-in page when nobody is signed in).
pub(crate) async fn show(site: Site, Client(client): Client, headers: HeaderMap) -> Response {
    match visit(&site, &headers, &client).await {
        Ok(v) if v.who.is_some() => {
            form_page(&site, &headers, PAGE, StatusCode::OK, |_| {}, v.cookies)
        }
        Ok(v) => see_other(&site, "/login", v.cookies),
        Err(e) => trouble(&site, e),
    }
}

/// `POST /logout`: ends this browser's session and removes its cookies.
pub(crate) async fn submit(
    site: Site,
    Client(client): Client,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    if !csrf::is_genuine(&site, &headers, &fields) {
        return refused(&site, &headers, PAGE, &Failure::forged(), |_| {});
    }
    let visit = match visit(&site, &headers, &client).await {
        Ok(v) => v,
        Err(e) => return trouble(&site, e),
    };
    if let Some(who) = &visit.who {
        if let Err(e) = site.app.service.logout(who, false, None, &client).await {
            return trouble(&site, e);
        }
    }
    see_other(
        &site,
        "/login?notice=signed-out",
        clear_session_cookies(&site),
    )
}
