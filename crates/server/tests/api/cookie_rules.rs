//! The rules for cookies in browser apps: `SameSite` and `Domain` from the settings, logout
//! with a bearer token from any origin, logout by the cookie alone only from an allowed one,
//! and `csrf_rejected` messages that say what to change.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{cookie_attributes, cookie_value, Answer, TestApp, TestUser, PASSWORD};

const EVIL: &str = "https://evil.example";

fn has(set_cookie: &str, attribute: &str) -> bool {
    cookie_attributes(set_cookie).iter().any(|a| a == attribute)
}

/// A logout with the given bearer token (if any), `refreshToken` cookie and headers.
async fn logout(
    app: &TestApp,
    bearer: Option<&str>,
    cookie: &str,
    headers: &[(&str, &str)],
) -> Answer {
    let mut req = app
        .api
        .post(app.url("/api/auth/logout"))
        .header("cookie", format!("refreshToken={cookie}"));
    if let Some(bearer) = bearer {
        req = req.bearer_auth(bearer);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    Answer::of(req.send().await.expect("POST /logout sent")).await
}

async fn refresh_status(app: &TestApp, refresh: &str) -> StatusCode {
    app.refresh_body(refresh).await.status()
}

fn assert_cookie_cleared(res: &Answer) {
    let cleared = res.refresh_set_cookie().expect("a clearing Set-Cookie");
    assert_eq!(cookie_value(&cleared), "", "{cleared}");
    assert!(has(&cleared, "max-age=0"), "{cleared}");
}

#[tokio::test]
async fn samesite_none_with_an_https_public_url_sets_none_and_secure_on_every_cookie() {
    let app = TestApp::spawn_with(&[
        ("AUTHGATE_PUBLIC_URL", "https://auth.example.com"),
        ("AUTHGATE_COOKIE_SAMESITE", "none"),
    ])
    .await;
    let user = app.register_user().await;
    let login = Answer::of(
        app.login(&json!({ "email": user.email, "password": PASSWORD }))
            .await,
    )
    .await;
    let out = Answer::of(app.logout(login.str("/accessToken"), None).await).await;

    for set in [login.refresh_set_cookie(), out.refresh_set_cookie()] {
        let set = set.expect("a refreshToken Set-Cookie");
        assert!(has(&set, "samesite=none") && has(&set, "secure"), "{set}");
        assert!(has(&set, "httponly"), "{set}");
    }
}

#[tokio::test]
async fn samesite_strict_is_applied_to_the_cookie() {
    let app = TestApp::spawn_with(&[("AUTHGATE_COOKIE_SAMESITE", "strict")]).await;
    let body =
        json!({ "email": crate::helpers::unique_email(), "password": PASSWORD, "name": "Ada" });

    let res = Answer::of(app.register(&body).await).await;

    let set = res.refresh_set_cookie().expect("a refreshToken cookie");
    assert!(has(&set, "samesite=strict"), "{set}");
}

#[tokio::test]
async fn the_cookie_domain_is_set_on_the_cookie_and_on_its_removal() {
    let app = TestApp::spawn_with(&[
        ("AUTHGATE_PUBLIC_URL", "https://auth.example.com"),
        ("AUTHGATE_COOKIE_DOMAIN", "example.com"),
    ])
    .await;
    let body =
        json!({ "email": crate::helpers::unique_email(), "password": PASSWORD, "name": "Ada" });
    let registered = Answer::of(app.register(&body).await).await;
    let out = Answer::of(app.logout(registered.str("/accessToken"), None).await).await;

    for set in [registered.refresh_set_cookie(), out.refresh_set_cookie()] {
        let set = set.expect("a refreshToken Set-Cookie");
        assert!(has(&set, "domain=example.com"), "{set}");
    }
}

#[tokio::test]
async fn without_a_cookie_domain_the_cookie_is_host_only() {
    let app = TestApp::spawn().await;
    let body =
        json!({ "email": crate::helpers::unique_email(), "password": PASSWORD, "name": "Ada" });

    let res = Answer::of(app.register(&body).await).await;

    let set = res.refresh_set_cookie().expect("a refreshToken cookie");
    assert!(
        !cookie_attributes(&set)
            .iter()
            .any(|a| a.starts_with("domain=")),
        "{set}"
    );
}

#[tokio::test]
async fn a_bearer_logout_from_a_foreign_origin_ends_only_the_bearers_session() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let laptop = app.login_as(&user).await;

    // The bearer is the first session; the cookie names the laptop's.
    let res = logout(
        &app,
        Some(&user.access),
        &laptop.refresh,
        &[("origin", EVIL)],
    )
    .await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_cookie_cleared(&res);
    assert_eq!(
        app.me(&user.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.me(&laptop.access).await.status(),
        StatusCode::OK,
        "a cookie from a foreign origin may not end another session"
    );
}

#[tokio::test]
async fn a_bearer_logout_from_an_allowed_origin_also_ends_the_cookies_session() {
    let app = TestApp::spawn_with(&[("AUTHGATE_ALLOWED_ORIGINS", "https://app.example.com")]).await;
    let user = app.register_user().await;
    let laptop = app.login_as(&user).await;

    let headers = [("origin", "https://app.example.com")];
    let res = logout(&app, Some(&user.access), &laptop.refresh, &headers).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        app.me(&user.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.me(&laptop.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_logout_by_the_cookie_alone_from_an_allowed_origin_ends_that_session() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let origin = app.address.clone();

    let res = logout(&app, None, &user.refresh, &[("origin", &origin)]).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body, json!({ "message": "Logged out successfully" }));
    assert_cookie_cleared(&res);
    assert_eq!(
        app.me(&user.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh_status(&app, &user.refresh).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_logout_by_the_cookie_alone_from_a_foreign_origin_returns_403_and_ends_nothing() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let res = logout(&app, None, &user.refresh, &[("origin", EVIL)]).await;

    res.assert_error(StatusCode::FORBIDDEN, "csrf_rejected");
    assert_eq!(app.me(&user.access).await.status(), StatusCode::OK);
    assert_eq!(refresh_status(&app, &user.refresh).await, StatusCode::OK);
}

#[tokio::test]
async fn an_expired_or_revoked_bearer_falls_back_to_the_cookie() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let laptop = app.login_as(&user).await;
    assert_eq!(
        app.logout(&user.access, None).await.status(),
        StatusCode::OK
    );

    // A dead bearer token and the laptop's cookie, sent without Origin (not a browser).
    let res = logout(&app, Some(&user.access), &laptop.refresh, &[]).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        app.me(&laptop.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_logout_with_an_unknown_refresh_cookie_returns_401_and_clears_it() {
    let app = TestApp::spawn().await;
    let unknown = "x".repeat(43);

    let res = logout(&app, None, &unknown, &[]).await;

    res.assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    assert_cookie_cleared(&res);
}

#[tokio::test]
async fn a_logout_by_the_refresh_token_in_the_body_alone_ends_its_session() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let res = app
        .post_json("/api/auth/logout", &json!({ "refreshToken": user.refresh }))
        .await;

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.me(&user.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_logout_by_the_cookie_alone_with_all_ends_every_session() {
    let app = TestApp::spawn().await;
    let user: TestUser = app.register_user().await;
    let laptop = app.login_as(&user).await;

    let res = app
        .api
        .post(app.url("/api/auth/logout"))
        .header("cookie", format!("refreshToken={}", laptop.refresh))
        .json(&json!({ "all": true }))
        .send()
        .await
        .expect("sent");

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.me(&user.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.me(&laptop.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn every_csrf_rejected_message_names_what_the_browser_sent_and_the_setting() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let by_origin = Answer::of(app.refresh_cookie(&user.refresh, &[("origin", EVIL)]).await).await;
    let by_fetch_site = Answer::of(
        app.refresh_cookie(&user.refresh, &[("sec-fetch-site", "cross-site")])
            .await,
    )
    .await;
    let by_logout = logout(&app, None, &user.refresh, &[("origin", EVIL)]).await;

    for (res, seen) in [
        (&by_origin, EVIL),
        (&by_fetch_site, "cross-site"),
        (&by_logout, EVIL),
    ] {
        res.assert_error(StatusCode::FORBIDDEN, "csrf_rejected");
        let message = res.str("/message");
        assert!(message.contains(seen), "{message}");
        assert!(message.contains("AUTHGATE_ALLOWED_ORIGINS"), "{message}");
    }
}
