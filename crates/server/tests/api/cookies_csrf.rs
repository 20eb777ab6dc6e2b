//! The `refreshToken` cookie (delivery modes, attributes) and the CSRF check on requests
//! that carry it.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    cookie_attributes, cookie_value, unique_email, Answer, TestApp, TestUser, PASSWORD,
};
use crate::register::keys;

fn has(attributes: &[String], wanted: &str) -> bool {
    attributes.iter().any(|a| a == wanted)
}

#[tokio::test]
async fn the_default_delivery_sets_an_http_only_lax_cookie_on_the_api_path_and_fills_the_body() {
    let app = TestApp::spawn().await;
    let body = json!({ "email": unique_email(), "password": PASSWORD, "name": "Ada" });

    let registered = Answer::of(app.register(&body).await).await;
    let logged_in = Answer::of(app.login(&body).await).await;

    for res in [&registered, &logged_in] {
        assert!(res.status.is_success(), "{}", res.body);
        let cookie = res.refresh_set_cookie().expect("a refreshToken cookie");
        assert_eq!(cookie_value(&cookie), res.str("/refreshToken"), "{cookie}");
        let attributes = cookie_attributes(&cookie);
        assert!(has(&attributes, "httponly"), "{cookie}");
        assert!(has(&attributes, "samesite=lax"), "{cookie}");
        assert!(has(&attributes, "path=/api/auth"), "{cookie}");
        assert!(
            !has(&attributes, "secure"),
            "no Secure over plain http: {cookie}"
        );
        let max_age = attributes.iter().find_map(|a| a.strip_prefix("max-age="));
        let max_age: i64 = max_age.and_then(|m| m.parse().ok()).expect("a Max-Age");
        assert_eq!(
            max_age,
            30 * 24 * 3600,
            "the default refresh life is 30 days"
        );
    }
}

#[tokio::test]
async fn refresh_by_cookie_works_with_the_default_delivery_and_rotates_the_cookie() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let res = Answer::of(app.refresh_cookie(&user.refresh, &[]).await).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let cookie = res.refresh_set_cookie().expect("a rotated cookie");
    assert_eq!(cookie_value(&cookie), res.str("/refreshToken"));
    assert_ne!(cookie_value(&cookie), user.refresh);
}

#[tokio::test]
async fn a_browser_keeps_its_session_going_with_the_cookie_alone() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let body = json!({ "email": unique_email(), "password": PASSWORD, "name": "Ada" });
    let res = browser
        .post(app.url("/api/auth/register"))
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::CREATED);

    let mut access = String::new();
    for round in 0..2 {
        let res = browser
            .post(app.url("/api/auth/refresh"))
            .send()
            .await
            .expect("sent");
        let res = Answer::of(res).await;
        assert_eq!(res.status, StatusCode::OK, "round {round}: {}", res.body);
        access = res.str("/accessToken").to_owned();
    }
    let logout = browser
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&access);
    assert_eq!(logout.send().await.expect("sent").status(), StatusCode::OK);

    let after = browser
        .post(app.url("/api/auth/refresh"))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        after.status(),
        StatusCode::UNAUTHORIZED,
        "the session ended"
    );
}

#[tokio::test]
async fn cookie_delivery_keeps_the_refresh_token_out_of_the_body_and_refreshes_by_cookie() {
    let app = TestApp::spawn_with(&[("AUTHGATE_REFRESH_TOKEN_DELIVERY", "cookie")]).await;
    let body = json!({ "email": unique_email(), "password": PASSWORD, "name": "Ada" });

    let registered = Answer::of(app.register(&body).await).await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.body
    );
    assert_eq!(
        keys(&registered.body),
        ["accessToken", "expiresIn", "tokenType", "user"]
    );
    let cookie = registered
        .refresh_set_cookie()
        .expect("a refreshToken cookie");
    let token = cookie_value(&cookie).to_owned();
    assert!(token.len() >= 43, "{cookie}");

    let refreshed = Answer::of(app.refresh_cookie(&token, &[]).await).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    assert_eq!(
        keys(&refreshed.body),
        ["accessToken", "expiresIn", "tokenType"]
    );
    let rotated = refreshed.refresh_set_cookie().expect("a rotated cookie");
    assert_ne!(cookie_value(&rotated), token);
    assert_eq!(
        app.me(refreshed.str("/accessToken")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn body_delivery_sets_no_cookie() {
    let app = TestApp::spawn_with(&[("AUTHGATE_REFRESH_TOKEN_DELIVERY", "body")]).await;
    let body = json!({ "email": unique_email(), "password": PASSWORD, "name": "Ada" });

    let registered = Answer::of(app.register(&body).await).await;
    let logged_in = Answer::of(app.login(&body).await).await;
    let refreshed = Answer::of(app.refresh_body(logged_in.str("/refreshToken")).await).await;

    for res in [&registered, &logged_in, &refreshed] {
        assert!(res.status.is_success(), "{}", res.body);
        assert!(res.body["refreshToken"].is_string(), "{}", res.body);
        assert_eq!(res.refresh_set_cookie(), None);
    }
}

#[tokio::test]
async fn the_cookie_is_secure_when_the_public_url_is_https() {
    let app = TestApp::spawn_with(&[("AUTHGATE_PUBLIC_URL", "https://auth.example.com")]).await;
    let user = app.register_user().await;
    let login = Answer::of(
        app.login(&json!({ "email": user.email, "password": PASSWORD }))
            .await,
    )
    .await;

    let set = login.refresh_set_cookie().expect("a refreshToken cookie");
    assert!(has(&cookie_attributes(&set), "secure"), "{set}");
    let logout = Answer::of(app.logout(login.str("/accessToken"), None).await).await;
    let cleared = logout.refresh_set_cookie().expect("a clearing cookie");
    assert!(has(&cookie_attributes(&cleared), "secure"), "{cleared}");
}

#[tokio::test]
async fn a_cookie_refresh_from_a_foreign_origin_returns_403_and_spends_nothing() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    for origin in ["https://evil.example", "null", "http://127.0.0.1:1"] {
        let res = Answer::of(
            app.refresh_cookie(&user.refresh, &[("origin", origin)])
                .await,
        )
        .await;
        res.assert_error(StatusCode::FORBIDDEN, "csrf_rejected");
    }

    let res = Answer::of(app.refresh_cookie(&user.refresh, &[]).await).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "the token is still good: {}",
        res.body
    );
}

#[tokio::test]
async fn a_cookie_refresh_from_the_public_origin_returns_200() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let origin = app.address.clone();
    let res = Answer::of(
        app.refresh_cookie(&user.refresh, &[("origin", &origin)])
            .await,
    )
    .await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

#[tokio::test]
async fn a_cookie_refresh_from_a_configured_allowed_origin_returns_200() {
    let app = TestApp::spawn_with(&[("AUTHGATE_ALLOWED_ORIGINS", "https://app.example.com")]).await;
    let user = app.register_user().await;

    let headers = [
        ("origin", "https://app.example.com"),
        ("sec-fetch-site", "cross-site"),
    ];
    let res = Answer::of(app.refresh_cookie(&user.refresh, &headers).await).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

#[tokio::test]
async fn a_cross_site_cookie_refresh_without_origin_returns_403() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let headers = [("sec-fetch-site", "cross-site")];
    let res = Answer::of(app.refresh_cookie(&user.refresh, &headers).await).await;

    res.assert_error(StatusCode::FORBIDDEN, "csrf_rejected");
}

#[tokio::test]
async fn a_same_origin_cookie_refresh_without_origin_returns_200() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let headers = [("sec-fetch-site", "same-origin")];
    let res = Answer::of(app.refresh_cookie(&user.refresh, &headers).await).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

/// A logout that names its session by the cookie, with extra headers (Origin...).
async fn logout_by_cookie(app: &TestApp, user: &TestUser, headers: &[(&str, &str)]) -> Answer {
    let mut req = app
        .api
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&user.access)
        .header("cookie", format!("refreshToken={}", user.refresh));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    Answer::of(req.send().await.expect("POST /logout sent")).await
}

#[tokio::test]
async fn logout_with_a_valid_bearer_from_a_foreign_origin_ends_the_session() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let res = logout_by_cookie(&app, &user, &[("origin", "https://evil.example")]).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let cleared = res.refresh_set_cookie().expect("the cookie is cleared");
    assert_eq!(cookie_value(&cleared), "", "{cleared}");
    let me = Answer::of(app.me(&user.access).await).await;
    me.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn a_cookie_logout_from_the_public_origin_returns_200() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let origin = app.address.clone();
    let res = logout_by_cookie(&app, &user, &[("origin", &origin)]).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let me = Answer::of(app.me(&user.access).await).await;
    me.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn a_rate_limited_cookie_refresh_keeps_the_cookie_so_the_browser_can_try_again() {
    let app = TestApp::spawn_with(&[("AUTHGATE_RATE_LIMIT_REFRESH", "1/min")]).await;
    let user = app.register_user().await;
    let first = Answer::of(app.refresh_cookie(&user.refresh, &[]).await).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let rotated = first.str("/refreshToken").to_owned();

    let limited = Answer::of(app.refresh_cookie(&rotated, &[]).await).await;

    limited.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(
        limited.refresh_set_cookie(),
        None,
        "the cookie is left alone"
    );
    app.clock.advance(std::time::Duration::from_secs(60));
    let later = Answer::of(app.refresh_cookie(&rotated, &[]).await).await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.body);
}

#[tokio::test]
async fn a_cookie_refresh_with_a_dead_token_clears_the_cookie() {
    let app = TestApp::spawn().await;

    let res = Answer::of(app.refresh_cookie("not-a-live-token", &[]).await).await;

    res.assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    let cleared = res.refresh_set_cookie().expect("the cookie is cleared");
    assert_eq!(cookie_value(&cleared), "", "{cleared}");
}

#[tokio::test]
async fn a_cookie_refresh_with_a_foreign_referer_and_neither_origin_nor_fetch_metadata_returns_403()
{
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    for referer in ["https://evil.example/page?x=1", "not a url"] {
        let res = Answer::of(
            app.refresh_cookie(&user.refresh, &[("referer", referer)])
                .await,
        )
        .await;
        res.assert_error(StatusCode::FORBIDDEN, "csrf_rejected");
    }

    let own = format!("{}/account", app.address);
    let res = Answer::of(
        app.refresh_cookie(&user.refresh, &[("referer", own.as_str())])
            .await,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "our own page: {}", res.body);
}
