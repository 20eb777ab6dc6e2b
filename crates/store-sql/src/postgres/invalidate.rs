//! [`Invalidations`] for PostgreSQL: `NOTIFY` on the channel `authgate_invalidate`, and a
//! `LISTEN`ing connection per instance (sqlx's `PgListener`, which reconnects by itself
//! after a drop and says so).

use std::sync::Arc;

use async_trait::async_trait;
use authgate_core::invalidation::{Invalidated, InvalidationSink, Invalidations};
use authgate_core::store::StoreResult;
use sqlx::postgres::PgListener;
use sqlx::PgPool;

use super::PostgresStore;
use crate::error::db_err;

/// The channel every instance listens on.
const CHANNEL: &str = "authgate_invalidate";

/// The invalidation feed of one PostgreSQL database.
#[derive(Debug, Clone)]
pub(super) struct PgInvalidations {
    pool: PgPool,
}

impl PostgresStore {
    /// This store's [`Invalidations`].
    pub(super) fn feed(&self) -> Arc<dyn Invalidations> {
        Arc::new(PgInvalidations {
            pool: self.pool.clone(),
        })
    }
}

#[async_trait]
impl Invalidations for PgInvalidations {
    #[tracing::instrument(skip_all)]
    async fn publish(&self, key: &str) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn follow(&self, sink: InvalidationSink) -> StoreResult<()> {
        let mut listener = PgListener::connect_with(&self.pool).await.map_err(db_err)?;
        listener.listen(CHANNEL).await.map_err(db_err)?;
        tracing::debug!(channel = CHANNEL, "following cache invalidations");
        sink(Invalidated::Following);
        loop {
            // `None`: the connection dropped (notifications may have been missed).
            match listener.try_recv().await {
                Ok(Some(note)) => sink(Invalidated::Key(note.payload())),
                Ok(None) => {
                    sink(Invalidated::FeedCut);
                    return Ok(());
                }
                Err(e) => {
                    sink(Invalidated::FeedCut);
                    return Err(db_err(e));
                }
            }
        }
    }
}
