//! Account mail end to end: each test runs authgate against a real SMTP server process
//! (`aiosmtpd`, from `authgate-mail`'s `testing` feature), reads what arrived, and follows
//! the link in it through the API. Without aiosmtpd each test prints `NOT RUN` and returns.
//! The helpers here serve `mail_links` too.

use std::time::{Duration, Instant};

use authgate_mail::testing::{ParsedMail, SmtpTestServer};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    database_url_for, unique_email, Answer, Backend, TestApp, TestUser, NEW_PASSWORD, PASSWORD,
};

/// The public URL every test server is configured with: links in mail must start with it.
pub(crate) const PUBLIC_URL: &str = "https://auth.example.com";
/// The configured sender.
const MAIL_FROM: &str = "authgate <no-reply@example.com>";
/// How long a mail sent while SMTP is up may take to arrive.
pub(crate) const ARRIVAL: Duration = Duration::from_secs(10);
/// How long a mail may take when it waits for a retry (the worker backs off from 5 s).
const AFTER_RETRY: Duration = Duration::from_secs(30);

pub(crate) const VERIFY_SUBJECT: &str = "Confirm your email address";
pub(crate) const RESET_SUBJECT: &str = "Reset your password";
pub(crate) const CHANGED_SUBJECT: &str = "Your password was changed";

/// An authgate that sends its mail to `smtp_url`, from [`MAIL_FROM`], with links to
/// [`PUBLIC_URL`], plus any `extra` settings.
pub(crate) async fn spawn_mailing_app(smtp_url: &str, extra: &[(&str, &str)]) -> TestApp {
    let mut settings = vec![
        ("AUTHGATE_SMTP_URL", smtp_url),
        ("AUTHGATE_MAIL_FROM", MAIL_FROM),
        ("AUTHGATE_PUBLIC_URL", PUBLIC_URL),
    ];
    settings.extend_from_slice(extra);
    TestApp::spawn_with(&settings).await
}

/// Waits for a new mail to `to` with this subject, skipping (and consuming) other mail to
/// `to`; panics after `timeout`.
pub(crate) async fn wait_for_subject(
    smtp: &SmtpTestServer,
    to: &str,
    subject: &str,
    timeout: Duration,
) -> ParsedMail {
    let deadline = Instant::now() + timeout;
    let mut skipped = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no mail {subject:?} to {to} within {timeout:?}; other mail to them: {skipped:?}"
        );
        let mail = smtp.wait_for_mail(to, left).await;
        if mail.subject == subject {
            return mail;
        }
        skipped.push(mail.subject);
    }
}

/// The first link in the text part starting with `prefix`, to the end of its token.
pub(crate) fn link_in(mail: &ParsedMail, prefix: &str) -> String {
    let start = mail
        .text
        .find(prefix)
        .unwrap_or_else(|| panic!("no link starting {prefix:?} in the mail:\n{}", mail.text));
    let rest = &mail.text[start + prefix.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(rest.len());
    let token = &rest[..end];
    assert!(
        token.len() >= 20,
        "the token in {prefix}{token} looks too short"
    );
    format!("{prefix}{token}")
}

/// The token at the end of a link made by [`link_in`].
pub(crate) fn token_of<'a>(link: &'a str, prefix: &str) -> &'a str {
    link.strip_prefix(prefix).expect("a link made by link_in")
}

/// Asserts the envelope and headers of a mail for `to` with `subject`, with a text and an
/// HTML part.
#[track_caller]
fn assert_sane_mail(mail: &ParsedMail, to: &str, subject: &str) {
    assert_eq!(mail.subject, subject);
    let from = mail.header("From").unwrap_or("");
    assert!(
        from.contains("no-reply@example.com"),
        "From {from:?}, configured {MAIL_FROM:?}"
    );
    let to_header = mail.header("To").unwrap_or("");
    assert!(
        to_header
            .to_ascii_lowercase()
            .contains(&to.to_ascii_lowercase()),
        "To {to_header:?}, expected {to}"
    );
    let envelope = mail.header("X-RcptTo").unwrap_or("");
    assert!(
        envelope
            .to_ascii_lowercase()
            .contains(&to.to_ascii_lowercase()),
        "envelope recipient {envelope:?}, expected {to}"
    );
    assert!(!mail.text.trim().is_empty(), "no text part:\n{}", mail.raw);
    assert!(!mail.html.trim().is_empty(), "no HTML part:\n{}", mail.raw);
}

#[tokio::test]
async fn the_verification_mail_arrives_over_smtp_and_its_token_verifies_the_email_idempotently() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let app = spawn_mailing_app(&smtp.url(), &[]).await;
    let user = app.register_user().await;

    let mail = wait_for_subject(&smtp, &user.email, VERIFY_SUBJECT, ARRIVAL).await;

    assert_sane_mail(&mail, &user.email, VERIFY_SUBJECT);
    let prefix = format!("{PUBLIC_URL}/verify-email?token=");
    let link = link_in(&mail, &prefix);
    let token = token_of(&link, &prefix);
    assert!(mail.html.contains(token), "the HTML part lacks the link");

    let res = Answer::of(app.verify_email(token).await).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["message"], "Email verified successfully");
    let me = Answer::of(app.me(&user.access).await).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["user"]["emailVerified"], true, "{}", me.body);

    // Opened again (a mail scanner got there first): verified, not an error.
    let again = Answer::of(app.verify_email(token).await).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["message"], "Email is already verified");
}

#[tokio::test]
async fn the_reset_mail_link_sets_a_new_password_revokes_everything_and_works_once() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let app = spawn_mailing_app(&smtp.url(), &[]).await;
    let user = app.register_user().await;

    let res = app.forgot_password(&user.email).await;
    assert_eq!(res.status(), StatusCode::OK);
    let mail = wait_for_subject(&smtp, &user.email, RESET_SUBJECT, ARRIVAL).await;

    assert_sane_mail(&mail, &user.email, RESET_SUBJECT);
    let prefix = format!("{PUBLIC_URL}/reset-password?token=");
    let link = link_in(&mail, &prefix);
    let token = token_of(&link, &prefix);
    assert!(mail.html.contains(token), "the HTML part lacks the link");

    let res = Answer::of(app.reset_password(token, NEW_PASSWORD).await).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);

    assert_eq!(
        app.me(&user.access).await.status(),
        StatusCode::UNAUTHORIZED,
        "the old access token still works"
    );
    assert_eq!(
        app.refresh_body(&user.refresh).await.status(),
        StatusCode::UNAUTHORIZED,
        "the old refresh token still works"
    );
    let old = json!({ "email": user.email, "password": PASSWORD });
    Answer::of(app.login(&old).await)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    let new = json!({ "email": user.email, "password": NEW_PASSWORD });
    let res = Answer::of(app.login(&new).await).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);

    Answer::of(app.reset_password(token, "Third5Difference").await)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_token");

    let notice = wait_for_subject(&smtp, &user.email, CHANGED_SUBJECT, ARRIVAL).await;
    assert_sane_mail(&notice, &user.email, CHANGED_SUBJECT);
}

#[tokio::test]
async fn forgot_password_for_an_unknown_address_answers_alike_and_sends_no_mail() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let app = spawn_mailing_app(&smtp.url(), &[]).await;
    let user = app.register_user().await;
    let stranger = unique_email();

    let unknown = Answer::of(app.forgot_password(&stranger).await).await;
    let known = Answer::of(app.forgot_password(&user.email).await).await;

    assert_eq!(unknown.status, StatusCode::OK, "{}", unknown.body);
    assert_eq!(unknown.status, known.status);
    assert_eq!(unknown.body, known.body);
    // The known user's mail was queued after the stranger's request: once it is in and
    // nothing is left to send (a mail leaves the queue only once delivered), nothing has
    // been sent to the stranger.
    wait_for_subject(&smtp, &user.email, RESET_SUBJECT, ARRIVAL).await;
    app.service.flush().await;
    // The server has the mail a moment before the worker marks it sent.
    let deadline = std::time::Instant::now() + ARRIVAL;
    while app.service.store().mail_queue_depth().await.unwrap() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no mail is left to send"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let to_stranger: Vec<String> = smtp
        .received()
        .iter()
        .filter(|m| {
            ["To", "X-RcptTo"]
                .iter()
                .any(|h| m.header(h).is_some_and(|v| v.contains(stranger.as_str())))
        })
        .map(|m| m.subject.clone())
        .collect();
    assert!(
        to_stranger.is_empty(),
        "mail sent to an unknown address: {to_stranger:?}"
    );
}

#[tokio::test]
async fn a_poisoned_host_header_does_not_change_the_link_in_the_reset_mail() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let app = spawn_mailing_app(&smtp.url(), &[]).await;
    let user = app.register_user().await;

    let res = app
        .api
        .post(app.url("/api/auth/forgot-password"))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "http")
        .json(&json!({ "email": user.email }))
        .send()
        .await
        .expect("POST /forgot-password sent");
    assert_eq!(res.status(), StatusCode::OK);

    let mail = wait_for_subject(&smtp, &user.email, RESET_SUBJECT, ARRIVAL).await;
    let link = link_in(&mail, &format!("{PUBLIC_URL}/reset-password?token="));
    assert!(link.starts_with(PUBLIC_URL), "{link}");
    assert!(
        !mail.raw.to_ascii_lowercase().contains("evil.example"),
        "the mail mentions the forged host:\n{}",
        mail.raw
    );
}

#[tokio::test]
async fn registration_answers_quickly_while_smtp_is_down_and_the_mail_arrives_once_it_is_up() {
    let Some(mut smtp) = SmtpTestServer::new() else {
        return;
    };
    let app = spawn_mailing_app(&smtp.url(), &[]).await;

    let started = Instant::now();
    let user = app.register_user().await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "registration took {took:?} with SMTP down"
    );

    // Let the worker fail at least once before the server comes up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    smtp.start().await;

    let mail = wait_for_subject(&smtp, &user.email, VERIFY_SUBJECT, AFTER_RETRY).await;
    assert_sane_mail(&mail, &user.email, VERIFY_SUBJECT);
    link_in(&mail, &format!("{PUBLIC_URL}/verify-email?token="));
}

#[tokio::test]
async fn mail_queued_while_smtp_is_down_is_sent_by_the_next_server_on_the_same_database() {
    let Some(mut smtp) = SmtpTestServer::new() else {
        return;
    };
    let (database_url, _db) = database_url_for(Backend::from_env()).await;
    let database = [("AUTHGATE_DATABASE_URL", database_url.as_str())];

    let first = spawn_mailing_app(&smtp.url(), &database).await;
    let user: TestUser = first.register_user().await;
    // The first server and its worker stop before the SMTP server comes up, so that the
    // mail can only come from the second one.
    first.stop().await;
    assert!(smtp.received().is_empty(), "mail was sent with SMTP down?");

    smtp.start().await;
    let second = spawn_mailing_app(&smtp.url(), &database).await;

    let mail = wait_for_subject(&smtp, &user.email, VERIFY_SUBJECT, AFTER_RETRY).await;
    assert_sane_mail(&mail, &user.email, VERIFY_SUBJECT);
    let prefix = format!("{PUBLIC_URL}/verify-email?token=");
    let link = link_in(&mail, &prefix);
    let res = Answer::of(second.verify_email(token_of(&link, &prefix)).await).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

#[tokio::test]
async fn changing_the_password_sends_a_password_changed_notice() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let app = spawn_mailing_app(&smtp.url(), &[]).await;
    let user = app.register_user().await;

    let res = app
        .change_password(&user.access, PASSWORD, NEW_PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let notice = wait_for_subject(&smtp, &user.email, CHANGED_SUBJECT, ARRIVAL).await;
    assert_sane_mail(&notice, &user.email, CHANGED_SUBJECT);
    assert!(
        !notice.text.contains(NEW_PASSWORD) && !notice.html.contains(NEW_PASSWORD),
        "the notice contains the new password"
    );
}
