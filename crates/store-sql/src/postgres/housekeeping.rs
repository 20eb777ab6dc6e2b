//! The housekeeping lease for PostgreSQL (migration `20250105000000_housekeeping.sql`): one
//! statement moves the job's `next_run_at` a period forward if it is due, so of the
//! instances asking at once exactly one gets the period (the others wait on the row lock,
//! then see it no longer due).

use authgate_core::store::StoreResult;
use chrono::{DateTime, Duration, Utc};

use super::PostgresStore;
use crate::error::db_err;

/// The one job the lease covers today: deleting expired state.
const PRUNE: &str = "prune";

impl PostgresStore {
    /// `true` when this call claimed the pruning of the period starting at `now`.
    pub(super) async fn claim_prune(
        &self,
        now: DateTime<Utc>,
        period: Duration,
    ) -> StoreResult<bool> {
        let claimed: Option<(String,)> = sqlx::query_as(
            "INSERT INTO housekeeping (job, next_run_at) VALUES ($1, $3) \
             ON CONFLICT (job) DO UPDATE SET next_run_at = EXCLUDED.next_run_at \
             WHERE housekeeping.next_run_at <= $2 \
             RETURNING job",
        )
        .bind(PRUNE)
        .bind(now)
        .bind(now + period)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(claimed.is_some())
    }
}
