//! The `refreshToken` cookie, and the CSRF check for requests that carry it.

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
/// `Origin`, a `Sec-Fetch-Site` other than `same-origin` or `none` is refused. A request with
/// neither header does not come from a modern browser (curl, a server, a mobile app) and
/// cannot be a cross-site forgery.
pub fn check_origin(headers: &HeaderMap, config: &HttpConfig) -> Result<(), ApiError> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = String::from_utf8_lossy(origin.as_bytes());
        let bare = origin.trim_end_matches('/');
        let allowed = config
            .allowed_origins
            .iter()
            .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(bare));
        return if allowed {
            Ok(())
        } else {
            Err(ApiError::CsrfRejected {
                seen: format!("Origin {}", shown(&origin)),
            })
        };
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        None | Some("same-origin") | Some("none") => Ok(()),
        Some(site) => Err(ApiError::CsrfRejected {
            seen: format!("no Origin header and Sec-Fetch-Site {}", shown(site)),
        }),
    }
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
    fn the_refresh_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; refreshToken=xyz; b=2")]);
        assert_eq!(refresh_cookie(&h).as_deref(), Some("xyz"));
    }
}
