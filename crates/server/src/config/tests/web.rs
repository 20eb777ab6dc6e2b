//! The settings for browsers and other services: cookies, CORS origins, introspection
//! secrets, the access-token cookie and the login URL.

use super::*;
use authgate_http::CookieSameSite;

#[test]
fn by_default_cookies_are_lax_and_host_only_and_nothing_else_is_on() {
    let c = load(&[]).unwrap();
    assert_eq!(c.cookie_same_site, CookieSameSite::Lax);
    assert!(c.cookie_domain.is_none());
    let http = c.http_config();
    assert_eq!(http.cookie_same_site, CookieSameSite::Lax);
    assert!(http.cors_origins.is_empty(), "no CORS origin by default");
    assert_eq!(http.public_origin, "http://127.0.0.1:8080");
}

#[test]
fn the_allowed_origins_get_cors_but_the_public_origin_only_the_cookie_and_redirects() {
    let c = load(&[
        ("AUTHGATE_PUBLIC_URL", "https://auth.example.com/base"),
        (
            "AUTHGATE_ALLOWED_ORIGINS",
            "http://127.0.0.1:5173, https://app.example.com/",
        ),
    ])
    .unwrap();
    let http = c.http_config();
    assert_eq!(
        http.cors_origins,
        ["http://127.0.0.1:5173", "https://app.example.com"]
    );
    assert_eq!(
        http.allowed_origins,
        [
            "https://auth.example.com",
            "http://127.0.0.1:5173",
            "https://app.example.com"
        ]
    );
    assert_eq!(http.public_origin, "https://auth.example.com");
}

#[test]
fn samesite_takes_lax_strict_or_none_and_none_needs_an_https_public_url() {
    let strict = load(&[("AUTHGATE_COOKIE_SAMESITE", "Strict")]).unwrap();
    assert_eq!(
        strict.http_config().cookie_same_site,
        CookieSameSite::Strict
    );

    let none = load(&[
        ("AUTHGATE_COOKIE_SAMESITE", "none"),
        ("AUTHGATE_PUBLIC_URL", "https://auth.example.com"),
    ])
    .unwrap();
    assert_eq!(none.http_config().cookie_same_site, CookieSameSite::None);
    assert!(none.http_config().cookie_secure);

    let refused = problems(&[("AUTHGATE_COOKIE_SAMESITE", "none")]);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0].starts_with("AUTHGATE_COOKIE_SAMESITE: ")
            && refused[0].contains("https")
            && refused[0].contains("AUTHGATE_PUBLIC_URL"),
        "{refused:?}"
    );
    let bad = problems(&[("AUTHGATE_COOKIE_SAMESITE", "sometimes")]);
    assert!(
        bad[0].starts_with("AUTHGATE_COOKIE_SAMESITE: \"sometimes\""),
        "{bad:?}"
    );
}

#[test]
fn the_cookie_domain_must_contain_the_public_urls_host() {
    let c = load(&[
        ("AUTHGATE_PUBLIC_URL", "https://auth.example.com"),
        ("AUTHGATE_COOKIE_DOMAIN", ".Example.com"),
    ])
    .unwrap();
    assert_eq!(
        c.http_config().cookie_domain.as_deref(),
        Some("example.com")
    );

    let foreign = problems(&[
        ("AUTHGATE_PUBLIC_URL", "https://auth.example.com"),
        ("AUTHGATE_COOKIE_DOMAIN", "example.org"),
    ]);
    assert!(
        foreign[0].starts_with("AUTHGATE_COOKIE_DOMAIN: ")
            && foreign[0].contains("auth.example.com"),
        "{foreign:?}"
    );
    let garbage = problems(&[("AUTHGATE_COOKIE_DOMAIN", "https://example.com")]);
    assert!(
        garbage[0].starts_with("AUTHGATE_COOKIE_DOMAIN: "),
        "{garbage:?}"
    );
}
