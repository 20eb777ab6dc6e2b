//! Beginning transactions without the cancellation hazard.

use std::future::Future;

use authgate_core::store::StoreResult;
use authgate_core::StoreError;

use crate::error::db_err;

/// Runs `begin` (a pool's `begin` or `begin_with`) in a task of its own that always
/// finishes. sqlx's begin is not cancel-safe: a caller dropped after `BEGIN` ran but before
/// the `Transaction` guard existed would return the connection to the pool inside a
/// transaction (on SQLite, holding the write lock for good). In the task, a transaction
/// nobody receives is dropped and rolled back.
pub(crate) async fn begin_detached<T: Send + 'static>(
    begin: impl Future<Output = Result<T, sqlx::Error>> + Send + 'static,
) -> StoreResult<T> {
    tokio::spawn(begin)
        .await
        .map_err(|e| StoreError::Backend(format!("beginning a transaction: {e}")))?
        .map_err(db_err)
}
