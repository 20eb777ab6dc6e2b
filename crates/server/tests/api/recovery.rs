//! Change password, reset and verification, forgot-password, resend verification: the
//! answers and what they change, with tokens made through the store where a test is not
//! about the mail itself (`mail_flows` and `mail_links` read real mail over SMTP).

use authgate_core::service::RegisterRequest;
use authgate_core::store::TokenPurpose;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{unique_email, Answer, TestApp, NEW_PASSWORD, PASSWORD};

/// A well-formed one-time token (43 base64url characters) that was never issued.
const NEVER_ISSUED: &str = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

#[tokio::test]
async fn change_password_returns_200_and_revokes_every_session() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let second = app.login_as(&user).await;

    let res = Answer::of(
        app.change_password(&user.access, PASSWORD, NEW_PASSWORD)
            .await,
    )
    .await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        res.body,
        json!({ "message": "Password changed successfully" })
    );
    for access in [&user.access, &second.access] {
        assert_eq!(app.me(access).await.status(), StatusCode::UNAUTHORIZED);
    }
    for refresh in [&user.refresh, &second.refresh] {
        assert_eq!(
            app.refresh_body(refresh).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn after_a_password_change_the_old_password_is_refused_and_the_new_one_works() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let res = app
        .change_password(&user.access, PASSWORD, NEW_PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let old = json!({ "email": user.email, "password": PASSWORD });
    Answer::of(app.login(&old).await)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    let new = json!({ "email": user.email, "password": NEW_PASSWORD });
    let res = Answer::of(app.login(&new).await).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

#[tokio::test]
async fn change_password_with_a_wrong_current_password_returns_401_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let res = Answer::of(
        app.change_password(&user.access, "Wrong7Password", NEW_PASSWORD)
            .await,
    )
    .await;

    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.body);
    let code = res.body["code"].as_str().unwrap_or("").to_owned();
    res.assert_error(StatusCode::UNAUTHORIZED, &code);
    assert_ne!(
        code, "unauthenticated",
        "the token was fine; the password was not"
    );
    assert_eq!(
        app.me(&user.access).await.status(),
        StatusCode::OK,
        "the session lives on"
    );
    let old = json!({ "email": user.email, "password": PASSWORD });
    assert_eq!(app.login(&old).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn change_password_to_a_password_breaking_the_policy_returns_400_naming_new_password() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    for weak in [
        "short1A",
        "alllowercase1",
        "Password123",
        &format!("Aa1{}", "x".repeat(126)),
    ] {
        let res = Answer::of(app.change_password(&user.access, PASSWORD, weak).await).await;
        res.assert_invalid_field("newPassword");
    }
    assert_eq!(
        app.me(&user.access).await.status(),
        StatusCode::OK,
        "nothing was changed"
    );
}

#[tokio::test]
async fn change_password_without_a_token_returns_401() {
    let app = TestApp::spawn().await;
    let body = json!({ "currentPassword": PASSWORD, "newPassword": NEW_PASSWORD });

    let res = Answer::of(app.post_json("/api/auth/change-password", &body).await).await;

    res.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn reset_password_with_an_unknown_token_returns_400_invalid_token() {
    let app = TestApp::spawn().await;
    for token in [NEVER_ISSUED, "garbage", &"C".repeat(2000)] {
        let res = Answer::of(app.reset_password(token, NEW_PASSWORD).await).await;
        res.assert_error(StatusCode::BAD_REQUEST, "invalid_token");
    }
}

#[tokio::test]
async fn reset_password_without_a_token_returns_400_naming_token() {
    let app = TestApp::spawn().await;
    let body = json!({ "newPassword": NEW_PASSWORD });

    let res = Answer::of(app.post_json("/api/auth/reset-password", &body).await).await;

    res.assert_invalid_field("token");
}

#[tokio::test]
async fn verify_email_with_an_unknown_token_returns_400_invalid_token() {
    let app = TestApp::spawn().await;
    for token in [NEVER_ISSUED, "garbage", "%00", &"D".repeat(2000)] {
        let res = Answer::of(app.verify_email(token).await).await;
        res.assert_error(StatusCode::BAD_REQUEST, "invalid_token");
    }
}

#[tokio::test]
async fn forgot_password_answers_alike_for_known_and_unknown_emails() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let known = Answer::of(app.forgot_password(&user.email).await).await;
    let unknown = Answer::of(app.forgot_password(&unique_email()).await).await;

    let expected = json!({ "message": "If the email exists, a reset link has been sent" });
    assert_eq!(known.status, StatusCode::OK, "{}", known.body);
    assert_eq!(known.body, expected);
    assert_eq!(unknown.status, known.status);
    assert_eq!(unknown.body, known.body);
}

#[tokio::test]
async fn forgot_password_with_a_malformed_email_returns_400_naming_email() {
    let app = TestApp::spawn().await;
    for email in ["not-an-email", ""] {
        Answer::of(app.forgot_password(email).await)
            .await
            .assert_invalid_field("email");
    }
    let res = Answer::of(app.post_json("/api/auth/forgot-password", &json!({})).await).await;
    res.assert_invalid_field("email");
}

#[tokio::test]
async fn a_forgotten_password_request_changes_nothing_until_the_link_is_used() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    assert_eq!(
        app.forgot_password(&user.email).await.status(),
        StatusCode::OK
    );

    assert_eq!(app.me(&user.access).await.status(), StatusCode::OK);
    let login = json!({ "email": user.email, "password": PASSWORD });
    assert_eq!(app.login(&login).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn resend_verification_for_an_unverified_user_returns_200() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let res = Answer::of(app.resend_verification(&user.access).await).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body, json!({ "message": "Verification email sent" }));
}

#[tokio::test]
async fn resend_verification_for_a_verified_user_returns_400() {
    let app = TestApp::spawn().await;
    let email = unique_email();
    let created = app
        .service
        .create_user(RegisterRequest {
            email: Some(email.clone()),
            password: Some(PASSWORD.into()),
            name: Some("Verified".into()),
            ..RegisterRequest::default()
        })
        .await
        .expect("a verified user");
    assert!(created.email_verified);
    let login = Answer::of(
        app.login(&json!({ "email": email, "password": PASSWORD }))
            .await,
    )
    .await;
    assert_eq!(login.body["user"]["emailVerified"], true);

    let res = Answer::of(app.resend_verification(login.str("/accessToken")).await).await;

    res.assert_error(StatusCode::BAD_REQUEST, "already_verified");
}

#[tokio::test]
async fn resend_verification_for_an_account_without_email_returns_400() {
    let app = TestApp::spawn_with(&[("AUTHGATE_REQUIRE_EMAIL", "false")]).await;
    let body = json!({ "name": "No Mail", "username": "nomail", "password": PASSWORD });
    let user = app.register_with(body).await;

    let res = Answer::of(app.resend_verification(&user.access).await).await;

    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    let code = res.body["code"].as_str().unwrap_or("").to_owned();
    res.assert_error(StatusCode::BAD_REQUEST, &code);
}

#[tokio::test]
async fn resend_verification_without_a_token_returns_401() {
    let app = TestApp::spawn().await;

    let res = app
        .post_raw("/api/auth/resend-verification", None, Vec::new())
        .await;

    Answer::of(res)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

/// Sends `send` until the first 429 (at most `tries` times); returns the answers so far.
async fn until_limited<F, Fut>(tries: usize, mut send: F) -> Vec<Answer>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    let mut answers = Vec::new();
    for _ in 0..tries {
        let answer = Answer::of(send().await).await;
        let limited = answer.status == StatusCode::TOO_MANY_REQUESTS;
        answers.push(answer);
        if limited {
            break;
        }
    }
    answers
}

#[track_caller]
fn assert_rate_limited(answers: &[Answer], what: &str) {
    let last = answers.last().expect("at least one answer");
    assert_eq!(
        last.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{what}: no 429 after {} requests",
        answers.len()
    );
    last.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry = last
        .header("retry-after")
        .and_then(|v| v.parse::<u64>().ok());
    assert!(
        retry.is_some_and(|s| s > 0),
        "{what}: Retry-After {retry:?}"
    );
}

#[tokio::test]
async fn forgot_password_for_one_address_is_rate_limited_alike_for_known_and_unknown_emails() {
    let known_app = TestApp::spawn().await;
    let user = known_app.register_user().await;
    let unknown_app = TestApp::spawn().await;
    let stranger = unique_email();

    let known = until_limited(10, || known_app.forgot_password(&user.email)).await;
    let unknown = until_limited(10, || unknown_app.forgot_password(&stranger)).await;

    assert_rate_limited(&known, "a known address");
    assert_rate_limited(&unknown, "an unknown address");
    assert_eq!(
        known.len(),
        unknown.len(),
        "the limit tells the cases apart"
    );
    for answer in &known[..known.len() - 1] {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    assert_eq!(
        known.last().map(|a| &a.body),
        unknown.last().map(|a| &a.body)
    );
}

#[tokio::test]
async fn resend_verification_is_rate_limited_with_429_and_retry_after() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let answers = until_limited(10, || app.resend_verification(&user.access)).await;

    assert_rate_limited(&answers, "resend-verification");
    for answer in &answers[..answers.len() - 1] {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
}

#[tokio::test]
async fn reset_password_is_rate_limited_per_ip_with_429_and_retry_after() {
    let app = TestApp::spawn_with(&[("AUTHGATE_RATE_LIMIT_RESET_PASSWORD", "3/min")]).await;

    let answers = until_limited(10, || app.reset_password(NEVER_ISSUED, NEW_PASSWORD)).await;

    assert_rate_limited(&answers, "reset-password");
    assert_eq!(
        answers.len(),
        4,
        "the 4th request should be the first refused"
    );
    for answer in &answers[..answers.len() - 1] {
        answer.assert_error(StatusCode::BAD_REQUEST, "invalid_token");
    }
}

#[tokio::test]
async fn the_reset_response_carries_no_tokens_and_no_set_cookie() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let token = app
        .issue_token(&user.email, TokenPurpose::ResetPassword)
        .await;

    let res = Answer::of(app.reset_password(&token, NEW_PASSWORD).await).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        res.body,
        json!({ "message": "Password reset successfully" })
    );
    assert!(
        res.set_cookies().is_empty(),
        "reset set cookies: {:?}",
        res.set_cookies()
    );
}

#[tokio::test]
async fn two_parallel_uses_of_one_reset_link_give_exactly_one_200() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let token = app
        .issue_token(&user.email, TokenPurpose::ResetPassword)
        .await;

    let (first, second) = tokio::join!(
        app.reset_password(&token, NEW_PASSWORD),
        app.reset_password(&token, "Third5Difference"),
    );

    let statuses = [first.status(), second.status()];
    let winners = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(winners, 1, "{statuses:?}");
    assert!(
        statuses.contains(&StatusCode::BAD_REQUEST),
        "the loser should get 400 invalid_token: {statuses:?}"
    );
}

/// Stores a live reset token for `user_email`'s account that was mailed to `sent_to`.
async fn reset_token_sent_to(app: &TestApp, user_email: &str, sent_to: &str) -> String {
    app.issue_token_sent_to(user_email, sent_to, TokenPurpose::ResetPassword)
        .await
}

#[tokio::test]
async fn a_reset_link_sent_to_an_address_the_account_no_longer_has_is_refused() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    // The store holds no way to change an address; a token bound to another address is what
    // a link mailed before an address change looks like.
    let stale = reset_token_sent_to(&app, &user.email, "previous@example.com").await;

    Answer::of(app.reset_password(&stale, NEW_PASSWORD).await)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_token");

    let login = json!({ "email": user.email, "password": PASSWORD });
    assert_eq!(app.login(&login).await.status(), StatusCode::OK);
    let current = reset_token_sent_to(&app, &user.email, &user.email.to_uppercase()).await;
    let res = Answer::of(app.reset_password(&current, NEW_PASSWORD).await).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

#[tokio::test]
async fn a_reset_refused_because_hashing_is_saturated_leaves_the_link_usable() {
    // Slow hashes and the smallest queue: a few logins fill every slot and the queue.
    let app = TestApp::spawn_with(&[
        ("AUTHGATE_HASH_ITERATIONS", "16"),
        ("AUTHGATE_HASH_MAX_QUEUE", "1"),
        ("AUTHGATE_RATE_LIMIT_LOGIN", "1000/min"),
    ])
    .await;
    let user = app.register_user().await;
    // A slot can free up between seeing the queue full and the reset arriving on a loaded
    // machine; such a round proves nothing, so it is tried again with a fresh link.
    let mut refused = None;
    for _round in 0..5 {
        let token = app
            .issue_token(&user.email, TokenPurpose::ResetPassword)
            .await;
        let logins = saturate_the_hasher(&app, &user.email).await;
        let busy = Answer::of(app.reset_password(&token, NEW_PASSWORD).await).await;
        for login in logins {
            login.await.unwrap().unwrap();
        }
        if busy.status == StatusCode::SERVICE_UNAVAILABLE {
            refused = Some((token, busy));
            break;
        }
    }
    let (token, busy) = refused.expect("no reset was ever refused while the hasher was full");

    let later = Answer::of(app.reset_password(&token, NEW_PASSWORD).await).await;

    busy.assert_error(StatusCode::SERVICE_UNAVAILABLE, "overloaded");
    assert_eq!(later.status, StatusCode::OK, "{}", later.body);
}

/// Keeps logins in flight (two per hashing slot plus two, so a slot that frees up early still
/// leaves the queue full; the extra ones are refused with 503) until the queue holds one, and
/// returns them. On a loaded machine the first logins can arrive one by one and finish
/// before the next lands, so more are started as the earlier ones finish.
async fn saturate_the_hasher(
    app: &TestApp,
    email: &str,
) -> Vec<tokio::task::JoinHandle<reqwest::Result<reqwest::Response>>> {
    let slots = std::thread::available_parallelism().map_or(1, |n| n.get());
    let login = json!({ "email": email, "password": PASSWORD });
    let mut logins: Vec<tokio::task::JoinHandle<_>> = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while app.service.hasher().queue_depth() < 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the hasher never filled up"
        );
        let in_flight = logins.iter().filter(|l| !l.is_finished()).count();
        for _ in in_flight..2 * slots + 2 {
            let (api, url, body) = (app.api.clone(), app.url("/api/auth/login"), login.clone());
            logins.push(tokio::spawn(async move {
                api.post(url).json(&body).send().await
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    logins
}
