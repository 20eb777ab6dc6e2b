//! [`KeyStore`] for SQLite: token signing keys.

use async_trait::async_trait;
use authgate_core::store::{KeyStore, StoreResult, StoredKey};
use chrono::{DateTime, Utc};

use super::time::{from_ms, opt_from_ms, opt_to_ms, to_ms};
use super::SqliteStore;
use crate::error::db_err;

/// A `signing_keys` row.
#[derive(sqlx::FromRow)]
struct KeyRow {
    kid: String,
    algorithm: String,
    private_der: Vec<u8>,
    public_key: Vec<u8>,
    created_at: i64,
    retired_at: Option<i64>,
}

#[async_trait]
impl KeyStore for SqliteStore {
    #[tracing::instrument(skip_all)]
    async fn signing_keys(&self) -> StoreResult<Vec<StoredKey>> {
        let rows: Vec<KeyRow> = sqlx::query_as(
            "SELECT kid, algorithm, private_der, public_key, created_at, retired_at FROM signing_keys \
             ORDER BY created_at, kid",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|r| {
                Ok(StoredKey {
                    kid: r.kid,
                    algorithm: r.algorithm,
                    private_der: r.private_der,
                    public_key: r.public_key,
                    created_at: from_ms(r.created_at)?,
                    retired_at: opt_from_ms(r.retired_at)?,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip_all, fields(kid = %key.kid))]
    async fn insert_signing_key(&self, key: &StoredKey) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_der, public_key, created_at, retired_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&key.kid)
        .bind(&key.algorithm)
        .bind(&key.private_der)
        .bind(&key.public_key)
        .bind(to_ms(key.created_at))
        .bind(opt_to_ms(key.retired_at))
        .execute(self.writer())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(kid = %kid))]
    async fn retire_signing_keys_except(&self, kid: &str, at: DateTime<Utc>) -> StoreResult<()> {
        // Only keys older than `kid`: a newer key another instance just added keeps signing.
        sqlx::query(
            "UPDATE signing_keys SET retired_at = ?1 \
             WHERE retired_at IS NULL AND kid <> ?2 \
             AND created_at < (SELECT created_at FROM signing_keys WHERE kid = ?2)",
        )
        .bind(to_ms(at))
        .bind(kid)
        .execute(self.writer())
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
