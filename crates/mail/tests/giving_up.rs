//! The worker gives up on mail that cannot be delivered: after a few permanent rejections, or
//! once the mail is too old, it is discarded with an error log line that shows no body.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use authgate_core::store::OutgoingMail;
use authgate_mail::{MailError, MailTransport, WorkerConfig};
use common::*;
use tokio::sync::Notify;

/// A transport whose every send fails, permanently (like an SMTP 550) or not (like a 421).
#[derive(Debug, Default)]
struct FailingTransport {
    permanent: bool,
    sends: AtomicU32,
}

#[async_trait]
impl MailTransport for FailingTransport {
    async fn send(&self, _mail: &OutgoingMail) -> Result<(), MailError> {
        self.sends.fetch_add(1, Ordering::SeqCst);
        Err(MailError::Smtp {
            message: if self.permanent {
                "permanent error (550): mailbox unavailable".into()
            } else {
                "transient error (421): try again later".into()
            },
            permanent: self.permanent,
        })
    }

    fn describe(&self) -> String {
        "failing test transport".into()
    }
}

#[tokio::test]
async fn a_permanently_rejected_mail_is_discarded_after_the_configured_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path()).await;
    let notify = Arc::new(Notify::new());
    let token = "tok-rejected-77";
    enqueue(
        &store,
        &notify,
        &verification_mail("ada@example.com", &link_with_token(token)),
    )
    .await;
    let transport = Arc::new(FailingTransport {
        permanent: true,
        ..Default::default()
    });
    let config = WorkerConfig {
        permanent_attempts: 3,
        ..fast_config()
    };
    let logs = LogCapture::default();
    let worker = RunningWorker::spawn(
        store.clone(),
        transport.clone(),
        notify,
        config,
        Some(&logs),
    );

    wait_for_empty_queue(&store).await;
    tokio::time::sleep(Duration::from_millis(500)).await; // no further attempt comes
    worker.shutdown().await;
    assert_eq!(transport.sends.load(Ordering::SeqCst), 3);
    let logs = logs.text();
    assert!(
        logs.contains("mail given up after 3 attempts; discarded"),
        "{logs}"
    );
    assert!(logs.contains("550"), "{logs}");
    assert!(
        !logs.contains(token),
        "the log never shows the body: {logs}"
    );
}

#[tokio::test]
async fn a_transiently_failing_mail_is_retried_until_it_is_too_old_and_then_discarded() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path()).await;
    let notify = Arc::new(Notify::new());
    enqueue(
        &store,
        &notify,
        &verification_mail("ada@example.com", "https://x/old"),
    )
    .await;
    let transport = Arc::new(FailingTransport::default());
    let config = WorkerConfig {
        give_up_after: Duration::from_millis(1500),
        permanent_attempts: 1, // a transient error is never given up for its attempts
        ..fast_config()
    };
    let logs = LogCapture::default();
    let worker = RunningWorker::spawn(
        store.clone(),
        transport.clone(),
        notify,
        config,
        Some(&logs),
    );

    wait_for_empty_queue(&store).await;
    worker.shutdown().await;
    let sends = transport.sends.load(Ordering::SeqCst);
    assert!(
        sends >= 3,
        "retried while young enough, then dropped: {sends} sends"
    );
    let logs = logs.text();
    assert!(logs.contains("will retry"), "{logs}");
    assert!(logs.contains("discarded"), "{logs}");
}
