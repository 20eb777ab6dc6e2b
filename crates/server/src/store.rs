//! Choosing and opening the store named by the database URL.

use std::sync::Arc;

use authgate_core::Store;
use authgate_store_sql::{SqliteOptions, SqliteStore};

use crate::config::{Config, DatabaseKind, SqliteSynchronous};
use crate::error::Error;

/// Connects to the configured store (it does not migrate; see [`Store::migrate`]).
///
/// `sqlite:` URLs open (and create) an SQLite file; PostgreSQL and MongoDB URLs are
/// recognised but refused until those stores are built.
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
        DatabaseKind::Postgres => Err(unsupported("PostgreSQL")),
        DatabaseKind::MongoDb => Err(unsupported("MongoDB")),
    }
}

fn unsupported(name: &str) -> Error {
    Error::Unsupported(format!(
        "AUTHGATE_DATABASE_URL: the {name} store is not built yet; use a sqlite: URL (e.g. sqlite://authgate.db)"
    ))
}
