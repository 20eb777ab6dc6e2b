//! [`MailWorker`]: drains the durable mail queue of the store through a [`MailTransport`].
//!
//! The queue lives in the store, so mail survives restarts: a worker claims due mails with a
//! lease (a worker that dies mid-batch releases them when the lease ends), sends each with a
//! timeout, and marks it sent, or failed with a retry time that backs off exponentially. An
//! SMTP outage only delays mail. Delivery is at least once: a crash between the server's
//! "accepted" and `mark_mail_sent` sends that mail again (with the same Message-ID).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use authgate_core::store::{QueuedMail, Store, StoreResult};
use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::error::MailError;
use crate::transport::MailTransport;

/// Timing of the [`MailWorker`].
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How often to look for due mail when nobody signals (retries come due on their own).
    pub poll_interval: Duration,
    /// How long a claimed mail stays invisible to other workers.
    pub lease: Duration,
    /// Mails claimed at once.
    pub batch_size: u32,
    /// Upper bound of one send (connect, TLS, SMTP conversation).
    pub send_timeout: Duration,
    /// Delay after the first failed attempt; doubles with each further attempt.
    pub retry_base: Duration,
    /// Longest delay between two attempts.
    pub retry_max: Duration,
    /// Age after which a mail that still fails is discarded instead of retried.
    pub give_up_after: Duration,
    /// Attempts after which a mail the server rejects for good (SMTP 5xx, an impossible
    /// address) is discarded.
    pub permanent_attempts: u32,
}

impl Default for WorkerConfig {
    /// Poll every 2 s, 60 s leases, batches of 10, 30 s send timeout, retries after
    /// 5 s, 10 s, 20 s, ... up to 15 min; give up after 3 days, or after 3 permanent
    /// rejections (the third comes about 15 s after the first).
    fn default() -> Self {
        WorkerConfig {
            poll_interval: Duration::from_secs(2),
            lease: Duration::from_secs(60),
            batch_size: 10,
            send_timeout: Duration::from_secs(30),
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(15 * 60),
            give_up_after: Duration::from_secs(3 * 24 * 3600),
            permanent_attempts: 3,
        }
    }
}

impl WorkerConfig {
    /// The wait before the next attempt after `attempts` failed ones:
    /// `retry_base * 2^(attempts-1)`, at most `retry_max`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use authgate_mail::WorkerConfig;
    /// let c = WorkerConfig::default();
    /// assert_eq!(c.retry_delay(1), Duration::from_secs(5));
    /// assert_eq!(c.retry_delay(3), Duration::from_secs(20));
    /// assert_eq!(c.retry_delay(40), Duration::from_secs(900));
    /// ```
    pub fn retry_delay(&self, attempts: u32) -> Duration {
        let exponent = attempts.saturating_sub(1).min(30);
        self.retry_base
            .checked_mul(1u32 << exponent)
            .map_or(self.retry_max, |d| d.min(self.retry_max))
    }

    /// True when a mail that just failed with a `permanent` (or transient) error on attempt
    /// `attempts` should be discarded rather than retried: it was queued at `queued_at`,
    /// longer than [`give_up_after`](Self::give_up_after) before `now`, or it was rejected
    /// for good on the [`permanent_attempts`](Self::permanent_attempts)th try.
    ///
    /// ```
    /// use chrono::{Duration, Utc};
    /// use authgate_mail::WorkerConfig;
    /// let c = WorkerConfig::default();
    /// let now = Utc::now();
    /// assert!(!c.gives_up(false, 50, now - Duration::hours(2), now));
    /// assert!(c.gives_up(false, 50, now - Duration::days(4), now));
    /// assert!(!c.gives_up(true, 2, now, now));
    /// assert!(c.gives_up(true, 3, now, now));
    /// ```
    pub fn gives_up(
        &self,
        permanent: bool,
        attempts: u32,
        queued_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> bool {
        let too_old = later(queued_at, self.give_up_after) <= now;
        too_old || (permanent && attempts >= self.permanent_attempts)
    }
}

/// Sends queued mail until shut down.
pub struct MailWorker {
    store: Arc<dyn Store>,
    transport: Arc<dyn MailTransport>,
    notify: Arc<Notify>,
    config: WorkerConfig,
}

impl std::fmt::Debug for MailWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailWorker")
            .field("transport", &self.transport)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl MailWorker {
    /// A worker for `store`'s queue. `notify` is [`authgate_core::AuthService::mail_ready`]:
    /// signalled when a mail is queued, it wakes the worker at once.
    pub fn new(
        store: Arc<dyn Store>,
        transport: Arc<dyn MailTransport>,
        notify: Arc<Notify>,
        config: WorkerConfig,
    ) -> Self {
        MailWorker {
            store,
            transport,
            notify,
            config,
        }
    }

    /// Mails waiting to be sent (for a metrics gauge).
    pub async fn queue_depth(&self) -> StoreResult<u64> {
        self.store.mail_queue_depth().await
    }

    /// Runs until `shutdown` completes. A send in progress is finished first (it is bounded
    /// by the send timeout); mails claimed but not yet sent come back when their lease ends.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        tracing::info!(transport = %self.transport.describe(), "mail worker started");
        let mut shutdown = std::pin::pin!(shutdown);
        let mut stopping = false;
        while !stopping {
            let full_batch = self.send_due(shutdown.as_mut(), &mut stopping).await;
            if stopping {
                break;
            }
            if full_batch {
                continue; // more may be due right away
            }
            tokio::select! {
                () = &mut shutdown => stopping = true,
                () = self.notify.notified() => {}
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
        tracing::info!("mail worker stopped");
    }

    /// Claims and sends one batch; true when the batch was full. Sets `stopping` (and stops
    /// early) if `shutdown` has completed between two sends.
    async fn send_due(
        &self,
        mut shutdown: Pin<&mut (impl Future<Output = ()> + Send)>,
        stopping: &mut bool,
    ) -> bool {
        let now = Utc::now();
        let lease_until = later(now, self.config.lease);
        let batch = match self
            .store
            .claim_due_mail(now, lease_until, self.config.batch_size)
            .await
        {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim queued mail; will retry");
                return false;
            }
        };
        let full = batch.len() >= self.config.batch_size as usize;
        for queued in batch {
            self.deliver(queued).await;
            if is_ready(shutdown.as_mut()).await {
                *stopping = true;
                return false;
            }
        }
        full
    }

    /// Sends one mail and records the outcome.
    #[tracing::instrument(skip_all, fields(mail_id = %queued.mail.id, attempt = queued.attempts))]
    async fn deliver(&self, queued: QueuedMail) {
        let id = &queued.mail.id;
        let outcome =
            match tokio::time::timeout(self.config.send_timeout, self.transport.send(&queued.mail))
                .await
            {
                Ok(result) => result,
                Err(_) => Err(MailError::Timeout(self.config.send_timeout.as_secs())),
            };
        match outcome {
            Ok(()) => {
                tracing::debug!("mail sent");
                if let Err(e) = self.store.mark_mail_sent(id, Utc::now()).await {
                    // It was delivered; if the mark is lost it is sent again after the lease.
                    tracing::warn!(error = %e, "mail sent but not marked as sent");
                }
            }
            Err(error) => self.record_failure(&queued, &error).await,
        }
    }

    /// Schedules the next attempt after `error`, or discards the mail when it is time to
    /// give up. Logs name the error, never the body.
    async fn record_failure(&self, queued: &QueuedMail, error: &MailError) {
        let id = &queued.mail.id;
        let text = error.to_string();
        let now = Utc::now();
        if self
            .config
            .gives_up(error.is_permanent(), queued.attempts, queued.queued_at, now)
        {
            tracing::error!(error = %text, queued_at = %queued.queued_at, "mail given up after {} attempts; discarded", queued.attempts);
            if let Err(e) = self.store.discard_mail(id).await {
                tracing::warn!(error = %e, "cannot discard the mail; it will be tried again");
            }
            return;
        }
        let delay = self.config.retry_delay(queued.attempts);
        if error.is_permanent() {
            tracing::error!(error = %text, retry_in_secs = delay.as_secs(), "mail rejected");
        } else if error.needs_operator() {
            tracing::error!(error = %text, retry_in_secs = delay.as_secs(), "mail not sent: check the SMTP settings; will retry");
        } else {
            tracing::warn!(error = %text, retry_in_secs = delay.as_secs(), "mail not sent; will retry");
        }
        if let Err(e) = self
            .store
            .mark_mail_failed(id, &text, later(now, delay))
            .await
        {
            tracing::warn!(error = %e, "cannot record the failed attempt");
        }
    }
}

/// Polls `fut` once: true if it has completed. Must not be called again after true.
async fn is_ready(mut fut: Pin<&mut (impl Future<Output = ()> + Send)>) -> bool {
    std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx).is_ready())).await
}

/// `at + d`, saturating instead of overflowing.
fn later(at: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| at.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}
