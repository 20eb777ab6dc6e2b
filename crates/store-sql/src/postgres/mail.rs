//! [`MailQueue`] for PostgreSQL: a durable queue with leases.
//!
//! A claim moves `next_attempt_at` to the end of the lease: the mail stays invisible to other
//! workers until then, and comes back by itself if its worker dies. Workers pick due rows with
//! `FOR UPDATE SKIP LOCKED`, so concurrent claims split the queue instead of waiting on (or
//! double-claiming) each other's rows. Delivered mails keep their row (`sent_at`) but lose
//! their bodies, which may carry one-time tokens.

use async_trait::async_trait;
use authgate_core::store::{MailQueue, OutgoingMail, QueuedMail, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::Postgres;

use super::PostgresStore;
use crate::error::db_err;

/// Longest stored `last_error`, in characters.
const MAX_ERROR_CHARS: usize = 1000;

/// The insert of one queued mail, due at `now`; run on the pool or inside a transaction.
pub(super) fn insert_mail_query(
    mail: &OutgoingMail,
    now: DateTime<Utc>,
) -> Query<'_, Postgres, PgArguments> {
    sqlx::query(
        "INSERT INTO mail_queue (id, recipient, subject, text_body, html_body, created_at, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&mail.id)
    .bind(&mail.to)
    .bind(&mail.subject)
    .bind(&mail.text_body)
    .bind(&mail.html_body)
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
    created_at: DateTime<Utc>,
    attempts: i32,
}

impl From<ClaimedRow> for QueuedMail {
    fn from(r: ClaimedRow) -> Self {
        QueuedMail {
            mail: OutgoingMail {
                id: r.id,
                to: r.recipient,
                subject: r.subject,
                text_body: r.text_body,
                html_body: r.html_body,
            },
            attempts: u32::try_from(r.attempts).unwrap_or(0),
            queued_at: r.created_at,
        }
    }
}

#[async_trait]
impl MailQueue for PostgresStore {
    #[tracing::instrument(skip_all, fields(mail_id = %mail.id))]
    async fn enqueue_mail(&self, mail: &OutgoingMail, now: DateTime<Utc>) -> StoreResult<()> {
        insert_mail_query(mail, now)
            .execute(&self.pool)
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
        // One statement: the due rows are locked as they are picked (rows another worker holds
        // are skipped, and a row leased by a worker that committed meanwhile fails the re-check
        // of `next_attempt_at <= now`), then leased.
        let mut rows: Vec<ClaimedRow> = sqlx::query_as(
            "UPDATE mail_queue m SET next_attempt_at = $1, attempts = m.attempts + 1 \
             FROM (SELECT id FROM mail_queue \
                   WHERE sent_at IS NULL AND next_attempt_at <= $2 \
                   ORDER BY next_attempt_at, id LIMIT $3 \
                   FOR UPDATE SKIP LOCKED) due \
             WHERE m.id = due.id \
             RETURNING m.id, m.recipient, m.subject, m.text_body, m.html_body, m.created_at, m.attempts",
        )
        .bind(lease_until)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(rows.into_iter().map(QueuedMail::from).collect())
    }

    #[tracing::instrument(skip_all, fields(mail_id = %id))]
    async fn mark_mail_sent(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE mail_queue SET sent_at = $1, text_body = '', html_body = '' WHERE id = $2",
        )
        .bind(at)
        .bind(id)
        .execute(&self.pool)
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
        sqlx::query(
            "UPDATE mail_queue SET last_error = $1, next_attempt_at = $2 \
             WHERE id = $3 AND sent_at IS NULL",
        )
        .bind(error)
        .bind(retry_at)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(mail_id = %id))]
    async fn discard_mail(&self, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM mail_queue WHERE id = $1 AND sent_at IS NULL")
            .bind(id)
            .execute(&self.pool)
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
