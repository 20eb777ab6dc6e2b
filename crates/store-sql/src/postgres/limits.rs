//! [`SharedLimits`] for PostgreSQL: rate-limit and login-block state in `UNLOGGED` tables
//! (migration `20250104000000_shared_limits.sql`), so every instance on the database counts
//! together. Each call is one statement (the login attempt is one call of a PL/pgSQL
//! function that locks the accounts' rows first), so parallel callers count exactly.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use authgate_core::limits::{LoginPolicy, Rate, Refusal, SharedLimits};
use authgate_core::store::StoreResult;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::PostgresStore;
use crate::error::db_err;

/// The limits' tables of one PostgreSQL database.
#[derive(Debug, Clone)]
pub(super) struct PgSharedLimits {
    pool: PgPool,
}

impl PostgresStore {
    /// This store's [`SharedLimits`].
    pub(super) fn limits(&self) -> Arc<dyn SharedLimits> {
        Arc::new(PgSharedLimits {
            pool: self.pool.clone(),
        })
    }
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A count of time units from the database, never negative.
fn positive(units: i64) -> u64 {
    u64::try_from(units).unwrap_or(0)
}

#[async_trait]
impl SharedLimits for PgSharedLimits {
    /// GCRA in one upsert: the event is counted (the arrival time moved on by one interval)
    /// only if the new arrival time stays within the burst; a refused event writes nothing,
    /// and its wait is read afterwards.
    #[tracing::instrument(skip_all)]
    async fn take(
        &self,
        key: &str,
        rate: Rate,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Duration>> {
        let (now_us, interval) = (now.timestamp_micros(), micros(rate.interval()));
        let burst = interval.saturating_mul(i64::from(rate.max));
        let counted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO limit_buckets AS b (key, tat_us) VALUES ($1, $2 + $3) \
             ON CONFLICT (key) DO UPDATE SET tat_us = GREATEST(b.tat_us, $2) + $3 \
             WHERE GREATEST(b.tat_us, $2) + $3 - $2 <= $4 \
             RETURNING tat_us",
        )
        .bind(key)
        .bind(now_us)
        .bind(interval)
        .bind(burst)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        if counted.is_some() {
            return Ok(None);
        }
        let tat: Option<i64> =
            sqlx::query_scalar("SELECT tat_us FROM limit_buckets WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        let over = tat.unwrap_or(now_us) + interval - now_us - burst;
        Ok(Some(Duration::from_micros(positive(over))))
    }

    #[tracing::instrument(skip_all, fields(accounts = accounts.len()))]
    async fn begin_attempts(
        &self,
        accounts: &[&str],
        ip: &str,
        now: DateTime<Utc>,
        policy: &LoginPolicy,
    ) -> StoreResult<Option<Refusal>> {
        let (wait_ms, limit): (i64, i32) = sqlx::query_as(
            "SELECT wait_ms, lim FROM authgate_begin_attempts($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(accounts)
        .bind(ip)
        .bind(now.timestamp_millis())
        .bind(int(policy.free_attempts))
        .bind(int(policy.max_failures))
        .bind(millis(policy.block_for))
        .bind(millis(policy.failure_window))
        .bind(millis(policy.max_backoff))
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok((wait_ms > 0).then(|| Refusal {
            wait: Duration::from_millis(positive(wait_ms)),
            limit: u32::try_from(limit).unwrap_or(0),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn login_succeeded(&self, account: &str, ip: &str) -> StoreResult<()> {
        sqlx::query(
            "WITH acc AS (UPDATE login_accounts SET failures = GREATEST(failures - 1, 0) \
                          WHERE account = $1 RETURNING account) \
             INSERT INTO login_account_ips (account, ip, consecutive, last_ms, trusted) \
             SELECT account, $2, 0, 0, TRUE FROM acc \
             ON CONFLICT (account, ip) DO UPDATE SET consecutive = 0, trusted = TRUE",
        )
        .bind(account)
        .bind(ip)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn clear_account(&self, account: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_accounts WHERE account = $1")
            .bind(account)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Deletes buckets whose whole allowance is back and accounts that neither block, nor
    /// count failures in the window, nor trust an IP.
    #[tracing::instrument(skip_all)]
    async fn prune(&self, now: DateTime<Utc>, policy: &LoginPolicy) -> StoreResult<u64> {
        let deleted: i64 = sqlx::query_scalar(
            "WITH b AS (DELETE FROM limit_buckets WHERE tat_us < $1 RETURNING 1), \
             a AS (DELETE FROM login_accounts la \
                   WHERE (blocked_until_ms IS NULL OR blocked_until_ms <= $2) \
                     AND (window_start_ms IS NULL OR $2 - window_start_ms >= $3) \
                     AND NOT EXISTS (SELECT 1 FROM login_account_ips i \
                                     WHERE i.account = la.account AND i.trusted) \
                   RETURNING 1) \
             SELECT (SELECT count(*) FROM b) + (SELECT count(*) FROM a)",
        )
        .bind(now.timestamp_micros())
        .bind(now.timestamp_millis())
        .bind(millis(policy.failure_window))
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(u64::try_from(deleted).unwrap_or(0))
    }
}
