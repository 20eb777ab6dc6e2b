//! [`MongoStore`]: connecting, the topology check, collections, and the [`Store`] trait.

use std::time::Duration;

use async_trait::async_trait;
use authgate_core::store::{Store, StoreResult};
use mongodb::bson::{doc, Document};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};

use crate::error::db_err;

/// Database used when the URL names none.
pub const DEFAULT_DATABASE: &str = "authgate";

/// How long an operation waits for a usable server before failing with `Unavailable`, unless
/// the URL sets `serverSelectionTimeoutMS`.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// The driver's pool size when neither the URL nor [`MongoOptions`] sets one.
const DRIVER_MAX_POOL_SIZE: u32 = 10;

/// How long opening a connection may take, unless the URL sets `connectTimeoutMS`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The CommandNotFound error code (servers older than 4.4.2 have no `hello`).
const COMMAND_NOT_FOUND: i32 = 59;

/// Tuning for [`MongoStore::connect_with`]. Options the URL sets take precedence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MongoOptions {
    /// Most connections the driver opens per server, unless the URL sets `maxPoolSize`;
    /// `None`: the driver's default (10).
    pub max_pool_size: Option<u32>,
}

/// The MongoDB backend of every store trait.
///
/// Collections: `users`, `sessions`, `refresh_tokens`, `one_time_tokens`, `mail_queue`,
/// `signing_keys` and `audit_events`, each keyed by its string id in `_id` (user id, session
/// id, token-hash hex, mail id, kid, event id). Multi-document writes run in a transaction on a replica set or sharded
/// cluster; a standalone server has none, so they run in an order that leaves nothing
/// dangerous behind if interrupted (see [`MongoStore::transactional`]).
///
/// ```no_run
/// # async fn demo() -> Result<(), authgate_core::StoreError> {
/// use authgate_core::Store;
/// use authgate_store_mongo::MongoStore;
/// let store = MongoStore::connect("mongodb://localhost:27017/authgate").await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MongoStore {
    pub(crate) client: Client,
    db: Database,
    transactions: bool,
    max_pool_size: u32,
}

impl std::fmt::Debug for MongoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoStore")
            .field("database", &self.db.name())
            .field("transactional", &self.transactions)
            .field("max_pool_size", &self.max_pool_size)
            .finish_non_exhaustive()
    }
}

impl MongoStore {
    /// Connects to the server at `url` (`mongodb://` or `mongodb+srv://`) and asks it for its
    /// topology. The database is the URL's path (`…/mydb`), `authgate` when it has none. A
    /// server that cannot be reached within 5 s (or the URL's `serverSelectionTimeoutMS`) is
    /// `StoreError::Unavailable`. The pool is the driver's (or the URL's `maxPoolSize`).
    pub async fn connect(url: &str) -> StoreResult<MongoStore> {
        Self::connect_with(url, MongoOptions::default()).await
    }

    /// Like [`MongoStore::connect`], with the given options; the URL's own options win.
    #[tracing::instrument(skip_all, fields(database = tracing::field::Empty))]
    pub async fn connect_with(url: &str, settings: MongoOptions) -> StoreResult<MongoStore> {
        let mut options = ClientOptions::parse(url).await.map_err(db_err)?;
        options
            .server_selection_timeout
            .get_or_insert(SERVER_SELECTION_TIMEOUT);
        options.connect_timeout.get_or_insert(CONNECT_TIMEOUT);
        options
            .app_name
            .get_or_insert_with(|| "authgate".to_owned());
        if let Some(max) = settings.max_pool_size {
            options.max_pool_size.get_or_insert(max.max(1));
        }
        let max_pool_size = options.max_pool_size.unwrap_or(DRIVER_MAX_POOL_SIZE);
        let name = options
            .default_database
            .clone()
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        tracing::Span::current().record("database", name.as_str());
        let client = Client::with_options(options).map_err(db_err)?;
        let db = client.database(&name);
        let transactions = topology_supports_transactions(&hello(&db).await?);
        if !transactions {
            tracing::warn!("MongoDB is standalone: multi-document writes are not transactional");
        }
        tracing::info!(transactions, "connected to MongoDB");
        Ok(MongoStore {
            client,
            db,
            transactions,
            max_pool_size,
        })
    }

    /// Whether multi-document writes run in transactions: true on a replica set or a sharded
    /// cluster, false on a standalone server. Without transactions, opening a session, issuing
    /// a one-time token with its mail, and rotating a refresh token are ordered writes whose
    /// interruption can at worst log a user out or lose a mail, never fork a session.
    pub fn transactional(&self) -> bool {
        self.transactions
    }

    /// Test support: multi-document writes use transactions from now on, whatever the
    /// topology (see `testing::TestDatabase::connect_with_transactions_forced`).
    #[cfg(feature = "testing")]
    pub(crate) fn force_transactions(&mut self) {
        self.transactions = true;
    }

    /// Most connections the driver opens per server: the URL's `maxPoolSize`, else
    /// [`MongoOptions::max_pool_size`], else the driver's default of 10.
    pub fn max_pool_size(&self) -> u32 {
        self.max_pool_size
    }

    /// The name of the database the store uses.
    pub fn database_name(&self) -> &str {
        self.db.name()
    }

    /// The driver's handle on the store's database, for tooling and tests.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The collection `name` as plain documents.
    pub(crate) fn collection(&self, name: &str) -> Collection<Document> {
        self.db.collection(name)
    }
}

/// The answer to `hello` (or to the older `isMaster` on servers without `hello`).
async fn hello(db: &Database) -> StoreResult<Document> {
    match db.run_command(doc! { "hello": 1 }).await {
        Err(e) if matches!(&*e.kind, mongodb::error::ErrorKind::Command(c) if c.code == COMMAND_NOT_FOUND) => {
            db.run_command(doc! { "isMaster": 1 }).await.map_err(db_err)
        }
        other => other.map_err(db_err),
    }
}

/// Whether a server answering `hello` this way runs transactions: a replica-set member names
/// its set (`setName`), a `mongos` router says `msg: "isdbgrid"`.
fn topology_supports_transactions(hello: &Document) -> bool {
    hello.get_str("setName").is_ok() || hello.get_str("msg") == Ok("isdbgrid")
}

#[async_trait]
impl Store for MongoStore {
    #[tracing::instrument(skip_all, fields(database = self.db.name()))]
    async fn migrate(&self) -> StoreResult<()> {
        crate::indexes::create_all(&self.db).await
    }

    #[tracing::instrument(skip_all)]
    async fn ping(&self) -> StoreResult<()> {
        self.db
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(db_err)?;
        Ok(())
    }

    fn backend_name(&self) -> &'static str {
        "mongodb"
    }

    #[tracing::instrument(skip_all)]
    async fn claim_housekeeping(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        period: chrono::Duration,
    ) -> StoreResult<bool> {
        self.claim_prune(now, period).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_sets_and_routers_run_transactions_standalone_servers_do_not() {
        let replica = doc! { "isWritablePrimary": true, "setName": "rs0" };
        let router = doc! { "isWritablePrimary": true, "msg": "isdbgrid" };
        let standalone = doc! { "isWritablePrimary": true, "maxWireVersion": 25 };
        assert!(topology_supports_transactions(&replica));
        assert!(topology_supports_transactions(&router));
        assert!(!topology_supports_transactions(&standalone));
    }
}
