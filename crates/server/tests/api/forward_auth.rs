//! GET /api/auth/forward-auth (Traefik, Caddy) and /api/auth/auth-request (nginx), asked
//! directly as a proxy would: the `Remote-*` headers, 401/403, the role guard, the login
//! redirect with a safe `rd`, and the access-token cookie. `nginx.rs` runs them behind a real
//! nginx.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{jwt_part, unique_email, Answer, TestApp, TestUser, PASSWORD};

const FORWARD_AUTH: &str = "/api/auth/forward-auth";
const AUTH_REQUEST: &str = "/api/auth/auth-request";
const LOGIN: &str = "https://auth.example.com/login";
const APP: &str = "https://app.example.com";

/// A proxy's check: `path` with a bearer token (if any) and extra headers.
async fn ask(
    app: &TestApp,
    path: &str,
    bearer: Option<&str>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    ask_with(app, Method::GET, path, bearer, headers).await
}

async fn ask_with(
    app: &TestApp,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = app.api.request(method, app.url(path));
    if let Some(bearer) = bearer {
        req = req.bearer_auth(bearer);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.expect("sent")
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).and_then(|v| v.to_str().ok())
}

/// An authgate that redirects browsers to `LOGIN`, believes forwarded headers from the test
/// (127.0.0.1) and accepts `APP` as a place to come back to.
async fn spawn_behind_proxy() -> TestApp {
    TestApp::spawn_with(&[
        ("AUTHGATE_LOGIN_URL", LOGIN),
        ("AUTHGATE_TRUSTED_PROXIES", "127.0.0.1"),
        ("AUTHGATE_ALLOWED_ORIGINS", APP),
        ("AUTHGATE_SELF_ASSIGNABLE_ROLES", "admin"),
    ])
    .await
}

async fn ada(app: &TestApp) -> TestUser {
    app.register_with(json!({
        "email": unique_email(), "username": "ada_l", "password": PASSWORD,
        "firstName": "Ada", "lastName": "Lovelace"
    }))
    .await
}

const BROWSER: (&str, &str) = ("accept", "text/html,application/xhtml+xml,*/*;q=0.8");

#[tokio::test]
async fn a_live_session_gets_200_with_the_remote_headers_on_both_endpoints() {
    let app = spawn_behind_proxy().await;
    let user = ada(&app).await;
    let sid = jwt_part(&user.access, 1)["sid"]
        .as_str()
        .unwrap()
        .to_owned();

    for path in [FORWARD_AUTH, AUTH_REQUEST] {
        let res = ask(&app, path, Some(&user.access), &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, "remote-user"), Some("ada_l"), "{path}");
        assert_eq!(
            header(&res, "remote-email"),
            Some(user.email.as_str()),
            "{path}"
        );
        assert_eq!(header(&res, "remote-name"), Some("Ada Lovelace"), "{path}");
        assert_eq!(header(&res, "remote-groups"), Some("user"), "{path}");
        assert_eq!(
            header(&res, "remote-user-id"),
            Some(user.id.as_str()),
            "{path}"
        );
        assert_eq!(
            header(&res, "remote-session-id"),
            Some(sid.as_str()),
            "{path}"
        );
        assert_eq!(res.bytes().await.unwrap().len(), 0, "{path}: no body");
    }
}

#[tokio::test]
async fn remote_user_is_the_email_when_the_account_has_no_username() {
    let app = spawn_behind_proxy().await;
    let user = app.register_user().await;

    let res = ask(&app, FORWARD_AUTH, Some(&user.access), &[]).await;

    assert_eq!(header(&res, "remote-user"), Some(user.email.as_str()));
    assert_eq!(header(&res, "remote-name"), Some("Ada Lovelace"));
}

#[tokio::test]
async fn no_token_gets_401_with_www_authenticate_on_both_endpoints() {
    let app = spawn_behind_proxy().await;

    for path in [FORWARD_AUTH, AUTH_REQUEST] {
        let res = Answer::of(ask(&app, path, None, &[]).await).await;
        res.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
        assert_eq!(res.header("www-authenticate"), Some("Bearer"), "{path}");
        assert_eq!(
            res.header("location"),
            None,
            "{path}: not a browser navigation"
        );
        assert_eq!(res.header("remote-user"), None, "{path}");
    }
}

#[tokio::test]
async fn a_token_whose_session_logged_out_gets_401_on_the_next_request() {
    let app = spawn_behind_proxy().await;
    let user = ada(&app).await;
    assert_eq!(
        ask(&app, AUTH_REQUEST, Some(&user.access), &[])
            .await
            .status(),
        StatusCode::OK
    );

    assert_eq!(
        app.logout(&user.access, None).await.status(),
        StatusCode::OK
    );

    for path in [FORWARD_AUTH, AUTH_REQUEST] {
        let res = ask(&app, path, Some(&user.access), &[]).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test]
async fn the_role_guard_lets_listed_roles_through_and_refuses_others_with_403() {
    let app = spawn_behind_proxy().await;
    let user = ada(&app).await;
    let admin = app
        .register_with(json!({ "email": unique_email(), "password": PASSWORD, "name": "Root", "role": "admin" }))
        .await;

    let refused = Answer::of(
        ask(
            &app,
            &format!("{FORWARD_AUTH}?role=admin"),
            Some(&user.access),
            &[],
        )
        .await,
    )
    .await;
    refused.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let refused = ask(
        &app,
        &format!("{AUTH_REQUEST}?role=admin,ops"),
        Some(&user.access),
        &[BROWSER],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        header(&refused, "location"),
        None,
        "a 403 is not a login redirect"
    );

    for (token, query) in [
        (&user.access, "role=admin,user"),
        (&user.access, "role=admin&role=user"),
        (&admin.access, "role=admin"),
        (&user.access, "role="),
    ] {
        let res = ask(&app, &format!("{AUTH_REQUEST}?{query}"), Some(token), &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "{query}");
    }
    let res = ask(
        &app,
        &format!("{FORWARD_AUTH}?role=admin"),
        Some(&admin.access),
        &[],
    )
    .await;
    assert_eq!(header(&res, "remote-groups"), Some("admin"));
}

#[tokio::test]
async fn the_access_cookie_is_read_when_configured_and_ignored_otherwise() {
    let with = TestApp::spawn_with(&[("AUTHGATE_ACCESS_COOKIE", "ag_access")]).await;
    let user = with.register_user().await;
    let cookie = format!("theme=dark; ag_access={}", user.access);

    let res = ask(&with, FORWARD_AUTH, None, &[("cookie", &cookie)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "remote-user-id"), Some(user.id.as_str()));

    let without = TestApp::spawn().await;
    let user = without.register_user().await;
    let cookie = format!("ag_access={}", user.access);
    let res = ask(&without, FORWARD_AUTH, None, &[("cookie", &cookie)]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_browser_navigation_is_sent_to_the_login_url_with_the_original_url_as_rd() {
    let app = spawn_behind_proxy().await;
    let forwarded = [
        BROWSER,
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "app.example.com"),
        ("x-forwarded-uri", "/orders?id=7&page=2"),
    ];
    let expected = format!(
        "{LOGIN}?rd={}",
        "https%3A%2F%2Fapp.example.com%2Forders%3Fid%3D7%26page%3D2"
    );

    let traefik = ask(&app, FORWARD_AUTH, None, &forwarded).await;
    assert_eq!(traefik.status(), StatusCode::FOUND);
    assert_eq!(header(&traefik, "location"), Some(expected.as_str()));

    let nginx = ask(
        &app,
        AUTH_REQUEST,
        None,
        &[
            BROWSER,
            (
                "x-original-url",
                "https://app.example.com/orders?id=7&page=2",
            ),
        ],
    )
    .await;
    assert_eq!(
        nginx.status(),
        StatusCode::UNAUTHORIZED,
        "nginx only understands 401"
    );
    assert_eq!(header(&nginx, "location"), Some(expected.as_str()));
}

#[tokio::test]
async fn a_login_url_with_a_query_keeps_it_and_adds_rd() {
    let app = TestApp::spawn_with(&[
        (
            "AUTHGATE_LOGIN_URL",
            "https://auth.example.com/login?theme=dark",
        ),
        ("AUTHGATE_TRUSTED_PROXIES", "127.0.0.1"),
        ("AUTHGATE_ALLOWED_ORIGINS", APP),
    ])
    .await;

    let res = ask(
        &app,
        FORWARD_AUTH,
        None,
        &[BROWSER, ("x-original-url", "https://app.example.com/")],
    )
    .await;

    assert_eq!(
        header(&res, "location"),
        Some("https://auth.example.com/login?theme=dark&rd=https%3A%2F%2Fapp.example.com%2F")
    );
}

#[tokio::test]
async fn a_foreign_or_unsafe_rd_is_dropped_but_the_browser_still_goes_to_log_in() {
    let app = spawn_behind_proxy().await;

    for original in [
        "https://evil.example/steal",
        "http://app.example.com/",
        "javascript:alert(1)",
        "//evil.example/",
        "https://app.example.com.evil.example/",
    ] {
        let res = ask(
            &app,
            FORWARD_AUTH,
            None,
            &[BROWSER, ("x-original-url", original)],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FOUND, "{original}");
        assert_eq!(header(&res, "location"), Some(LOGIN), "{original}");
    }
    let host = [
        BROWSER,
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-uri", "/"),
    ];
    let res = ask(&app, FORWARD_AUTH, None, &host).await;
    assert_eq!(header(&res, "location"), Some(LOGIN));
}

#[tokio::test]
async fn forwarded_headers_from_a_peer_that_is_not_a_trusted_proxy_are_ignored() {
    let app = TestApp::spawn_with(&[
        ("AUTHGATE_LOGIN_URL", LOGIN),
        ("AUTHGATE_ALLOWED_ORIGINS", APP),
    ])
    .await;

    let res = ask(
        &app,
        FORWARD_AUTH,
        None,
        &[
            BROWSER,
            ("x-original-url", "https://app.example.com/orders"),
        ],
    )
    .await;

    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(
        header(&res, "location"),
        Some(LOGIN),
        "no rd from an untrusted peer"
    );
}

#[tokio::test]
async fn without_a_login_url_a_browser_navigation_gets_a_plain_401() {
    let app = TestApp::spawn_with(&[("AUTHGATE_TRUSTED_PROXIES", "127.0.0.1")]).await;

    for path in [FORWARD_AUTH, AUTH_REQUEST] {
        let res = ask(
            &app,
            path,
            None,
            &[BROWSER, ("x-original-url", "http://127.0.0.1/")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(header(&res, "location"), None, "{path}");
    }
}

#[tokio::test]
async fn auth_request_answers_whatever_method_nginx_forwards() {
    let app = spawn_behind_proxy().await;
    let user = ada(&app).await;

    for method in [Method::POST, Method::DELETE, Method::PUT, Method::HEAD] {
        let res = ask_with(&app, method.clone(), AUTH_REQUEST, Some(&user.access), &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "{method}");
        let res = ask_with(&app, method.clone(), AUTH_REQUEST, None, &[]).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method}");
    }
}

#[tokio::test]
async fn forward_auth_is_not_rate_limited_per_client_ip() {
    let app = TestApp::spawn_with(&[
        ("AUTHGATE_RATE_LIMIT_LOGIN", "1/min"),
        ("AUTHGATE_RATE_LIMIT_REFRESH", "1/min"),
    ])
    .await;
    let user = app.register_user().await;

    for round in 0..30 {
        let res = ask(&app, AUTH_REQUEST, Some(&user.access), &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "round {round}");
        let res = ask(&app, FORWARD_AUTH, None, &[]).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "round {round}");
    }
}
