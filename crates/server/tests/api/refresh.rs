//! POST /api/auth/refresh: rotation, the grace window, reuse detection and the race.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use authgate_core::store::TokenPurpose;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{jwt_part, Answer, TestApp};
use crate::register::keys;

/// A well-formed refresh token (43 base64url characters) that was never issued.
const NEVER_ISSUED: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

#[tokio::test]
async fn refresh_returns_new_tokens_for_the_same_session_and_rotates_the_refresh_token() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let res = Answer::of(app.refresh_body(&user.refresh).await).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        keys(&res.body),
        ["accessToken", "expiresIn", "refreshToken", "tokenType"]
    );
    assert_eq!(res.body["tokenType"], "Bearer");
    assert_eq!(res.body["expiresIn"], 900);
    assert_ne!(
        res.str("/refreshToken"),
        user.refresh,
        "the refresh token rotates"
    );
    let (old, new) = (
        jwt_part(&user.access, 1),
        jwt_part(res.str("/accessToken"), 1),
    );
    assert_eq!(new["sid"], old["sid"], "a refresh keeps the session");
    assert_eq!(new["sub"], user.id.as_str());
    assert_ne!(new["jti"], old["jti"]);
    assert_eq!(
        app.me(res.str("/accessToken")).await.status(),
        StatusCode::OK
    );
    assert_eq!(res.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn the_rotated_refresh_token_can_itself_be_refreshed() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let first = Answer::of(app.refresh_body(&user.refresh).await).await;
    let second = Answer::of(app.refresh_body(first.str("/refreshToken")).await).await;

    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    let seen = [
        user.refresh.as_str(),
        first.str("/refreshToken"),
        second.str("/refreshToken"),
    ];
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 3, "{seen:?}");
}

#[tokio::test]
async fn refresh_with_a_token_never_issued_returns_401_invalid_refresh_token() {
    let app = TestApp::spawn().await;
    for token in [NEVER_ISSUED, "garbage", "", &"A".repeat(10_000)] {
        let res = Answer::of(app.refresh_body(token).await).await;
        res.assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
        assert_eq!(res.header("www-authenticate"), Some("Bearer"));
    }
}

#[tokio::test]
async fn refresh_without_any_token_returns_401() {
    let app = TestApp::spawn().await;

    let empty = Answer::of(app.post_raw("/api/auth/refresh", None, Vec::new()).await).await;
    let no_field = Answer::of(app.post_json("/api/auth/refresh", &json!({})).await).await;

    empty.assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    no_field.assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
}

#[tokio::test]
async fn a_repeat_refresh_within_the_grace_window_returns_the_same_successor() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let first = Answer::of(app.refresh_body(&user.refresh).await).await;
    let repeat = Answer::of(app.refresh_body(&user.refresh).await).await;

    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(repeat.status, StatusCode::OK, "{}", repeat.body);
    assert_eq!(repeat.str("/refreshToken"), first.str("/refreshToken"));
    let successor = Answer::of(app.refresh_body(first.str("/refreshToken")).await).await;
    assert_eq!(
        successor.status,
        StatusCode::OK,
        "the session survives: {}",
        successor.body
    );
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_after_the_grace_window_returns_401_and_revokes_the_session(
) {
    let app = TestApp::spawn_with(&[("AUTHGATE_REFRESH_GRACE", "1s")]).await;
    let user = app.register_user().await;
    let rotated = Answer::of(app.refresh_body(&user.refresh).await).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    app.clock.advance(Duration::from_millis(1500));

    let reuse = Answer::of(app.refresh_body(&user.refresh).await).await;

    reuse.assert_error(StatusCode::UNAUTHORIZED, "refresh_token_reused");
    let successor = Answer::of(app.refresh_body(rotated.str("/refreshToken")).await).await;
    assert_eq!(
        successor.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        successor.body
    );
    for access in [user.access.as_str(), rotated.str("/accessToken")] {
        assert_eq!(app.me(access).await.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn reuse_revokes_only_the_session_it_happened_in() {
    let app = TestApp::spawn_with(&[("AUTHGATE_REFRESH_GRACE", "0s")]).await;
    let user = app.register_user().await;
    let other_device = app.login_as(&user).await;
    let rotated = Answer::of(app.refresh_body(&user.refresh).await).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);

    let reuse = Answer::of(app.refresh_body(&user.refresh).await).await;

    reuse.assert_error(StatusCode::UNAUTHORIZED, "refresh_token_reused");
    assert_eq!(app.me(&other_device.access).await.status(), StatusCode::OK);
    let other = app.refresh_body(&other_device.refresh).await;
    assert_eq!(other.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_refreshes_of_one_token_yield_at_most_one_successor() {
    let app = Arc::new(TestApp::spawn().await);
    let user = app.register_user().await;

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (app, token) = (app.clone(), user.refresh.clone());
        tasks.spawn(async move { Answer::of(app.refresh_body(&token).await).await });
    }
    let answers = tasks.join_all().await;

    let mut successors = BTreeSet::new();
    for a in &answers {
        match a.status {
            StatusCode::OK => {
                successors.insert(a.str("/refreshToken").to_owned());
            }
            StatusCode::UNAUTHORIZED => {}
            other => panic!("a concurrent refresh got {other}: {}", a.body),
        }
    }
    assert_eq!(
        successors.len(),
        1,
        "successors: {successors:?}; answers: {answers:?}"
    );
    let successor = successors.into_iter().next().expect("one successor");
    let next = Answer::of(app.refresh_body(&successor).await).await;
    assert_eq!(
        next.status,
        StatusCode::OK,
        "the successor works: {}",
        next.body
    );
}

#[tokio::test]
async fn an_expired_refresh_token_returns_401_invalid_refresh_token() {
    let app = TestApp::spawn_with(&[("AUTHGATE_REFRESH_TOKEN_TTL", "1s")]).await;
    let user = app.register_user().await;
    app.clock.advance(Duration::from_millis(1500));

    let res = Answer::of(app.refresh_body(&user.refresh).await).await;

    res.assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
}

#[tokio::test]
async fn refresh_answers_403_until_the_email_is_verified_when_verification_is_required() {
    let app = TestApp::spawn_with(&[("AUTHGATE_REQUIRE_VERIFIED_EMAIL", "true")]).await;
    let user = app.register_user().await;

    Answer::of(app.refresh_body(&user.refresh).await)
        .await
        .assert_error(StatusCode::FORBIDDEN, "email_not_verified");
    assert_eq!(
        app.me(&user.access).await.status(),
        StatusCode::OK,
        "the access token of the registration should still serve /me"
    );
    assert_eq!(
        app.resend_verification(&user.access).await.status(),
        StatusCode::OK
    );

    let token = app
        .issue_token(&user.email, TokenPurpose::VerifyEmail)
        .await;
    assert_eq!(app.verify_email(&token).await.status(), StatusCode::OK);
    let res = Answer::of(app.refresh_body(&user.refresh).await).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "the refused refresh token should work once verified: {}",
        res.body
    );
}
