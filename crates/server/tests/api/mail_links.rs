//! What the links in account mail can and cannot do once other things happened: a reset
//! verifies the address, a password change or a newer mail kills older links, configured
//! lifetimes hold, and a login with the right password of an unverified account mails a
//! fresh link. Real mail over SMTP, as in `mail_flows` (whose helpers these are).

use std::time::Duration;

use authgate_core::clock::Clock;
use authgate_core::secret::OpaqueToken;
use authgate_core::store::TokenPurpose;
use authgate_mail::testing::SmtpTestServer;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Answer, TestApp, NEW_PASSWORD, PASSWORD};
use crate::mail_flows::{
    link_in, spawn_mailing_app, token_of, wait_for_subject, ARRIVAL, PUBLIC_URL, RESET_SUBJECT,
    VERIFY_SUBJECT,
};

/// The start of every verification link.
fn verify_prefix() -> String {
    format!("{PUBLIC_URL}/verify-email?token=")
}

/// The start of every reset link.
fn reset_prefix() -> String {
    format!("{PUBLIC_URL}/reset-password?token=")
}

/// The token in the next mail to `to` with `subject`, from its link starting with `prefix`.
async fn next_token(smtp: &SmtpTestServer, to: &str, subject: &str, prefix: &str) -> String {
    let mail = wait_for_subject(smtp, to, subject, ARRIVAL).await;
    let link = link_in(&mail, prefix);
    token_of(&link, prefix).to_owned()
}

/// Asks for a reset link for `email` and returns its token, read from the mail.
async fn reset_token_by_mail(app: &TestApp, smtp: &SmtpTestServer, email: &str) -> String {
    assert_eq!(app.forgot_password(email).await.status(), StatusCode::OK);
    next_token(smtp, email, RESET_SUBJECT, &reset_prefix()).await
}

/// Whether `login` with `password` gets in: the user as `GET /me`-style JSON, or the answer.
async fn log_in(app: &TestApp, email: &str, password: &str) -> Answer {
    Answer::of(
        app.login(&json!({ "email": email, "password": password }))
            .await,
    )
    .await
}

#[tokio::test]
async fn a_reset_through_the_mailed_link_marks_the_email_verified() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let app = spawn_mailing_app(&smtp.url(), &[]).await;
    let user = app.register_user().await;
    let token = reset_token_by_mail(&app, &smtp, &user.email).await;

    let res = Answer::of(app.reset_password(&token, NEW_PASSWORD).await).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let login = log_in(&app, &user.email, NEW_PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert_eq!(login.body["user"]["emailVerified"], true, "{}", login.body);
}

#[tokio::test]
async fn a_password_change_kills_an_outstanding_reset_link() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let app = spawn_mailing_app(&smtp.url(), &[]).await;
    let user = app.register_user().await;
    let token = reset_token_by_mail(&app, &smtp, &user.email).await;

    let changed = app
        .change_password(&user.access, PASSWORD, NEW_PASSWORD)
        .await;
    assert_eq!(changed.status(), StatusCode::OK);

    Answer::of(app.reset_password(&token, "Third5Difference").await)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_token");
    let login = log_in(&app, &user.email, NEW_PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
}

#[tokio::test]
async fn a_newer_reset_link_kills_the_older_one() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let app = spawn_mailing_app(&smtp.url(), &[]).await;
    let user = app.register_user().await;
    let older = reset_token_by_mail(&app, &smtp, &user.email).await;
    let newer = reset_token_by_mail(&app, &smtp, &user.email).await;
    assert_ne!(older, newer);

    Answer::of(app.reset_password(&older, NEW_PASSWORD).await)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_token");
    let res = Answer::of(app.reset_password(&newer, NEW_PASSWORD).await).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

#[tokio::test]
async fn resend_verification_mails_a_fresh_link_and_the_previous_one_dies() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let app = spawn_mailing_app(&smtp.url(), &[]).await;
    let user = app.register_user().await;
    let first = next_token(&smtp, &user.email, VERIFY_SUBJECT, &verify_prefix()).await;

    let res = app.resend_verification(&user.access).await;
    assert_eq!(res.status(), StatusCode::OK);
    let second = next_token(&smtp, &user.email, VERIFY_SUBJECT, &verify_prefix()).await;

    assert_ne!(first, second);
    Answer::of(app.verify_email(&first).await)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_token");
    let res = Answer::of(app.verify_email(&second).await).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

#[tokio::test]
async fn configured_token_lifetimes_reach_the_stored_expiry() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    // Minutes, not seconds: MongoDB's TTL index may delete a token as soon as it expired,
    // so the look-ups below must happen while both tokens are still really alive.
    let (verify_ttl, reset_ttl) = (chrono::Duration::minutes(5), chrono::Duration::minutes(7));
    let ttls = [
        ("AUTHGATE_VERIFICATION_TOKEN_TTL", "5m"),
        ("AUTHGATE_RESET_TOKEN_TTL", "7m"),
    ];
    let app = spawn_mailing_app(&smtp.url(), &ttls).await;
    let asked_from = app.clock.now();
    let user = app.register_user().await;
    assert_eq!(
        app.forgot_password(&user.email).await.status(),
        StatusCode::OK
    );
    app.service.flush().await;
    let asked_until = app.clock.now();
    let verify = next_token(&smtp, &user.email, VERIFY_SUBJECT, &verify_prefix()).await;
    let reset = next_token(&smtp, &user.email, RESET_SUBJECT, &reset_prefix()).await;

    let store = app.service.store();
    for (token, purpose, ttl) in [
        (&verify, TokenPurpose::VerifyEmail, verify_ttl),
        (&reset, TokenPurpose::ResetPassword, reset_ttl),
    ] {
        let hash = OpaqueToken::from_client(token).expect("a token").hash();
        // A second of slack: the MongoDB stand-in keeps times to the second.
        let just_before = asked_from + ttl - chrono::Duration::seconds(1);
        let just_after = asked_until + ttl;
        let live = store.find_one_time_token(&hash, purpose, just_before).await;
        let dead = store.find_one_time_token(&hash, purpose, just_after).await;
        assert!(live.unwrap().is_some(), "{purpose:?} expired before {ttl}");
        assert!(dead.unwrap().is_none(), "{purpose:?} lived past {ttl}");
    }
}

#[tokio::test]
async fn an_expired_verification_or_reset_link_is_refused() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let ttls = [
        ("AUTHGATE_VERIFICATION_TOKEN_TTL", "1s"),
        ("AUTHGATE_RESET_TOKEN_TTL", "1s"),
    ];
    let app = spawn_mailing_app(&smtp.url(), &ttls).await;
    let user = app.register_user().await;
    assert_eq!(
        app.forgot_password(&user.email).await.status(),
        StatusCode::OK
    );
    app.service.flush().await;
    let verify = next_token(&smtp, &user.email, VERIFY_SUBJECT, &verify_prefix()).await;
    let reset = next_token(&smtp, &user.email, RESET_SUBJECT, &reset_prefix()).await;

    app.clock.advance(Duration::from_secs(1));

    Answer::of(app.verify_email(&verify).await)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_token");
    Answer::of(app.reset_password(&reset, NEW_PASSWORD).await)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_token");
}

#[tokio::test]
async fn logging_in_with_the_right_password_of_an_unverified_account_mails_a_fresh_link() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let required = [("AUTHGATE_REQUIRE_VERIFIED_EMAIL", "true")];
    let app = spawn_mailing_app(&smtp.url(), &required).await;
    let user = app.register_user().await;
    let first = next_token(&smtp, &user.email, VERIFY_SUBJECT, &verify_prefix()).await;

    log_in(&app, &user.email, PASSWORD)
        .await
        .assert_error(StatusCode::FORBIDDEN, "email_not_verified");
    let fresh = next_token(&smtp, &user.email, VERIFY_SUBJECT, &verify_prefix()).await;

    assert_ne!(first, fresh);
    let res = Answer::of(app.verify_email(&fresh).await).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let login = log_in(&app, &user.email, PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
}

#[tokio::test]
async fn a_wrong_password_on_an_unverified_account_mails_nothing() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let required = [("AUTHGATE_REQUIRE_VERIFIED_EMAIL", "true")];
    let app = spawn_mailing_app(&smtp.url(), &required).await;
    let user = app.register_user().await;
    next_token(&smtp, &user.email, VERIFY_SUBJECT, &verify_prefix()).await;

    log_in(&app, &user.email, "Wrong7Password")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    app.service.flush().await;

    assert_eq!(
        app.service.store().mail_queue_depth().await.unwrap(),
        0,
        "a mail was queued for a wrong password"
    );
    // Nothing is queued, and a mail is dequeued only once delivered: no other can arrive.
    assert_eq!(smtp.received().len(), 1, "only the registration's mail");
}

#[tokio::test]
async fn the_service_flush_at_shutdown_waits_for_the_reset_mail_forgot_password_queues_later() {
    // SMTP never comes up, so every queued mail stays queued and can be counted.
    let Some(smtp) = SmtpTestServer::new() else {
        return;
    };
    let app = spawn_mailing_app(&smtp.url(), &[]).await;
    let user = app.register_user().await;

    assert_eq!(
        app.forgot_password(&user.email).await.status(),
        StatusCode::OK
    );
    app.service.flush().await;

    let queued = app.service.store().mail_queue_depth().await.unwrap();
    assert_eq!(queued, 2, "the verification mail and the reset mail");
}
