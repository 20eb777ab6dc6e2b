//! The per-node caches: a session used a moment ago (and so cached) is still refused at once
//! after every kind of revocation on this node, and `GET /me` shows a user change at once;
//! with the caches off, even a revocation made behind the node's back (another instance) is
//! seen at once.

use std::time::Duration;

use authgate_core::clock::Clock;
use authgate_core::domain::{SessionId, UserId};
use authgate_core::store::TokenPurpose;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{jwt_part, Answer, TestApp, TestUser};

/// Uses the token twice so its session is certainly cached, and checks it works.
async fn warm(app: &TestApp, access: &str) {
    for _ in 0..2 {
        assert_eq!(app.me(access).await.status(), StatusCode::OK);
    }
}

async fn refused(app: &TestApp, access: &str) -> bool {
    app.me(access).await.status() == StatusCode::UNAUTHORIZED
}

fn session_of(access: &str) -> SessionId {
    SessionId::from_string(jwt_part(access, 1)["sid"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_cached_session_is_refused_at_once_after_logout() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    warm(&app, &user.access).await;
    assert_eq!(
        app.logout(&user.access, None).await.status(),
        StatusCode::OK
    );
    assert!(refused(&app, &user.access).await);
}

#[tokio::test]
async fn cached_sessions_of_every_device_are_refused_at_once_after_logout_all() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let phone = app.login_as(&user).await;
    warm(&app, &user.access).await;
    warm(&app, &phone.access).await;
    let all = json!({ "all": true });
    assert_eq!(
        app.logout(&user.access, Some(&all)).await.status(),
        StatusCode::OK
    );
    assert!(refused(&app, &user.access).await);
    assert!(refused(&app, &phone.access).await);
}

#[tokio::test]
async fn a_cached_session_revoked_from_another_device_is_refused_at_once() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let phone = app.login_as(&user).await;
    warm(&app, &phone.access).await;
    let sid = session_of(&phone.access);
    let res = app.delete_session(&user.access, sid.as_str()).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert!(refused(&app, &phone.access).await);
    assert_eq!(app.me(&user.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn cached_sessions_are_refused_at_once_after_a_password_change() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let phone = app.login_as(&user).await;
    warm(&app, &phone.access).await;
    let res = app
        .change_password(&user.access, &user.password, "Difference9Engine")
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(refused(&app, &phone.access).await);
    assert!(refused(&app, &user.access).await);
}

#[tokio::test]
async fn a_cached_session_is_refused_at_once_after_refresh_token_reuse() {
    let app = TestApp::spawn_with(&[("AUTHGATE_REFRESH_GRACE", "0s")]).await;
    let user = app.register_user().await;
    assert_eq!(
        app.refresh_body(&user.refresh).await.status(),
        StatusCode::OK
    );
    warm(&app, &user.access).await;
    // The rotated token again: reuse, which revokes the session.
    assert_eq!(
        app.refresh_body(&user.refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(refused(&app, &user.access).await);
}

async fn revoke_behind_the_nodes_back(app: &TestApp, user: &TestUser) {
    let revoked = app
        .service
        .store()
        .revoke_session(
            &UserId::from_string(user.id.clone()),
            &session_of(&user.access),
            app.clock.now(),
        )
        .await
        .unwrap();
    assert!(revoked);
}

#[tokio::test]
async fn with_the_cache_off_a_revocation_by_another_instance_is_seen_at_once() {
    let app = TestApp::spawn_with(&[("AUTHGATE_CACHE_TTL", "0s")]).await;
    let user = app.register_user().await;
    warm(&app, &user.access).await;
    revoke_behind_the_nodes_back(&app, &user).await;
    assert!(refused(&app, &user.access).await);
}

#[tokio::test]
async fn with_the_cache_on_a_revocation_by_another_instance_is_seen_within_the_ttl() {
    let app = TestApp::spawn_with(&[("AUTHGATE_CACHE_TTL", "1s")]).await;
    let user = app.register_user().await;
    warm(&app, &user.access).await;
    revoke_behind_the_nodes_back(&app, &user).await;
    // The cache answers for this node's recent lookups: this is the documented bound, and
    // the proof that authenticated requests are served without a store read.
    assert_eq!(app.me(&user.access).await.status(), StatusCode::OK);
    app.clock.advance(Duration::from_millis(1100));
    assert!(refused(&app, &user.access).await);
}

#[tokio::test]
async fn me_shows_a_newer_login_at_once_even_when_the_user_was_just_read() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let before = Answer::of(app.me(&user.access).await).await;
    app.clock.advance(Duration::from_millis(20));
    app.login_as(&user).await;
    let after = Answer::of(app.me(&user.access).await).await;
    assert_ne!(
        before.body["user"]["lastLoginAt"], after.body["user"]["lastLoginAt"],
        "{} -> {}",
        before.body, after.body
    );
}

#[tokio::test]
async fn me_shows_the_email_verified_at_once_even_when_the_user_was_just_read() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let before = Answer::of(app.me(&user.access).await).await;
    assert_eq!(before.body["user"]["emailVerified"], json!(false));
    let token = app
        .issue_token(&user.email, TokenPurpose::VerifyEmail)
        .await;
    assert_eq!(app.verify_email(&token).await.status(), StatusCode::OK);
    let after = Answer::of(app.me(&user.access).await).await;
    assert_eq!(
        after.body["user"]["emailVerified"],
        json!(true),
        "{}",
        after.body
    );
}
