//! Test harness (feature `testing`): a fresh MongoDB database per test, for this crate's
//! contract suite and for other crates' tests (e.g. the HTTP suite on a MongoDB store).
//!
//! The server, chosen once per test process:
//! 1. `AUTHGATE_TEST_MONGODB_URL`, if set: any MongoDB (a replica set exercises the
//!    transactional paths). Each test gets a randomly named database, dropped afterwards.
//! 2. Otherwise a local nx-27017 (a MongoDB wire-protocol server on SQLite, from PyPI),
//!    started on a free 127.0.0.1 port for this process and killed when the process ends. Its
//!    executable is `AUTHGATE_TEST_NX27017`, else `<workspace>/target/test-venv/bin/nx-27017`,
//!    else `nx-27017` on `PATH`. Each test gets its own in-memory database.
//! 3. Neither: with `AUTHGATE_TEST_REQUIRE_ALL` set, [`fresh_database`] panics; otherwise it
//!    reports the suite as not run (once, on stderr, past the test harness's capture) and
//!    returns `None`, and the test returns early.
//!
//! ```ignore
//! let Some(db) = authgate_store_mongo::testing::fresh_database("http suite on mongodb") else {
//!     return;
//! };
//! let store = db.connect().await?; // or hand db.url() to the server's configuration
//! ```

mod nx;

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use authgate_core::store::StoreResult;

use crate::MongoStore;

/// Names a MongoDB server for the tests (any `mongodb://` URL; its path is replaced).
pub const URL_VAR: &str = "AUTHGATE_TEST_MONGODB_URL";
/// Names the nx-27017 executable to start when [`URL_VAR`] is not set.
pub const NX27017_VAR: &str = "AUTHGATE_TEST_NX27017";
/// When set, a missing test server fails the tests instead of skipping them.
pub const REQUIRE_ALL_VAR: &str = "AUTHGATE_TEST_REQUIRE_ALL";

/// A database of its own for one test. Dropped from an external server when this is dropped;
/// nx-27017's in-memory databases go away with the server.
pub struct TestDatabase {
    url: String,
    name: String,
    external: bool,
}

impl TestDatabase {
    /// The connection URL, naming this database in its path.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's (random) name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connects a store to this database (not migrated yet).
    pub async fn connect(&self) -> StoreResult<MongoStore> {
        MongoStore::connect(&self.url).await
    }

    /// Connects a store that runs its multi-document writes in transactions whatever the
    /// server's topology says, so that the transaction path (commit, abort, retry) runs on a
    /// standalone test server too. The driver still refuses when the server reports no
    /// session support, and a real standalone MongoDB rejects the transactions themselves:
    /// this is for nx-27017, which accepts them without isolating them, so no test may rely
    /// on isolation through this store.
    pub async fn connect_with_transactions_forced(&self) -> StoreResult<MongoStore> {
        let mut store = self.connect().await?;
        store.force_transactions();
        Ok(store)
    }

    /// Whether the server is this process's local nx-27017 (a standalone stand-in), rather
    /// than the one `AUTHGATE_TEST_MONGODB_URL` names.
    pub fn is_local(&self) -> bool {
        !self.external
    }
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: an external one may carry credentials.
        f.debug_struct("TestDatabase")
            .field("name", &self.name)
            .field("external", &self.external)
            .finish_non_exhaustive()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if !self.external {
            return;
        }
        // The test's runtime may be shutting down: drop the database from a runtime of our own.
        let url = self.url.clone();
        let dropped = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let store = MongoStore::connect(&url).await.map_err(|e| e.to_string())?;
                store.database().drop().await.map_err(|e| e.to_string())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            let _ = writeln!(
                std::io::stderr(),
                "could not drop test database {}: {e}",
                self.name
            );
        }
    }
}

/// The test server: an external URL or a local nx-27017.
enum Server {
    External(String),
    Local(String),
}

/// A fresh, empty database for one test of `suite`, or `None` when no server is available and
/// [`REQUIRE_ALL_VAR`] is not set (the suite is then reported as not run).
///
/// # Panics
/// When no server is available and [`REQUIRE_ALL_VAR`] is set, or when an nx-27017 was found
/// but would not start.
pub fn fresh_database(suite: &str) -> Option<TestDatabase> {
    let name = format!("authgate_test_{}", uuid::Uuid::new_v4().simple());
    match server() {
        Some(Server::External(url)) => Some(TestDatabase {
            url: with_database(url, &name),
            name,
            external: true,
        }),
        Some(Server::Local(url)) => Some(TestDatabase {
            url: with_database(url, &name),
            name,
            external: false,
        }),
        None => {
            let why = format!("no {URL_VAR} and no nx-27017 found");
            if std::env::var_os(REQUIRE_ALL_VAR).is_some() {
                panic!("{suite}: {why}, and {REQUIRE_ALL_VAR} is set");
            }
            report_not_run(suite, &why);
            None
        }
    }
}

/// The server of this test process, found (or started) on first use.
fn server() -> Option<&'static Server> {
    static SERVER: OnceLock<Option<Server>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            if let Some(url) = std::env::var(URL_VAR).ok().filter(|u| !u.trim().is_empty()) {
                return Some(Server::External(url.trim().to_owned()));
            }
            let exe = nx::find_executable()?;
            match nx::start(&exe) {
                Ok(url) => Some(Server::Local(url)),
                Err(e) => panic!("nx-27017 at {} would not start: {e}", exe.display()),
            }
        })
        .as_ref()
}

/// Prints `NOT RUN: …` once per suite, straight to stderr so that `cargo test` shows it.
fn report_not_run(suite: &str, why: &str) {
    static REPORTED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut reported = REPORTED.lock().unwrap_or_else(|e| e.into_inner());
    if !reported.iter().any(|s| s == suite) {
        reported.push(suite.to_owned());
        let _ = writeln!(std::io::stderr(), "NOT RUN: {suite} ({why})");
    }
}

/// `url` with its database path replaced by `name`, keeping hosts and options. With
/// credentials and no `authSource`, the original database (or `admin`) stays the one the
/// user authenticates against.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("mongodb", url));
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (hosts, old_db) = before_query.split_once('/').unwrap_or((before_query, ""));
    let mut options: Vec<String> = query
        .split('&')
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect();
    let has_auth_source = options
        .iter()
        .any(|o| o.to_ascii_lowercase().starts_with("authsource="));
    if hosts.contains('@') && !has_auth_source {
        let source = if old_db.is_empty() { "admin" } else { old_db };
        options.push(format!("authSource={source}"));
    }
    let mut out = format!("{scheme}://{hosts}/{name}");
    if !options.is_empty() {
        out.push('?');
        out.push_str(&options.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_path_is_replaced_and_options_kept() {
        assert_eq!(
            with_database("mongodb://127.0.0.1:27017", "t1"),
            "mongodb://127.0.0.1:27017/t1"
        );
        assert_eq!(
            with_database("mongodb://h1,h2/old?replicaSet=rs0", "t1"),
            "mongodb://h1,h2/t1?replicaSet=rs0"
        );
        assert_eq!(
            with_database("mongodb://h:1/?directConnection=true", "t1"),
            "mongodb://h:1/t1?directConnection=true"
        );
    }

    #[test]
    fn credentials_keep_authenticating_against_the_original_database() {
        assert_eq!(
            with_database("mongodb://u:p@h", "t1"),
            "mongodb://u:p@h/t1?authSource=admin"
        );
        assert_eq!(
            with_database("mongodb://u:p@h/app?tls=true", "t1"),
            "mongodb://u:p@h/t1?tls=true&authSource=app"
        );
        assert_eq!(
            with_database("mongodb+srv://u:p@c.example.net/?authSource=x", "t1"),
            "mongodb+srv://u:p@c.example.net/t1?authSource=x"
        );
    }
}
