//! Shared set-up of the integration tests: a file SQLite store, queued mails rendered by the
//! real templates, a worker running in the background with a shutdown switch, log capture.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authgate_core::mail::{outgoing, MailContext, MailKind, MailRenderer};
use authgate_core::store::OutgoingMail;
use authgate_core::Store;
use authgate_mail::{
    transport_from_settings, MailSettings, MailTransport, MailWorker, TemplateRenderer,
    WorkerConfig,
};
use authgate_store_sql::SqliteStore;
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

/// The From address used by the tests.
pub(crate) const FROM: &str = "authgate <no-reply@example.com>";

/// A worker configuration with short delays: retries after 200 ms, 400 ms, ... up to 1 s,
/// and (unless a test says otherwise) no giving up.
pub(crate) fn fast_config() -> WorkerConfig {
    WorkerConfig {
        poll_interval: Duration::from_millis(100),
        lease: Duration::from_secs(60),
        batch_size: 10,
        send_timeout: Duration::from_secs(10),
        retry_base: Duration::from_millis(200),
        retry_max: Duration::from_secs(1),
        give_up_after: Duration::from_secs(24 * 3600),
        permanent_attempts: u32::MAX,
    }
}

/// A migrated SQLite store in a file of `dir`.
pub(crate) async fn file_store(dir: &Path) -> Arc<dyn Store> {
    let store = SqliteStore::connect(&db_url(dir))
        .await
        .expect("open store");
    store.migrate().await.expect("migrate");
    Arc::new(store)
}

/// The database URL of [`file_store`].
pub(crate) fn db_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("authgate.db").display())
}

/// A verification mail for `to`, rendered by the built-in templates, with `link`.
pub(crate) fn verification_mail(to: &str, link: &str) -> OutgoingMail {
    let renderer = TemplateRenderer::new(None).expect("built-in templates");
    let ctx = MailContext {
        to: to.to_owned(),
        name: Some("Ada".to_owned()),
        link: Some(link.to_owned()),
        expires_in_minutes: 1440,
        expires_in: "24 hours".into(),
        forgot_password_url: "https://auth.example.com/forgot-password".into(),
        public_url: "https://auth.example.com".to_owned(),
    };
    outgoing(
        to,
        renderer
            .render(MailKind::VerifyEmail, &ctx)
            .expect("render"),
    )
}

/// A link with a recognisable secret token.
pub(crate) fn link_with_token(token: &str) -> String {
    format!("https://auth.example.com/api/auth/verify-email/{token}")
}

/// Queues `mail` as the core does (and signals the worker).
pub(crate) async fn enqueue(store: &Arc<dyn Store>, notify: &Notify, mail: &OutgoingMail) {
    store
        .enqueue_mail(mail, chrono::Utc::now())
        .await
        .expect("enqueue");
    notify.notify_one();
}

/// An SMTP transport to `url` (as the server would build it from `AUTHGATE_SMTP_URL`).
pub(crate) fn smtp_transport(url: &str) -> Arc<dyn MailTransport> {
    transport_from_settings(&smtp_settings(url)).expect("smtp transport")
}

/// Settings for SMTP to `url`, with a 5 s timeout; a test adds CA file or credentials.
pub(crate) fn smtp_settings(url: &str) -> MailSettings {
    let mut settings = MailSettings::new(FROM);
    settings.smtp_url = Some(url.to_owned().into());
    settings.smtp_timeout = Duration::from_secs(5);
    settings
}

/// Polls until `store`'s queue holds no mail; panics after 20 s.
pub(crate) async fn wait_for_empty_queue(store: &Arc<dyn Store>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while store.mail_queue_depth().await.expect("queue depth") > 0 {
        assert!(
            Instant::now() < deadline,
            "the queue is not empty after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A worker running in the background until [`RunningWorker::shutdown`].
pub(crate) struct RunningWorker {
    stop: Option<oneshot::Sender<()>>,
    pub handle: JoinHandle<()>,
}

impl RunningWorker {
    /// Starts a worker; its logs go to `logs` if given.
    pub(crate) fn spawn(
        store: Arc<dyn Store>,
        transport: Arc<dyn MailTransport>,
        notify: Arc<Notify>,
        config: WorkerConfig,
        logs: Option<&LogCapture>,
    ) -> RunningWorker {
        use tracing::instrument::WithSubscriber;
        let (stop, stopped) = oneshot::channel::<()>();
        let worker = MailWorker::new(store, transport, notify, config);
        let run = worker.run(async move {
            let _ = stopped.await;
        });
        let handle = match logs {
            Some(logs) => tokio::spawn(run.with_subscriber(logs.subscriber())),
            None => tokio::spawn(run),
        };
        RunningWorker {
            stop: Some(stop),
            handle,
        }
    }

    /// Asks the worker to stop and waits; panics if it panicked or does not stop in 10 s.
    pub(crate) async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), &mut self.handle)
            .await
            .expect("worker stops within 10 s")
            .expect("worker did not panic");
    }
}

/// Attempts and last error of a queued mail, read straight from the SQLite file.
pub(crate) async fn queue_row(dir: &Path, id: &str) -> (i64, Option<String>, Option<i64>) {
    let pool = sqlx::SqlitePool::connect(&db_url(dir))
        .await
        .expect("open db");
    let row: (i64, Option<String>, Option<i64>) =
        sqlx::query_as("SELECT attempts, last_error, sent_at FROM mail_queue WHERE id = ?")
            .bind(id)
            .fetch_one(&pool)
            .await
            .expect("queued mail row");
    pool.close().await;
    row
}

/// Polls `dir`'s queue until mail `id` has at least `attempts` attempts; returns the row.
pub(crate) async fn wait_for_attempts(
    dir: &Path,
    id: &str,
    attempts: i64,
) -> (i64, Option<String>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (n, error, _) = queue_row(dir, id).await;
        if n >= attempts && error.is_some() {
            return (n, error);
        }
        assert!(Instant::now() < deadline, "only {n} attempts after 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Collects formatted log lines of everything a subscriber records.
#[derive(Clone, Default)]
pub(crate) struct LogCapture {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl LogCapture {
    /// A subscriber writing every level (with span fields) into this capture.
    pub(crate) fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync {
        let capture = self.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || capture.clone())
            .finish()
    }

    /// Everything logged so far.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().unwrap()).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.lock().unwrap().extend_from_slice(buf);
        if std::env::var_os("TEST_LOG").is_some() {
            std::io::stderr().write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `.eml` files in `dir`, sorted.
pub(crate) fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    files.sort();
    files
}
