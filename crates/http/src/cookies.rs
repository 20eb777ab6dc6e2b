//! The cookies (the `refreshToken` cookie, and the optional access-token cookie that
//! forward-auth reads), and the CSRF check for requests that carry the refresh cookie.

use axum::http::{header, HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};

use crate::config::{CookieSameSite, HttpConfig};
use crate::error::ApiError;

/// The cookie's name, as the user's notes use it.
pub const REFRESH_COOKIE: &str = "refreshToken";
/// The cookie is sent only to the API's own paths.
pub const COOKIE_PATH: &str = "/api/auth";

/// `Set-Cookie` for a refresh token living `max_age_secs`.
pub fn set_refresh_cookie(config: &HttpConfig, token: &str, max_age_secs: i64) -> HeaderValue {
    cookie_header(config, REFRESH_COOKIE, token, COOKIE_PATH, max_age_secs)
}

/// `Set-Cookie` that removes the refresh cookie.
pub fn clear_refresh_cookie(config: &HttpConfig) -> HeaderValue {
    cookie_header(config, REFRESH_COOKIE, "", COOKIE_PATH, 0)
}

/// `Set-Cookie` for an access token in the cookie named by `AUTHGATE_ACCESS_COOKIE`, for
/// every path of the site (forward-auth reads it on the application's requests); `None`
/// when no such cookie is configured. Living no longer than the token itself.
pub fn set_access_cookie(
    config: &HttpConfig,
    token: &str,
    max_age_secs: i64,
) -> Option<HeaderValue> {
    let name = config.access_cookie.as_deref()?;
    Some(cookie_header(config, name, token, "/", max_age_secs))
}

/// `Set-Cookie` that removes the access-token cookie, if one is configured.
pub fn clear_access_cookie(config: &HttpConfig) -> Option<HeaderValue> {
    let name = config.access_cookie.as_deref()?;
    Some(cookie_header(config, name, "", "/", 0))
}

/// An `HttpOnly` cookie with the configured `SameSite`, `Domain` and `Secure`.
fn cookie_header(
    config: &HttpConfig,
    name: &str,
    value: &str,
    path: &'static str,
    max_age_secs: i64,
) -> HeaderValue {
    let same_site = match config.cookie_same_site {
        CookieSameSite::Lax => SameSite::Lax,
        CookieSameSite::Strict => SameSite::Strict,
        CookieSameSite::None => SameSite::None,
    };
    let mut cookie = Cookie::build((name.to_owned(), value.to_owned()))
        .http_only(true)
        .secure(config.cookie_secure)
        .same_site(same_site)
        .path(path)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    if let Some(domain) = &config.cookie_domain {
        cookie.set_domain(domain.clone());
    }
    HeaderValue::from_str(&cookie.to_string()).expect("cookie text is a valid header value")
}

/// The value of the cookie `name` in the request, if present and not empty.
pub fn cookie_named(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name && !c.value().is_empty())
        .map(|c| c.value().to_owned())
}

/// The refresh token from the request's cookies, if any.
pub fn refresh_cookie(headers: &HeaderMap) -> Option<String> {
    cookie_named(headers, REFRESH_COOKIE)
}

/// Refuses a cookie-carried request that a browser sent on behalf of another site.
///
/// Browsers send `Origin` on every cross-origin POST (and on same-origin POSTs), so: an
/// `Origin` must be the public URL's origin or listed in `AUTHGATE_ALLOWED_ORIGINS`; without
/// `Origin`, a `Sec-Fetch-Site` other than `same-origin` or `none` is refused; with neither,
/// a `Referer` from another origin is refused. A request with none of the three does not
/// come from a browser page (curl, a server, a mobile app) and cannot be a cross-site forgery.
pub fn check_origin(headers: &HeaderMap, config: &HttpConfig) -> Result<(), ApiError> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = String::from_utf8_lossy(origin.as_bytes());
        return if is_allowed(config, &origin) {
            Ok(())
        } else {
            Err(ApiError::CsrfRejected {
                seen: format!("Origin {}", shown(&origin)),
            })
        };
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("same-origin") | Some("none") => Ok(()),
        None => check_referer(headers, config),
        Some(site) => Err(ApiError::CsrfRejected {
            seen: format!("no Origin header and Sec-Fetch-Site {}", shown(site)),
        }),
    }
}

/// With neither `Origin` nor `Sec-Fetch-Site` (an older browser, or a privacy extension
/// that strips them), a `Referer` still tells where the request came from: its origin must
/// be allowed, as the contract's "Origin/Referer check" says. No `Referer` at all: not a
/// browser's cross-site request (or one whose page asked for none; `SameSite=Lax` keeps the
/// cookie off those cross-site POSTs anyway).
fn check_referer(headers: &HeaderMap, config: &HttpConfig) -> Result<(), ApiError> {
    let Some(referer) = headers.get(header::REFERER) else {
        return Ok(());
    };
    let origin = std::str::from_utf8(referer.as_bytes())
        .ok()
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| u.origin())
        .filter(url::Origin::is_tuple)
        .map(|o| o.ascii_serialization());
    match origin {
        Some(origin) if is_allowed(config, &origin) => Ok(()),
        Some(origin) => Err(ApiError::CsrfRejected {
            seen: format!("no Origin header and a Referer from {}", shown(&origin)),
        }),
        None => Err(ApiError::CsrfRejected {
            seen: "no Origin header and a Referer that is not a URL".into(),
        }),
    }
}

/// Whether `origin` is the public URL's origin or one of `AUTHGATE_ALLOWED_ORIGINS`.
fn is_allowed(config: &HttpConfig, origin: &str) -> bool {
    let bare = origin.trim_end_matches('/');
    config
        .allowed_origins
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(bare))
}

/// A header value quoted for an error message: at most 100 characters, control characters
/// replaced.
fn shown(value: &str) -> String {
    let cut: String = value
        .chars()
        .take(100)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    format!("{cut:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> HttpConfig {
        HttpConfig {
            allowed_origins: vec!["https://app.example.com".into()],
            ..HttpConfig::default()
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn an_allowed_origin_passes_and_a_foreign_one_is_refused() {
        assert!(check_origin(
            &headers(&[("origin", "https://app.example.com")]),
            &config()
        )
        .is_ok());
        assert!(check_origin(&headers(&[("origin", "https://evil.example")]), &config()).is_err());
        assert!(check_origin(&headers(&[("origin", "null")]), &config()).is_err());
    }

    #[test]
    fn without_origin_only_cross_site_fetch_metadata_is_refused() {
        assert!(check_origin(&headers(&[]), &config()).is_ok());
        assert!(check_origin(&headers(&[("sec-fetch-site", "same-origin")]), &config()).is_ok());
        assert!(check_origin(&headers(&[("sec-fetch-site", "cross-site")]), &config()).is_err());
        assert!(check_origin(&headers(&[("sec-fetch-site", "same-site")]), &config()).is_err());
    }

    #[test]
    fn the_cookie_is_http_only_lax_and_scoped_to_the_api() {
        let v = set_refresh_cookie(
            &HttpConfig {
                cookie_secure: true,
                ..HttpConfig::default()
            },
            "tok",
            60,
        );
        let text = v.to_str().unwrap();
        for part in [
            "refreshToken=tok",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/api/auth",
            "Max-Age=60",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
    }

    #[test]
    fn the_access_cookie_covers_the_whole_site_with_the_configured_attributes() {
        let config = HttpConfig {
            access_cookie: Some("ag_access".into()),
            cookie_same_site: CookieSameSite::Strict,
            cookie_domain: Some("example.com".into()),
            cookie_secure: true,
            ..HttpConfig::default()
        };
        let set = set_access_cookie(&config, "jwt", 900).expect("a cookie is configured");
        let text = set.to_str().unwrap();
        for part in [
            "ag_access=jwt",
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
            "Path=/",
            "Domain=example.com",
            "Max-Age=900",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
        let cleared = clear_access_cookie(&config).unwrap();
        assert!(cleared.to_str().unwrap().contains("Max-Age=0"));
        assert!(set_access_cookie(&HttpConfig::default(), "jwt", 900).is_none());
    }

    #[test]
    fn the_refresh_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; refreshToken=xyz; b=2")]);
        assert_eq!(refresh_cookie(&h).as_deref(), Some("xyz"));
    }
}
