//! Guessing the current password at `POST /change-password` is limited like login: per
//! (account, IP) back-off, the account's block (shared with failed logins), the login's
//! per-IP rate, and every failure and refusal audited.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::audit::events;
use crate::helpers::{Answer, TestApp, NEW_PASSWORD, PASSWORD};

const WRONG: &str = "Wrong7Password";

#[track_caller]
fn assert_limited(res: &Answer) {
    res.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry: u64 = res
        .header("retry-after")
        .and_then(|s| s.parse().ok())
        .expect("a Retry-After in seconds");
    assert!(retry >= 1, "Retry-After {retry}");
}

#[tokio::test]
async fn wrong_current_passwords_get_429_with_retry_after_once_the_free_attempts_are_spent() {
    let app = TestApp::spawn_with(&[
        ("AUTHGATE_RATE_LIMIT_LOGIN", "1000/min"),
        ("AUTHGATE_LOGIN_FREE_ATTEMPTS", "3"),
    ])
    .await;
    let user = app.register_user().await;
    for _ in 0..3 {
        let res = Answer::of(app.change_password(&user.access, WRONG, NEW_PASSWORD).await).await;
        res.assert_error(StatusCode::UNAUTHORIZED, "invalid_current_password");
    }

    let wrong = Answer::of(app.change_password(&user.access, WRONG, NEW_PASSWORD).await).await;
    assert_limited(&wrong);
    let right = Answer::of(
        app.change_password(&user.access, PASSWORD, NEW_PASSWORD)
            .await,
    )
    .await;
    assert_limited(&right);

    // Once the wait is served, the right password goes through.
    app.clock.advance(Duration::from_secs(2));
    let res = Answer::of(
        app.change_password(&user.access, PASSWORD, NEW_PASSWORD)
            .await,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

#[tokio::test]
async fn wrong_current_passwords_count_toward_the_accounts_login_block() {
    let app = TestApp::spawn_with(&[
        ("AUTHGATE_RATE_LIMIT_LOGIN", "1000/min"),
        ("AUTHGATE_LOGIN_FREE_ATTEMPTS", "100"),
        ("AUTHGATE_LOGIN_MAX_FAILURES", "5"),
    ])
    .await;
    let user = app.register_user().await;
    for _ in 0..5 {
        let res = Answer::of(app.change_password(&user.access, WRONG, NEW_PASSWORD).await).await;
        res.assert_error(StatusCode::UNAUTHORIZED, "invalid_current_password");
    }

    let login = json!({ "email": user.email, "password": PASSWORD });
    assert_limited(&Answer::of(app.login(&login).await).await);
    let change = Answer::of(
        app.change_password(&user.access, PASSWORD, NEW_PASSWORD)
            .await,
    )
    .await;
    assert_limited(&change);
}

#[tokio::test]
async fn failed_logins_count_toward_the_block_that_password_changes_obey() {
    let app = TestApp::spawn_with(&[
        ("AUTHGATE_RATE_LIMIT_LOGIN", "1000/min"),
        ("AUTHGATE_LOGIN_FREE_ATTEMPTS", "100"),
        ("AUTHGATE_LOGIN_MAX_FAILURES", "5"),
    ])
    .await;
    let user = app.register_user().await;
    let wrong = json!({ "email": user.email, "password": WRONG });
    for _ in 0..5 {
        assert_eq!(app.login(&wrong).await.status(), StatusCode::UNAUTHORIZED);
    }

    let change = Answer::of(
        app.change_password(&user.access, PASSWORD, NEW_PASSWORD)
            .await,
    )
    .await;
    assert_limited(&change);
}

#[tokio::test]
async fn password_changes_share_the_logins_rate_per_ip() {
    let app = TestApp::spawn_with(&[("AUTHGATE_RATE_LIMIT_LOGIN", "2/min")]).await;
    let user = app.register_user().await;
    for _ in 0..2 {
        let res = Answer::of(app.change_password(&user.access, WRONG, NEW_PASSWORD).await).await;
        res.assert_error(StatusCode::UNAUTHORIZED, "invalid_current_password");
    }

    let res = Answer::of(app.change_password(&user.access, WRONG, NEW_PASSWORD).await).await;
    assert_limited(&res);
    let login = json!({ "email": user.email, "password": PASSWORD });
    assert_limited(&Answer::of(app.login(&login).await).await);
}

#[tokio::test]
async fn wrong_current_passwords_and_the_block_they_cause_are_audited() {
    let app = TestApp::spawn_with(&[
        ("AUTHGATE_RATE_LIMIT_LOGIN", "1000/min"),
        ("AUTHGATE_LOGIN_FREE_ATTEMPTS", "1"),
    ])
    .await;
    let user = app.register_user().await;
    let first = app.change_password(&user.access, WRONG, NEW_PASSWORD).await;
    assert_eq!(first.status(), StatusCode::UNAUTHORIZED);
    let second = app.change_password(&user.access, WRONG, NEW_PASSWORD).await;
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);

    let body = events(&app, &user.access, "", 3).await;
    let listed: Vec<(&str, &str)> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        listed[..2],
        [
            ("rate_limited", "failure"),
            ("password_change_failed", "failure")
        ],
        "newest first: {body}"
    );
}
