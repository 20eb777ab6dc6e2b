//! Building page responses: an HTML page with the pages' security policy, or a `303 See
//! Other` after a form, each with the cookies the request earned.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::site::Site;
use super::templates::Page;
use super::view::PageView;
use crate::error::ApiError;

/// Cookies to set on a response (`Set-Cookie` values).
pub(crate) type Cookies = Vec<HeaderValue>;

/// `page` rendered with `view`, answered with `status`.
pub(crate) fn html(
    site: &Site,
    status: StatusCode,
    page: Page,
    view: &PageView,
    cookies: Cookies,
) -> Response {
    let body = match site.pages.templates.render(page, view) {
        Ok(body) => body,
        Err(cause) => {
            return ApiError::Auth(authgate_core::AuthError::Internal(cause)).into_response()
        }
    };
    let mut res = (status, body).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure(headers, site);
    for cookie in cookies {
        headers.append(header::SET_COOKIE, cookie);
    }
    res
}

/// The pages' policy headers. `Referrer-Policy: same-origin` instead of the API's
/// `no-referrer`: under `no-referrer` Chromium sends `Origin: null` with a form post, which
/// the origin check must refuse; `same-origin` still sends nothing (no token in a reset
/// page's address) to any other site.
fn secure(headers: &mut axum::http::HeaderMap, site: &Site) {
    headers.insert(header::CONTENT_SECURITY_POLICY, site.pages.csp.clone());
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// `303 See Other` to `location` (a same-origin path or a checked redirect target).
pub(crate) fn see_other(site: &Site, location: &str, cookies: Cookies) -> Response {
    let Ok(location) = HeaderValue::from_str(location) else {
        return see_other(site, "/account", cookies);
    };
    let mut res = StatusCode::SEE_OTHER.into_response();
    let headers = res.headers_mut();
    headers.insert(header::LOCATION, location);
    secure(headers, site);
    for cookie in cookies {
        headers.append(header::SET_COOKIE, cookie);
    }
    res
}
