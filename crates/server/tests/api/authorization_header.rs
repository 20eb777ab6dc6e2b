//! The `Authorization` header itself: one only, and a challenge that says whether a token
//! was sent and refused (RFC 6750 §3.1).

use reqwest::StatusCode;

use crate::helpers::{Answer, TestApp};

const INVALID_TOKEN: &str = r#"Bearer error="invalid_token""#;

#[tokio::test]
async fn two_authorization_headers_are_refused_with_400_even_when_both_are_valid() {
    let app = TestApp::spawn().await;
    let ada = app.register_user().await;
    let bob = app.register_user().await;

    for path in [
        "/api/auth/me",
        "/api/auth/sessions",
        "/api/auth/forward-auth",
    ] {
        let res = app
            .api
            .get(app.url(path))
            .header("authorization", format!("Bearer {}", ada.access))
            .header("authorization", format!("Bearer {}", bob.access))
            .send()
            .await
            .unwrap();
        let res = Answer::of(res).await;
        res.assert_error(StatusCode::BAD_REQUEST, "repeated_authorization");
        assert!(res.header("x-request-id").is_some(), "{path}");
    }
    // One of them alone still works.
    assert_eq!(app.me(&ada.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_refused_token_gets_error_invalid_token_and_no_token_a_bare_challenge() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    app.logout(&user.access, None).await;

    let refused = Answer::of(app.me(&user.access).await).await;
    refused.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(refused.header("www-authenticate"), Some(INVALID_TOKEN));

    let garbage = Answer::of(app.me("not-a-jwt").await).await;
    assert_eq!(garbage.header("www-authenticate"), Some(INVALID_TOKEN));

    let missing = Answer::of(app.get("/api/auth/me").await).await;
    missing.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn a_wrong_current_password_is_not_blamed_on_the_token() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let res = Answer::of(
        app.change_password(&user.access, "Wrong7Password", "Difference9Engine")
            .await,
    )
    .await;

    res.assert_error(StatusCode::UNAUTHORIZED, "invalid_current_password");
    assert_eq!(res.header("www-authenticate"), Some("Bearer"));
}
