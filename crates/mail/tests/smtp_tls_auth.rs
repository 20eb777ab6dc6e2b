//! TLS and SMTP AUTH against a real SMTP server (aiosmtpd) whose certificate comes from a CA
//! made for the test, trusted through the CA file setting (`AUTHGATE_SMTP_CA_FILE`).

mod common;

use std::sync::Arc;
use std::time::Duration;

use authgate_mail::testing::{SmtpTestOptions, SmtpTestServer};
use authgate_mail::{transport_from_settings, MailError, SmtpSecurity};
use common::*;
use tokio::sync::Notify;

const WAIT: Duration = Duration::from_secs(15);

/// Queues one mail for `to` in a fresh store and runs a worker with `settings` until it
/// arrives at `smtp`; checks it left the queue.
async fn deliver_one(smtp: &SmtpTestServer, settings: authgate_mail::MailSettings, to: &str) {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path()).await;
    let notify = Arc::new(Notify::new());
    let link = link_with_token("tok-over-tls");
    enqueue(&store, &notify, &verification_mail(to, &link)).await;
    let transport = transport_from_settings(&settings).expect("a TLS transport");
    let worker = RunningWorker::spawn(store.clone(), transport, notify, fast_config(), None);

    let got = smtp.wait_for_mail(to, WAIT).await;
    assert_eq!(got.subject, "Confirm your email address");
    assert!(got.text.contains(&link), "{}", got.text);
    worker.shutdown().await;
    assert_eq!(store.mail_queue_depth().await.unwrap(), 0);
}

#[tokio::test]
async fn a_mail_is_delivered_over_smtps_with_credentials_in_the_url() {
    let options = SmtpTestOptions::tls_with_auth(SmtpSecurity::ImplicitTls, "ada", "p@ss word");
    let Some(smtp) = SmtpTestServer::launch_with(options).await else {
        return;
    };
    let url = format!("smtps://ada:p%40ss%20word@127.0.0.1:{}", smtp.port());
    let mut settings = smtp_settings(&url);
    settings.smtp_ca_file = smtp.ca_file();
    deliver_one(&smtp, settings, "ada@example.com").await;
}

#[tokio::test]
async fn a_mail_is_delivered_over_starttls_with_a_separate_username_and_password() {
    let options = SmtpTestOptions::tls_with_auth(SmtpSecurity::StartTls, "mailer", "s3cret");
    let Some(smtp) = SmtpTestServer::launch_with(options).await else {
        return;
    };
    assert!(smtp.url().starts_with("smtp+starttls://127.0.0.1:"));
    let mut settings = smtp_settings(&smtp.url());
    settings.smtp_ca_file = smtp.ca_file();
    settings.smtp_username = Some("mailer".to_owned());
    settings.smtp_password = Some("s3cret".to_owned().into());
    deliver_one(&smtp, settings, "grace@example.com").await;
}

#[tokio::test]
async fn wrong_credentials_keep_the_mail_queued_and_log_an_error_without_the_password() {
    let options = SmtpTestOptions::tls_with_auth(SmtpSecurity::StartTls, "mailer", "s3cret");
    let Some(smtp) = SmtpTestServer::launch_with(options).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path()).await;
    let notify = Arc::new(Notify::new());
    let mail = verification_mail("ada@example.com", &link_with_token("tok-auth"));
    enqueue(&store, &notify, &mail).await;
    let mut settings = smtp_settings(&smtp.url());
    settings.smtp_ca_file = smtp.ca_file();
    settings.smtp_username = Some("mailer".to_owned());
    settings.smtp_password = Some("hunter2-wrong".to_owned().into());
    let config = authgate_mail::WorkerConfig {
        permanent_attempts: 1, // a refused login is not the mail's fault: no giving up
        ..fast_config()
    };
    let logs = LogCapture::default();
    let worker = RunningWorker::spawn(
        store.clone(),
        transport_from_settings(&settings).unwrap(),
        notify,
        config,
        Some(&logs),
    );

    let (attempts, error) = wait_for_attempts(dir.path(), &mail.id, 3).await;
    worker.shutdown().await;
    assert!(attempts >= 3);
    let error = error.unwrap();
    assert!(
        error.starts_with("smtp: ") && error.contains("535"),
        "{error}"
    );
    assert_eq!(store.mail_queue_depth().await.unwrap(), 1, "still queued");
    assert!(smtp.received().is_empty());
    let logs = logs.text();
    assert!(logs.contains("ERROR"), "{logs}");
    assert!(logs.contains("check the SMTP settings"), "{logs}");
    assert!(!logs.contains("given up"), "{logs}");
    for text in [&error, &logs] {
        assert!(!text.contains("hunter2"), "the password leaked: {text}");
    }
}

#[tokio::test]
async fn without_the_ca_file_the_private_certificate_is_refused_and_nothing_is_sent() {
    let options = SmtpTestOptions::tls_with_auth(SmtpSecurity::ImplicitTls, "ada", "pw");
    let Some(smtp) = SmtpTestServer::launch_with(options).await else {
        return;
    };
    let url = format!("smtps://ada:pw@127.0.0.1:{}", smtp.port());
    let transport = transport_from_settings(&smtp_settings(&url)).unwrap();
    let err = transport
        .send(&verification_mail("ada@example.com", "https://x/tls"))
        .await
        .expect_err("an unknown CA is not trusted");
    assert!(matches!(err, MailError::SmtpSetup(_)), "{err:?}");
    assert!(err.needs_operator() && !err.is_permanent());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(smtp.received().is_empty());
}
