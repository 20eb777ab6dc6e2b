//! CSRF protection of every form: a double-submit token (a random value in an HttpOnly
//! cookie, repeated in a hidden field and compared in constant time) plus the same Origin
//! check as the API's cookie-carried requests. A cross-site page can neither read the cookie
//! nor make the browser send an allowed `Origin`; on https the cookie is `__Host-` prefixed,
//! so no sibling subdomain can plant one either.

use authgate_core::secret::OpaqueToken;
use axum::http::HeaderMap;
use subtle::ConstantTimeEq;

use super::cookie_jar;
use super::form::Fields;
use super::respond::Cookies;
use super::site::Site;

/// The cookie's name (before any `__Host-` prefix).
const COOKIE: &str = "authgate-csrf";

/// The token a page's forms carry, and the cookie to set when the browser had none.
pub(crate) struct CsrfToken {
    pub(crate) value: String,
    pub(crate) cookies: Cookies,
}

/// The browser's token, or a fresh one (with its cookie) if it has none.
pub(crate) fn token(site: &Site, headers: &HeaderMap) -> CsrfToken {
    let https = site.https();
    match cookie_jar::get(headers, COOKIE, https).filter(|v| OpaqueToken::from_client(v).is_some())
    {
        Some(value) => CsrfToken {
            value,
            cookies: Vec::new(),
        },
        None => {
            let value = OpaqueToken::generate().expose().to_owned();
            let cookie = cookie_jar::set(COOKIE, &value, None, https);
            CsrfToken {
                value,
                cookies: vec![cookie],
            }
        }
    }
}

/// Whether a form post is genuine: an allowed origin, and the field `csrf` equal to the
/// cookie.
pub(crate) fn is_genuine(site: &Site, headers: &HeaderMap, fields: &Fields) -> bool {
    if crate::cookies::check_origin(headers, &site.app.config).is_err() {
        return false;
    }
    let (Some(cookie), Some(field)) = (
        cookie_jar::get(headers, COOKIE, site.https()),
        fields.get("csrf"),
    ) else {
        return false;
    };
    bool::from(cookie.as_bytes().ct_eq(field.as_bytes()))
}
