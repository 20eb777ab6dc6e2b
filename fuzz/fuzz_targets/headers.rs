//! Arbitrary `Cookie`, `Authorization`, `Origin` and `Sec-Fetch-Site` headers through the
//! cookie reader, the bearer-token reader and the CSRF check; and tokens through
//! `Set-Cookie` / `Authorization` and back.
//!
//! Invariants: nothing panics; a cookie or bearer token found is non-empty and was in the
//! headers; `Set-Cookie` of a token sent back as `Cookie` reads as the same token, and so does
//! `Bearer <token>`; the CSRF check lets an `Origin` through only if it is allowed, and a
//! refusal is the contract's 403 JSON error.
#![no_main]

use authgate_fuzz::block_on;
use authgate_http::cookies::{
    check_origin, cookie_named, refresh_cookie, set_access_cookie, set_refresh_cookie,
};
use authgate_http::fuzzing::bearer_token;
use authgate_http::HttpConfig;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    cookies: Vec<Vec<u8>>,
    authorizations: Vec<Vec<u8>>,
    origin: Option<Vec<u8>>,
    sec_fetch_site: Option<Vec<u8>>,
    token: String,
    cookie_name: String,
}

const ALLOWED: &str = "https://app.example.com";

fn headers(input: &Input) -> HeaderMap {
    let mut h = HeaderMap::new();
    let mut add = |name: header::HeaderName, raw: &[u8]| {
        if let Ok(v) = HeaderValue::from_bytes(raw) {
            h.append(name, v);
        }
    };
    for c in &input.cookies {
        add(header::COOKIE, c);
    }
    for a in &input.authorizations {
        add(header::AUTHORIZATION, a);
    }
    if let Some(o) = &input.origin {
        add(header::ORIGIN, o);
    }
    if let Some(s) = &input.sec_fetch_site {
        add(header::HeaderName::from_static("sec-fetch-site"), s);
    }
    h
}

/// RFC 6265 cookie-octets: what a token may hold to travel in a cookie unquoted.
fn is_cookie_octet(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x2B' | '\x2D'..='\x3A' | '\x3C'..='\x5B' | '\x5D'..='\x7E')
}

fn cookie_texts(h: &HeaderMap) -> Vec<String> {
    h.get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect()
}

fn check_read_side(input: &Input, h: &HeaderMap) {
    if let Some(v) = refresh_cookie(h) {
        assert!(!v.is_empty());
        assert!(!v.contains(';'), "{v:?}");
        assert!(
            cookie_texts(h).iter().any(|t| t.contains(v.as_str())),
            "{v:?} not sent"
        );
    }
    if let Some(v) = cookie_named(h, &input.cookie_name) {
        assert!(!v.is_empty());
        assert!(
            cookie_texts(h).iter().any(|t| t.contains(v.as_str())),
            "{v:?} not sent"
        );
    }
    if let Some(t) = bearer_token(h) {
        assert!(!t.is_empty());
        assert_eq!(t, t.trim());
        let first = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let first = first.expect("a token comes from an Authorization header");
        assert!(first[..7].eq_ignore_ascii_case("bearer "), "{first:?}");
        assert!(first.contains(t));
    }
}

fn check_csrf(h: &HeaderMap) {
    let config = HttpConfig {
        allowed_origins: vec![ALLOWED.into()],
        ..HttpConfig::default()
    };
    match check_origin(h, &config) {
        Ok(()) => {
            if let Some(o) = h.get(header::ORIGIN) {
                let o = String::from_utf8_lossy(o.as_bytes());
                assert!(
                    o.trim_end_matches('/').eq_ignore_ascii_case(ALLOWED),
                    "{o:?} let through"
                );
            } else if let Some(s) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
                // A value that is not visible ASCII counts as absent: browsers send only
                // the four tokens, and a client that is not a browser may omit it anyway.
                assert!(matches!(s, "same-origin" | "none"), "{s:?} let through");
            }
        }
        Err(e) => {
            let response = e.into_response();
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
            let bytes = block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
                .expect("an in-memory body");
            let json: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON error");
            assert!(
                json["message"].is_string() && json["code"].is_string(),
                "{json}"
            );
        }
    }
}

fn check_round_trips(token: &str) {
    let token: String = token
        .chars()
        .filter(|c| is_cookie_octet(*c))
        .take(512)
        .collect();
    if token.is_empty() {
        return;
    }
    let config = HttpConfig {
        access_cookie: Some("ag_access".into()),
        cookie_domain: Some("example.com".into()),
        ..HttpConfig::default()
    };
    for (set, name) in [
        (set_refresh_cookie(&config, &token, 60), "refreshToken"),
        (
            set_access_cookie(&config, &token, 60).expect("configured"),
            "ag_access",
        ),
    ] {
        let pair = set
            .to_str()
            .expect("ASCII")
            .split(';')
            .next()
            .unwrap_or("")
            .to_owned();
        let mut h = HeaderMap::new();
        let sent = format!("theme=dark; {pair}; other=1");
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&sent).expect("a valid header"),
        );
        assert_eq!(
            cookie_named(&h, name).as_deref(),
            Some(token.as_str()),
            "{sent:?}"
        );
    }
    let mut h = HeaderMap::new();
    let auth = HeaderValue::from_str(&format!("Bearer {token}")).expect("a valid header");
    h.insert(header::AUTHORIZATION, auth);
    assert_eq!(bearer_token(&h), Some(token.as_str()));
}

fuzz_target!(|input: Input| {
    let h = headers(&input);
    check_read_side(&input, &h);
    check_csrf(&h);
    check_round_trips(&input.token);
});
