//! Choosing and opening the store named by the database URL.

use std::sync::Arc;

use authgate_core::Store;
use authgate_store_mongo::MongoStore;
use authgate_store_sql::{PostgresOptions, PostgresStore, SqliteOptions, SqliteStore};

use crate::config::{Config, DatabaseKind, SqliteSynchronous};
use crate::error::Error;

/// Connects to the configured store (it does not migrate; see [`Store::migrate`]).
///
/// `sqlite:` URLs open (and create) an SQLite file; `postgres://` and `mongodb://` URLs
/// connect to those servers.
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
            let store = MongoStore::connect(url.expose())
                .await
                .map_err(Error::store("cannot connect to MongoDB"))?;
            tracing::info!(database = %url, "connected to MongoDB");
            Ok(Arc::new(store))
        }
    }
}
