//! The listener's settings: header read timeout, connection cap, HTTPS files, redirect.

use super::*;

#[test]
fn by_default_headers_get_ten_seconds_connections_are_capped_automatically_and_tls_is_off() {
    let c = load(&[]).unwrap();
    assert_eq!(c.net.header_read_timeout, Duration::from_secs(10));
    assert_eq!(c.net.max_connections, None);
    assert!((1..=10_000).contains(&c.net.max_connections()));
    assert!(c.net.tls.is_none() && c.net.http_redirect_addr.is_none());
    assert!(
        c.summary().contains("max_connections=auto ("),
        "{}",
        c.summary()
    );
}

#[test]
fn the_timeout_and_the_cap_are_read_from_their_variables() {
    let c = load(&[
        ("AUTHGATE_HEADER_READ_TIMEOUT", "3s"),
        ("AUTHGATE_MAX_CONNECTIONS", "250"),
    ])
    .unwrap();
    assert_eq!(c.net.header_read_timeout, Duration::from_secs(3));
    assert_eq!(c.net.max_connections(), 250);
    let p = problems(&[("AUTHGATE_HEADER_READ_TIMEOUT", "0s")]);
    assert!(p[0].starts_with("AUTHGATE_HEADER_READ_TIMEOUT: "), "{p:?}");
    let p = problems(&[("AUTHGATE_MAX_CONNECTIONS", "0")]);
    assert!(p[0].starts_with("AUTHGATE_MAX_CONNECTIONS: "), "{p:?}");
}

#[test]
fn a_certificate_without_a_key_or_a_key_without_a_certificate_names_the_missing_variable() {
    let p = problems(&[("AUTHGATE_TLS_CERT_FILE", "/etc/authgate/chain.pem")]);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("AUTHGATE_TLS_KEY_FILE: must be set"),
        "{p:?}"
    );
    let p = problems(&[("AUTHGATE_TLS_KEY_FILE", "/etc/authgate/key.pem")]);
    assert!(
        p[0].starts_with("AUTHGATE_TLS_CERT_FILE: must be set"),
        "{p:?}"
    );
}

#[test]
fn with_tls_the_default_public_url_is_https_and_cookies_are_secure() {
    let c = load(&[
        ("AUTHGATE_TLS_CERT_FILE", "/etc/authgate/chain.pem"),
        ("AUTHGATE_TLS_KEY_FILE", "/etc/authgate/key.pem"),
        ("AUTHGATE_HTTP_REDIRECT_ADDR", "0.0.0.0:80"),
    ])
    .unwrap();
    assert_eq!(c.public_url(), "https://127.0.0.1:8080");
    assert!(c.http_config().cookie_secure);
    assert_eq!(
        c.net.http_redirect_addr,
        Some("0.0.0.0:80".parse().unwrap())
    );
}

#[test]
fn a_redirect_listener_needs_an_https_public_url() {
    let p = problems(&[("AUTHGATE_HTTP_REDIRECT_ADDR", "0.0.0.0:80")]);
    assert!(
        p[0].starts_with("AUTHGATE_HTTP_REDIRECT_ADDR: redirects to https"),
        "{p:?}"
    );
    let behind_a_proxy = load(&[
        ("AUTHGATE_HTTP_REDIRECT_ADDR", "0.0.0.0:80"),
        ("AUTHGATE_PUBLIC_URL", "https://auth.example.com"),
    ]);
    assert!(behind_a_proxy.is_ok());
}
