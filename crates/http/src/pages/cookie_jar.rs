//! The pages' cookies: HttpOnly, `SameSite=Lax`, `Path=/`, `Secure` and `__Host-`-prefixed
//! when the public URL is https (the prefix makes the browser refuse such a cookie set by a
//! sibling subdomain or over http, so nobody can plant one).

use axum::http::{HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};

/// The name of cookie `base`: `__Host-base` on https, `base` otherwise (browsers accept the
/// prefix only on `Secure` cookies).
pub(crate) fn name(base: &str, https: bool) -> String {
    if https {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

/// `Set-Cookie` for `base` = `value`, living `max_age_secs` (`None`: until the browser
/// closes).
pub(crate) fn set(base: &str, value: &str, max_age_secs: Option<i64>, https: bool) -> HeaderValue {
    let mut cookie = Cookie::build((name(base, https), value.to_owned()))
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Lax)
        .path("/");
    if let Some(secs) = max_age_secs {
        cookie = cookie.max_age(cookie::time::Duration::seconds(secs));
    }
    HeaderValue::from_str(&cookie.build().to_string()).expect("cookie text is a header value")
}

/// `Set-Cookie` that removes `base`.
pub(crate) fn clear(base: &str, https: bool) -> HeaderValue {
    set(base, "", Some(0), https)
}

/// The value of cookie `base` in the request, if present and not empty.
pub(crate) fn get(headers: &HeaderMap, base: &str, https: bool) -> Option<String> {
    crate::cookies::cookie_named(headers, &name(base, https))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_https_cookies_are_host_prefixed_secure_and_scoped_to_the_whole_origin() {
        let v = set("authgate-session", "x", Some(60), true);
        let text = v.to_str().unwrap();
        for part in [
            "__Host-authgate-session=x",
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
        assert!(!text.contains("Domain"), "{text}");
    }

    #[test]
    fn on_http_cookies_have_no_prefix_and_no_secure_flag() {
        let text = set("authgate-csrf", "x", None, false)
            .to_str()
            .unwrap()
            .to_owned();
        assert!(text.starts_with("authgate-csrf=x"), "{text}");
        assert!(
            !text.contains("Secure") && !text.contains("Max-Age"),
            "{text}"
        );
    }
}
