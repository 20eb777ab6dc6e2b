//! [`MailQueue`] for SQLite: a durable queue with leases.
//!
//! A claim moves `next_attempt_at` to the end of the lease: the mail stays invisible to other
//! workers until then, and comes back by itself if its worker dies. Delivered mails keep
//! their row (`sent_at`) but lose their bodies, which may carry one-time tokens.

use async_trait::async_trait;
use authgate_core::store::{MailQueue, OutgoingMail, QueuedMail, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, Transaction};

use super::time::{from_ms, to_ms};
use super::SqliteStore;
use crate::error::db_err;

/// Longest stored `last_error`, in characters.
const MAX_ERROR_CHARS: usize = 1000;

/// Queues `mail`, due at `now` (milliseconds), inside the caller's transaction.
pub(super) async fn insert_mail(
    tx: &mut Transaction<'static, Sqlite>,
    mail: &OutgoingMail,
    now: i64,
) -> StoreResult<()> {
    insert_mail_query(mail, now)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// The insert of one queued mail.
fn insert_mail_query(
    mail: &OutgoingMail,
    now: i64,
) -> sqlx::query::Query<'_, Sqlite, sqlx::sqlite::SqliteArguments<'_>> {
    sqlx::query(
        "INSERT INTO mail_queue (id, recipient, subject, text_body, html_body, created_at, next_attempt_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&mail.id)
    .bind(&mail.to)
    .bind(&mail.subject)
    .bind(&mail.text_body)
    .bind(&mail.html_body)
    .bind(now)
    .bind(now)
}

/// A claimed `mail_queue` row.
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: String,
    recipient: String,
    subject: String,
    text_body: String,
    html_body: String,
    created_at: i64,
    attempts: i64,
}

impl ClaimedRow {
    /// The claimed mail, with its queue time decoded.
    fn into_queued(self) -> StoreResult<QueuedMail> {
        Ok(QueuedMail {
            queued_at: from_ms(self.created_at)?,
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            mail: OutgoingMail {
                id: self.id,
                to: self.recipient,
                subject: self.subject,
                text_body: self.text_body,
                html_body: self.html_body,
            },
        })
    }
}

#[async_trait]
impl MailQueue for SqliteStore {
    #[tracing::instrument(skip_all, fields(mail_id = %mail.id))]
    async fn enqueue_mail(&self, mail: &OutgoingMail, now: DateTime<Utc>) -> StoreResult<()> {
        insert_mail_query(mail, to_ms(now))
            .execute(self.writer())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(limit))]
    async fn claim_due_mail(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<QueuedMail>> {
        // One statement: selecting and leasing cannot interleave with another worker's claim.
        let mut rows: Vec<ClaimedRow> = sqlx::query_as(
            "UPDATE mail_queue SET next_attempt_at = ?1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM mail_queue WHERE sent_at IS NULL AND next_attempt_at <= ?2 \
                          ORDER BY next_attempt_at, id LIMIT ?3) \
             RETURNING id, recipient, subject, text_body, html_body, created_at, attempts",
        )
        .bind(to_ms(lease_until))
        .bind(to_ms(now))
        .bind(i64::from(limit))
        .fetch_all(self.writer())
        .await
        .map_err(db_err)?;
        rows.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        rows.into_iter().map(ClaimedRow::into_queued).collect()
    }

    #[tracing::instrument(skip_all, fields(mail_id = %id))]
    async fn mark_mail_sent(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE mail_queue SET sent_at = ?, text_body = '', html_body = '' WHERE id = ?",
        )
        .bind(to_ms(at))
        .bind(id)
        .execute(self.writer())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(mail_id = %id))]
    async fn mark_mail_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
        sqlx::query("UPDATE mail_queue SET last_error = ?, next_attempt_at = ? WHERE id = ? AND sent_at IS NULL")
            .bind(error)
            .bind(to_ms(retry_at))
            .bind(id)
            .execute(self.writer())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(mail_id = %id))]
    async fn discard_mail(&self, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM mail_queue WHERE id = ? AND sent_at IS NULL")
            .bind(id)
            .execute(self.writer())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn mail_queue_depth(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_queue WHERE sent_at IS NULL")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
