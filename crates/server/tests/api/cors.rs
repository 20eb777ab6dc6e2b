//! CORS for browser apps on other origins: only the origins of `AUTHGATE_ALLOWED_ORIGINS`,
//! matched exactly, get CORS headers; never `*`; credentials allowed; preflights 204.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Answer, TestApp};

const APP: &str = "http://127.0.0.1:5173";

async fn spawn_with_app_origin() -> TestApp {
    TestApp::spawn_with(&[("AUTHGATE_ALLOWED_ORIGINS", APP)]).await
}

/// A request with `Origin` and extra headers; the raw response.
async fn from_origin(
    app: &TestApp,
    method: Method,
    path: &str,
    origin: Option<&str>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = app.api.request(method, app.url(path));
    if let Some(origin) = origin {
        req = req.header("origin", origin);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.expect("request sent")
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    let headers = [
        ("access-control-request-method", "POST"),
        (
            "access-control-request-headers",
            "authorization, content-type, x-request-id",
        ),
    ];
    from_origin(app, Method::OPTIONS, path, Some(origin), &headers).await
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The comma-separated items of a header, lower-cased.
fn items(res: &reqwest::Response, name: &str) -> Vec<String> {
    res.headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|i| i.trim().to_ascii_lowercase())
        .collect()
}

fn cors_headers(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_gets_204_with_methods_headers_and_max_age() {
    let app = spawn_with_app_origin().await;

    let res = preflight(&app, "/api/auth/login", APP).await;

    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&res, "access-control-allow-origin"), Some(APP));
    assert_eq!(
        header(&res, "access-control-allow-credentials"),
        Some("true")
    );
    let methods = items(&res, "access-control-allow-methods");
    for m in ["get", "post", "delete"] {
        assert!(methods.contains(&m.to_owned()), "{methods:?}");
    }
    let allowed = items(&res, "access-control-allow-headers");
    for h in ["authorization", "content-type", "x-request-id"] {
        assert!(allowed.contains(&h.to_owned()), "{allowed:?}");
    }
    let max_age: u64 = header(&res, "access-control-max-age")
        .and_then(|v| v.parse().ok())
        .expect("a numeric Access-Control-Max-Age");
    assert!(max_age > 0);
    assert!(items(&res, "vary").contains(&"origin".to_owned()));
    assert!(res.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn an_answer_to_an_allowed_origin_carries_that_origin_credentials_and_exposed_headers() {
    let app = spawn_with_app_origin().await;
    let user = app.register_user().await;

    let res = from_origin(
        &app,
        Method::GET,
        "/api/auth/me",
        Some(APP),
        &[("authorization", &format!("Bearer {}", user.access))],
    )
    .await;

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "access-control-allow-origin"), Some(APP));
    assert_eq!(
        header(&res, "access-control-allow-credentials"),
        Some("true")
    );
    let exposed = items(&res, "access-control-expose-headers");
    for h in [
        "retry-after",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "x-request-id",
    ] {
        assert!(exposed.contains(&h.to_owned()), "{exposed:?}");
    }
    assert!(items(&res, "vary").contains(&"origin".to_owned()));
}

#[tokio::test]
async fn errors_reach_the_allowed_origin_with_cors_headers_too() {
    let app = spawn_with_app_origin().await;

    let res = from_origin(&app, Method::GET, "/api/auth/me", Some(APP), &[]).await;

    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&res, "access-control-allow-origin"), Some(APP));
    Answer::of(res)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn a_rate_limited_answer_shows_the_allowed_origin_its_retry_after_and_ratelimit_headers() {
    let app = TestApp::spawn_with(&[
        ("AUTHGATE_ALLOWED_ORIGINS", APP),
        ("AUTHGATE_RATE_LIMIT_FORGOT_PASSWORD", "1/min"),
    ])
    .await;
    let forgot = |app: &TestApp| {
        app.api
            .post(app.url("/api/auth/forgot-password"))
            .header("origin", APP)
            .json(&json!({ "email": "ada@example.com" }))
            .send()
    };
    assert_eq!(forgot(&app).await.unwrap().status(), StatusCode::OK);

    let res = forgot(&app).await.expect("sent");

    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&res, "access-control-allow-origin"), Some(APP));
    let exposed = items(&res, "access-control-expose-headers");
    for sent in [
        "retry-after",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
    ] {
        assert!(res.headers().contains_key(sent), "the server sends {sent}");
        assert!(
            exposed.contains(&sent.to_owned()),
            "{sent} is not exposed: {exposed:?}"
        );
    }
}

#[tokio::test]
async fn a_foreign_origin_gets_no_cors_headers_and_its_preflight_is_refused() {
    let app = spawn_with_app_origin().await;

    for origin in [
        "https://evil.example",
        "http://127.0.0.1:5174",
        "https://127.0.0.1:5173",
        "http://127.0.0.1:5173.evil.example",
        "null",
    ] {
        let res = from_origin(&app, Method::POST, "/api/auth/refresh", Some(origin), &[]).await;
        assert!(
            cors_headers(&res).is_empty(),
            "{origin}: {:?}",
            res.headers()
        );
        assert!(
            items(&res, "vary").contains(&"origin".to_owned()),
            "{origin}"
        );

        let pre = preflight(&app, "/api/auth/login", origin).await;
        assert!(
            cors_headers(&pre).is_empty(),
            "{origin}: {:?}",
            pre.headers()
        );
        Answer::of(pre)
            .await
            .assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    }
}

#[tokio::test]
async fn a_request_without_origin_gets_no_cors_headers() {
    let app = spawn_with_app_origin().await;

    let res = from_origin(&app, Method::GET, "/health", None, &[]).await;

    assert_eq!(res.status(), StatusCode::OK);
    assert!(cors_headers(&res).is_empty(), "{:?}", res.headers());
}

#[tokio::test]
async fn an_options_request_that_is_not_a_preflight_is_answered_as_an_unsupported_method() {
    let app = spawn_with_app_origin().await;

    let res = from_origin(&app, Method::OPTIONS, "/api/auth/login", Some(APP), &[]).await;

    Answer::of(res)
        .await
        .assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn the_public_urls_own_origin_is_not_a_cors_origin() {
    let app = spawn_with_app_origin().await;
    let public = app.address.clone();

    let res = preflight(&app, "/api/auth/login", &public).await;

    assert!(cors_headers(&res).is_empty(), "{:?}", res.headers());
}

#[tokio::test]
async fn without_allowed_origins_no_answer_has_cors_headers() {
    let app = TestApp::spawn().await;

    let res = preflight(&app, "/api/auth/login", APP).await;
    assert!(cors_headers(&res).is_empty(), "{:?}", res.headers());
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);

    let res = from_origin(&app, Method::GET, "/health", Some(APP), &[]).await;
    assert!(cors_headers(&res).is_empty(), "{:?}", res.headers());
}

#[tokio::test]
async fn several_allowed_origins_each_get_their_own_origin_back_never_a_wildcard() {
    let other = "https://app.example.com";
    let app =
        TestApp::spawn_with(&[("AUTHGATE_ALLOWED_ORIGINS", &format!("{APP}, {other}"))]).await;

    for origin in [APP, other] {
        let res = from_origin(&app, Method::GET, "/health", Some(origin), &[]).await;
        assert_eq!(header(&res, "access-control-allow-origin"), Some(origin));
        let pre = preflight(&app, "/api/auth/refresh", origin).await;
        assert_eq!(header(&pre, "access-control-allow-origin"), Some(origin));
        assert_ne!(header(&pre, "access-control-allow-headers"), Some("*"));
    }
}
