//! GET /api/auth/me: the caller, or 401 with `WWW-Authenticate: Bearer`.

use reqwest::StatusCode;

use crate::helpers::{Answer, TestApp};
use crate::register::{assert_user_shape, keys};

#[tokio::test]
async fn me_with_a_valid_token_returns_the_user() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let res = Answer::of(app.me(&user.access).await).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(keys(&res.body), ["user"]);
    assert_user_shape(&res.body["user"]);
    assert_eq!(res.body["user"]["id"], user.id.as_str());
    assert_eq!(res.body["user"]["email"], user.email.as_str());
    assert_eq!(res.body["user"]["name"], "Ada Lovelace");
    assert_eq!(res.body["user"]["role"], "user");
}

#[tokio::test]
async fn me_without_a_token_returns_401_with_www_authenticate_bearer() {
    let app = TestApp::spawn().await;

    let res = Answer::of(app.get("/api/auth/me").await).await;

    res.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(res.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn me_with_a_malformed_token_returns_401_with_error_invalid_token() {
    let app = TestApp::spawn().await;
    for token in [
        "garbage",
        "a.b.c",
        "eyJhbGciOiJFZERTQSJ9..",
        &"x".repeat(5000),
    ] {
        let res = Answer::of(app.me(token).await).await;
        res.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
        assert_eq!(
            res.header("www-authenticate"),
            Some(r#"Bearer error="invalid_token""#)
        );
    }
}

#[tokio::test]
async fn me_with_a_valid_token_under_another_scheme_returns_401() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    for value in [format!("Basic {}", user.access), user.access.clone()] {
        let res = app
            .api
            .get(app.url("/api/auth/me"))
            .header("authorization", value)
            .send()
            .await
            .expect("sent");
        Answer::of(res)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
}

#[tokio::test]
async fn me_accepts_the_bearer_scheme_in_any_case() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let res = app
        .api
        .get(app.url("/api/auth/me"))
        .header("authorization", format!("bearer {}", user.access))
        .send()
        .await
        .expect("sent");

    assert_eq!(res.status(), StatusCode::OK);
}
