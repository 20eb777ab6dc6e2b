//! Where a browser may be sent back to after logging in (`rd`): never an open redirect.
//!
//! Forward-auth builds `rd` from the proxy's headers, and the hosted pages receive it in a
//! query string: both pass it through [`safe_redirect`] and drop it when it is refused.

use url::Url;

use crate::config::HttpConfig;

/// Longest redirect target accepted, in bytes.
pub const MAX_REDIRECT_BYTES: usize = 2048;

/// `target`, normalized, if it is a safe place to send a browser: an absolute `http(s)` URL
/// whose origin is the public URL's or one of `AUTHGATE_ALLOWED_ORIGINS`
/// ([`HttpConfig::allowed_origins`]), or a path (`/account?tab=2`) on the public URL's
/// origin. `None` for anything else: another site, a scheme-relative `//host` (or `/\host`),
/// `javascript:` and other schemes, credentials in the URL, control characters, more than
/// [`MAX_REDIRECT_BYTES`].
///
/// ```
/// use authgate_http::{redirect::safe_redirect, HttpConfig};
/// let config = HttpConfig {
///     allowed_origins: vec!["https://auth.example.com".into(), "https://app.example.com".into()],
///     public_origin: "https://auth.example.com".into(),
///     ..HttpConfig::default()
/// };
/// assert_eq!(
///     safe_redirect("https://app.example.com/orders?id=7", &config).as_deref(),
///     Some("https://app.example.com/orders?id=7")
/// );
/// assert_eq!(
///     safe_redirect("/account", &config).as_deref(),
///     Some("https://auth.example.com/account")
/// );
/// assert_eq!(safe_redirect("https://evil.example/", &config), None);
/// assert_eq!(safe_redirect("//evil.example/", &config), None);
/// ```
pub fn safe_redirect(target: &str, config: &HttpConfig) -> Option<String> {
    if target.is_empty()
        || target.len() > MAX_REDIRECT_BYTES
        || target.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return None;
    }
    let absolute = target.contains("://");
    if !absolute && !target.starts_with('/') {
        return None;
    }
    let url = Url::parse(&config.public_origin).ok()?.join(target).ok()?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.username().is_empty()
        && url.password().is_none()
        && url.host_str().is_some();
    let origin = url.origin().ascii_serialization();
    let allowed = config.allowed_origins.contains(&origin);
    (plain && allowed).then(|| url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> HttpConfig {
        HttpConfig {
            public_origin: "https://auth.example.com".into(),
            allowed_origins: vec![
                "https://auth.example.com".into(),
                "http://127.0.0.1:5173".into(),
            ],
            ..HttpConfig::default()
        }
    }

    #[test]
    fn urls_on_the_public_or_an_allowed_origin_are_kept() {
        for (target, kept) in [
            ("https://auth.example.com/", "https://auth.example.com/"),
            (
                "https://AUTH.example.com/a/b?c=d#e",
                "https://auth.example.com/a/b?c=d#e",
            ),
            (
                "http://127.0.0.1:5173/orders",
                "http://127.0.0.1:5173/orders",
            ),
            ("/account?tab=2", "https://auth.example.com/account?tab=2"),
        ] {
            assert_eq!(
                safe_redirect(target, &config()).as_deref(),
                Some(kept),
                "{target}"
            );
        }
    }

    #[test]
    fn anything_that_could_leave_the_allowed_origins_is_dropped() {
        for target in [
            "https://evil.example/",
            "http://auth.example.com/",
            "https://auth.example.com.evil.example/",
            "https://auth.example.com:444/",
            "http://127.0.0.1:5174/",
            "//evil.example/",
            "/\\evil.example/",
            "\\\\evil.example/",
            "https:evil.example",
            "javascript:alert(1)",
            "data:text/html,hi",
            "https://user:pass@auth.example.com/",
            "https://auth.example.com/\nSet-Cookie: a=b",
            "https://auth.example.com/ x",
            "account",
            "",
        ] {
            assert_eq!(safe_redirect(target, &config()), None, "{target:?}");
        }
        let long = format!(
            "https://auth.example.com/{}",
            "a".repeat(MAX_REDIRECT_BYTES)
        );
        assert_eq!(safe_redirect(&long, &config()), None);
    }
}
