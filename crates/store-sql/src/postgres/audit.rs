//! [`AuditStore`] for PostgreSQL: the audit trail.

use async_trait::async_trait;
use authgate_core::domain::{SessionId, UserId};
use authgate_core::store::{AuditRecord, AuditStore, StoreResult};
use chrono::{DateTime, Utc};

use super::PostgresStore;
use crate::error::db_err;

/// An `audit_events` row.
#[derive(sqlx::FromRow)]
pub(super) struct AuditRow {
    id: String,
    at: DateTime<Utc>,
    kind: String,
    outcome: String,
    user_id: Option<String>,
    session_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    request_id: Option<String>,
    detail: Option<String>,
}

impl From<AuditRow> for AuditRecord {
    fn from(r: AuditRow) -> Self {
        AuditRecord {
            id: r.id,
            at: r.at,
            kind: r.kind,
            outcome: r.outcome,
            user_id: r.user_id.map(UserId::from_string),
            session_id: r.session_id.map(SessionId::from_string),
            ip: r.ip,
            user_agent: r.user_agent,
            request_id: r.request_id,
            detail: r.detail,
        }
    }
}

/// The insert of one event.
fn insert_audit(
    event: &AuditRecord,
) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments> {
    sqlx::query(
        "INSERT INTO audit_events \
         (id, at, kind, outcome, user_id, session_id, ip, user_agent, request_id, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&event.id)
    .bind(event.at)
    .bind(&event.kind)
    .bind(&event.outcome)
    .bind(event.user_id.as_ref().map(|u| u.as_str()))
    .bind(event.session_id.as_ref().map(|s| s.as_str()))
    .bind(&event.ip)
    .bind(&event.user_agent)
    .bind(&event.request_id)
    .bind(&event.detail)
}

/// Rows per multi-row insert: 10 parameters each, far below the engine's limit.
const AUDIT_ROWS_PER_INSERT: usize = 500;

/// One `INSERT` of every event in `events`.
fn insert_audit_rows(events: &[AuditRecord]) -> sqlx::QueryBuilder<'_, sqlx::Postgres> {
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO audit_events \
         (id, at, kind, outcome, user_id, session_id, ip, user_agent, request_id, detail) ",
    );
    insert.push_values(events, |mut row, event| {
        row.push_bind(&event.id)
            .push_bind(event.at)
            .push_bind(&event.kind)
            .push_bind(&event.outcome)
            .push_bind(event.user_id.as_ref().map(|u| u.as_str()))
            .push_bind(event.session_id.as_ref().map(|s| s.as_str()))
            .push_bind(&event.ip)
            .push_bind(&event.user_agent)
            .push_bind(&event.request_id)
            .push_bind(&event.detail);
    });
    insert
}

#[async_trait]
impl AuditStore for PostgresStore {
    #[tracing::instrument(skip_all, fields(kind = %event.kind))]
    async fn record_audit(&self, event: &AuditRecord) -> StoreResult<()> {
        insert_audit(event)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(events = events.len()))]
    async fn record_audit_batch(&self, events: &[AuditRecord]) -> StoreResult<()> {
        // Multi-row inserts: a statement per event cost a round trip to the database per
        // event, and the audit writer shares the one writer with logins and refreshes.
        let mut tx = self.begin().await?;
        for chunk in events.chunks(AUDIT_ROWS_PER_INSERT) {
            insert_audit_rows(chunk)
                .build()
                .persistent(false)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn list_audit(
        &self,
        user_id: &UserId,
        before: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>> {
        // Ids are UUIDv7 text in the "C" collation: comparing them compares times, so
        // `before` pages backwards.
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, at, kind, outcome, user_id, session_id, ip, user_agent, request_id, detail \
             FROM audit_events WHERE user_id = $1 AND ($2::text IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(user_id.as_str())
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(AuditRecord::from).collect())
    }

    #[tracing::instrument(skip_all)]
    async fn prune_audit(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM audit_events WHERE at < $1")
            .bind(before)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}
