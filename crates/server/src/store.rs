//! Choosing and opening the store named by the database URL.

use std::sync::Arc;

use authgate_core::Store;
use authgate_store_mongo::{MongoOptions, MongoStore};
use authgate_store_sql::{PostgresOptions, PostgresStore, SqliteOptions, SqliteStore};

use crate::config::{Config, DatabaseKind, SqliteSynchronous};
use crate::error::Error;

/// Logs the configuration's warnings, connects to the configured store and brings its
/// schema up to date: what every command that touches the database starts with.
pub async fn open_migrated(config: &Config) -> Result<Arc<dyn Store>, Error> {
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    let store = connect(config).await?;
    store
        .migrate()
        .await
        .map_err(Error::store("cannot migrate the database"))?;
    Ok(store)
}

/// Connects to the configured store (it does not migrate; see [`Store::migrate`]).
///
/// `sqlite:` URLs open (and create) an SQLite file; `postgres://` and `mongodb://` URLs
/// connect to those servers. `AUTHGATE_DATABASE_MAX_CONNECTIONS` sizes the SQL pools and
/// MongoDB's `maxPoolSize` (unless the URL sets it).
pub async fn connect(config: &Config) -> Result<Arc<dyn Store>, Error> {
    let url = config.database_url.url();
    match config.database_url.kind() {
        DatabaseKind::Sqlite => {
            let options = SqliteOptions {
                synchronous_full: config.sqlite_synchronous == SqliteSynchronous::Full,
                max_connections: config.database_max_connections,
            };
            let store = SqliteStore::connect_with(url.expose(), options)
                .await
                .map_err(Error::store("cannot open the SQLite database"))?;
            tracing::info!(database = %url, "opened SQLite store");
            Ok(Arc::new(store))
        }
        DatabaseKind::Postgres => {
            let options = PostgresOptions {
                max_connections: config.database_max_connections,
            };
            let store = PostgresStore::connect_with(url.expose(), options)
                .await
                .map_err(Error::store("cannot connect to PostgreSQL"))?;
            tracing::info!(database = %url, "connected to PostgreSQL");
            Ok(Arc::new(store))
        }
        DatabaseKind::MongoDb => {
            let options = MongoOptions {
                max_pool_size: Some(config.database_max_connections),
            };
            let store = MongoStore::connect_with(url.expose(), options)
                .await
                .map_err(Error::store("cannot connect to MongoDB"))?;
            log_mongo_mode(&store);
            tracing::info!(
                database = %url,
                transactions = store.transactional(),
                max_pool_size = store.max_pool_size(),
                "connected to MongoDB"
            );
            Ok(Arc::new(store))
        }
    }
}

/// Says at start-up, in plain words, what a standalone MongoDB (no transactions) means.
fn log_mongo_mode(store: &MongoStore) {
    if !store.transactional() {
        tracing::warn!(
            transactions = false,
            "MongoDB has no replica set: multi-document writes (login, token issue, refresh \
             rotation) run as ordered single writes, not transactions; run a replica set \
             (even of one member) for all-or-nothing writes"
        );
    }
}
