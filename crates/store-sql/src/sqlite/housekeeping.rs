//! The housekeeping lease for SQLite (migration `20250105000000_housekeeping.sql`): the same
//! one-statement upsert as on PostgreSQL, on the writer (several processes may share a file).

use authgate_core::store::StoreResult;
use chrono::{DateTime, Duration, Utc};

use super::time::to_ms;
use super::SqliteStore;
use crate::error::db_err;

/// The one job the lease covers today: deleting expired state.
const PRUNE: &str = "prune";

impl SqliteStore {
    /// `true` when this call claimed the pruning of the period starting at `now`.
    pub(super) async fn claim_prune(
        &self,
        now: DateTime<Utc>,
        period: Duration,
    ) -> StoreResult<bool> {
        let claimed: Option<(String,)> = sqlx::query_as(
            "INSERT INTO housekeeping (job, next_run_at) VALUES (?1, ?3) \
             ON CONFLICT (job) DO UPDATE SET next_run_at = excluded.next_run_at \
             WHERE housekeeping.next_run_at <= ?2 \
             RETURNING job",
        )
        .bind(PRUNE)
        .bind(to_ms(now))
        .bind(to_ms(now + period))
        .fetch_optional(self.writer())
        .await
        .map_err(db_err)?;
        Ok(claimed.is_some())
    }
}
