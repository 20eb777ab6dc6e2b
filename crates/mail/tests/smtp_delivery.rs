//! The worker against a real SMTP server (aiosmtpd as a child process).

mod common;

use std::sync::Arc;
use std::time::Duration;

use authgate_mail::testing::SmtpTestServer;
use common::*;
use tokio::sync::Notify;

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn a_queued_mail_is_delivered_over_smtp_with_text_and_html_parts() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path()).await;
    let notify = Arc::new(Notify::new());
    let link = link_with_token("tok-delivered-123");
    let mail = verification_mail("ada@example.com", &link);
    enqueue(&store, &notify, &mail).await;

    let worker = RunningWorker::spawn(
        store.clone(),
        smtp_transport(&smtp.url()),
        notify,
        fast_config(),
        None,
    );
    let got = smtp.wait_for_mail("ada@example.com", WAIT).await;

    assert_eq!(got.subject, "Confirm your email address");
    assert!(got.header("From").unwrap().contains("no-reply@example.com"));
    assert!(got.header("From").unwrap().contains("authgate"));
    assert!(got.header("To").unwrap().contains("ada@example.com"));
    assert_eq!(got.header("X-MailFrom"), Some("no-reply@example.com"));
    let message_id = got.header("Message-ID").expect("a Message-ID");
    assert!(message_id.contains(&mail.id), "{message_id}");
    assert!(got.header("Date").is_some());
    assert!(got
        .header("Content-Type")
        .unwrap()
        .contains("multipart/alternative"));
    assert!(
        got.text.contains("Hello Ada,") && got.text.contains(&link),
        "{}",
        got.text
    );
    assert!(
        got.html.contains(&format!("href=\"{link}\"")),
        "{}",
        got.html
    );
    assert!(!got.html.contains("<img"), "no remote images");

    worker.shutdown().await;
    assert_eq!(store.mail_queue_depth().await.unwrap(), 0);
    let (attempts, last_error, sent_at) = queue_row(dir.path(), &mail.id).await;
    assert_eq!((attempts, last_error), (1, None));
    assert!(sent_at.is_some());
}

#[tokio::test]
async fn an_smtp_outage_keeps_mail_queued_and_it_is_delivered_once_the_server_is_up() {
    let Some(mut smtp) = SmtpTestServer::new() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path()).await;
    let notify = Arc::new(Notify::new());
    let mail = verification_mail("grace@example.com", &link_with_token("tok-outage"));
    enqueue(&store, &notify, &mail).await;

    let worker = RunningWorker::spawn(
        store.clone(),
        smtp_transport(&smtp.url()),
        notify,
        fast_config(),
        None,
    );
    let (attempts, error) = wait_for_attempts(dir.path(), &mail.id, 2).await;
    assert!(attempts >= 2);
    assert!(error.unwrap().starts_with("smtp: "));
    assert_eq!(store.mail_queue_depth().await.unwrap(), 1, "still queued");
    assert!(!worker.handle.is_finished(), "the worker keeps running");

    smtp.start().await; // same port
    let got = smtp.wait_for_mail("grace@example.com", WAIT).await;
    assert_eq!(got.subject, "Confirm your email address");
    worker.shutdown().await;
    assert_eq!(store.mail_queue_depth().await.unwrap(), 0);
}

#[tokio::test]
async fn mail_queued_before_a_restart_is_sent_by_the_next_worker_on_the_same_store() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    {
        // The first process queues mail and stops before any worker sent it.
        let store = file_store(dir.path()).await;
        enqueue(
            &store,
            &Notify::new(),
            &verification_mail("ada@example.com", "https://x/1"),
        )
        .await;
    }
    let store = file_store(dir.path()).await;
    let worker = RunningWorker::spawn(
        store.clone(),
        smtp_transport(&smtp.url()),
        Arc::new(Notify::new()),
        fast_config(),
        None,
    );
    smtp.wait_for_mail("ada@example.com", WAIT).await;
    worker.shutdown().await;
    assert_eq!(store.mail_queue_depth().await.unwrap(), 0);
}

#[tokio::test]
async fn mail_claimed_by_a_crashed_worker_is_sent_when_its_lease_ends() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mail = verification_mail("lin@example.com", "https://x/2");
    {
        // A worker claims the mail with a 1 s lease, then its process dies.
        let store = file_store(dir.path()).await;
        enqueue(&store, &Notify::new(), &mail).await;
        let now = chrono::Utc::now();
        let claimed = store
            .claim_due_mail(now, now + chrono::Duration::seconds(1), 10)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
    }
    let store = file_store(dir.path()).await;
    let worker = RunningWorker::spawn(
        store.clone(),
        smtp_transport(&smtp.url()),
        Arc::new(Notify::new()),
        fast_config(),
        None,
    );
    smtp.wait_for_mail("lin@example.com", WAIT).await;
    worker.shutdown().await;
    let (attempts, _, sent_at) = queue_row(dir.path(), &mail.id).await;
    assert_eq!(attempts, 2, "the crashed claim counts as an attempt");
    assert!(sent_at.is_some());
}

#[tokio::test]
async fn the_notify_wakes_the_worker_without_waiting_for_the_poll_interval() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path()).await;
    let notify = Arc::new(Notify::new());
    let config = authgate_mail::WorkerConfig {
        poll_interval: Duration::from_secs(3600),
        ..fast_config()
    };
    let worker = RunningWorker::spawn(
        store.clone(),
        smtp_transport(&smtp.url()),
        notify.clone(),
        config,
        None,
    );
    // Let the worker find the queue empty and go to sleep for an hour.
    tokio::time::sleep(Duration::from_millis(300)).await;

    enqueue(
        &store,
        &notify,
        &verification_mail("ada@example.com", "https://x/3"),
    )
    .await;
    smtp.wait_for_mail("ada@example.com", Duration::from_secs(10))
        .await;
    worker.shutdown().await;
}

#[tokio::test]
async fn the_workers_error_text_and_logs_never_contain_the_link() {
    let Some(smtp) = SmtpTestServer::new() else {
        return;
    }; // never started: connections fail
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path()).await;
    let notify = Arc::new(Notify::new());
    let token = "tok-SECRET-9f8e7d";
    let mail = verification_mail("ada@example.com", &link_with_token(token));
    enqueue(&store, &notify, &mail).await;
    // A recipient the transport cannot even address fails differently; it must not leak either.
    let mut broken = verification_mail("not an address", &link_with_token(token));
    broken.id = format!("{}-b", broken.id);
    enqueue(&store, &notify, &broken).await;

    let logs = LogCapture::default();
    let worker = RunningWorker::spawn(
        store.clone(),
        smtp_transport(&smtp.url()),
        notify,
        fast_config(),
        Some(&logs),
    );
    let (_, error) = wait_for_attempts(dir.path(), &mail.id, 2).await;
    let (_, broken_error) = wait_for_attempts(dir.path(), &broken.id, 2).await;
    worker.shutdown().await;

    let logs = logs.text();
    assert!(logs.contains("mail not sent"), "{logs}");
    assert!(logs.contains("mail rejected"), "{logs}");
    for text in [error.unwrap(), broken_error.unwrap(), logs] {
        assert!(!text.contains(token), "{text}");
        assert!(!text.contains("verify-email"), "{text}");
    }
}

#[tokio::test]
async fn starttls_is_required_so_a_server_without_it_gets_no_mail() {
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let transport = smtp_transport(&format!("smtp+starttls://127.0.0.1:{}", smtp.port()));
    let mail = verification_mail("ada@example.com", "https://x/tls");
    let err = transport
        .send(&mail)
        .await
        .expect_err("no STARTTLS offered");
    assert!(err.to_string().starts_with("smtp: "), "{err}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(smtp.received().is_empty(), "nothing was sent in clear text");
}
