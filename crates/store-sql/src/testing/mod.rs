//! Test support (cargo feature `testing`): a fresh, empty PostgreSQL database per test, for
//! this crate's tests and for other crates' (e.g. the server's HTTP tests).
//!
//! Where the server comes from, in order:
//! 1. `AUTHGATE_TEST_POSTGRES_URL`: an existing server. The URL must name a role allowed to
//!    `CREATE DATABASE` (e.g. `postgres://postgres:pw@localhost:5432/postgres`). Each test gets
//!    its own database `authgate_test_<random>`, dropped when the test ends.
//! 2. Otherwise a throwaway cluster, one per test process, when the server binaries are found:
//!    in `AUTHGATE_TEST_PG_BINDIR`, on `PATH`, in `/usr/lib/postgresql/<version>/bin` (Debian,
//!    newest first) or in `/usr/local/pgsql/bin`. `initdb` creates it in a private temporary
//!    directory, `postgres` serves it on a free port of 127.0.0.1 (as the `postgres` OS user
//!    when the tests run as root), and it is stopped and deleted when the test process exits,
//!    however it exits (a keeper process watches a pipe from the test process; see
//!    `src/testing/cluster.rs`). Its databases are dropped in the background as tests end,
//!    so disk use stays small however many tests run.
//! 3. Neither: the test is skipped with a loud `NOT RUN: ...` line on stderr, or, when
//!    `AUTHGATE_TEST_REQUIRE_ALL` is set (CI), it panics saying what is missing.
//!
//!
//! [`TestDatabase::create_with_tls`] gives a database on a second throwaway cluster that serves
//! TLS only with a certificate from a CA made for the test process ([`TestDatabase::ca_file`]);
//! it needs the server binaries even when `AUTHGATE_TEST_POSTGRES_URL` is set.
//!
//! ```ignore
//! let Some(db) = TestDatabase::create("my suite").await else { return };
//! let store = db.store().await;
//! ```

mod cluster;
mod tls;

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use sqlx::{Connection, Executor, PgConnection};

use crate::postgres::{PostgresOptions, PostgresStore};

/// Names an existing server to test against (an admin URL).
pub const URL_VAR: &str = "AUTHGATE_TEST_POSTGRES_URL";
/// Names the directory holding `initdb` and `postgres` for a throwaway cluster.
pub const BINDIR_VAR: &str = "AUTHGATE_TEST_PG_BINDIR";
/// When set (to anything but empty or `0`), a missing server fails the test instead of
/// skipping it.
pub const REQUIRE_ALL_VAR: &str = "AUTHGATE_TEST_REQUIRE_ALL";

/// Pool size of [`TestDatabase::store`]: enough for the contract suite's races to be real.
const TEST_POOL_SIZE: u32 = 10;

/// A fresh, empty database on the test server, dropped when this value is (keep it alive as
/// long as any store on it, e.g. as the guard of an `authgate_store_tests::Fixture`).
pub struct TestDatabase {
    url: String,
    name: String,
    admin_url: String,
    /// Whether dropping waits for the database to be gone (on a server that outlives us).
    external: bool,
    /// The CA certificate of a TLS cluster's server certificate.
    ca_file: Option<std::path::PathBuf>,
}

impl TestDatabase {
    /// Creates a database for a test of `suite` (named in the skip message). `None` means no
    /// server can be had and the caller should return at once; a `NOT RUN` line has been
    /// written to stderr (past the test harness's capture). Panics when
    /// `AUTHGATE_TEST_REQUIRE_ALL` is set and no server can be had, and whenever a server was
    /// found but fails (a broken set-up must never look like a skip).
    pub async fn create(suite: &str) -> Option<TestDatabase> {
        let (admin_url, external) = match std::env::var(URL_VAR) {
            Ok(url) if !url.trim().is_empty() => (url, true),
            _ => {
                let bindir = local_bindir(suite)?;
                let started = tokio::task::spawn_blocking(move || cluster::shared(&bindir))
                    .await
                    .expect("starting the test cluster panicked");
                match started {
                    Ok(url) => (url.to_owned(), false),
                    Err(e) => panic!("{suite}: cannot start a test PostgreSQL cluster: {e}"),
                }
            }
        };
        Some(Self::create_on(suite, admin_url, external, None).await)
    }

    /// Like [`TestDatabase::create`], on this process's TLS cluster: a throwaway cluster with
    /// `ssl=on` whose certificate (for `127.0.0.1` and `localhost`) a fresh CA signed; the CA's
    /// PEM file is [`TestDatabase::ca_file`]. Always a local cluster (an external server's TLS
    /// set-up is unknown), so `None` (with a `NOT RUN` line) without the server binaries.
    pub async fn create_with_tls(suite: &str) -> Option<TestDatabase> {
        let bindir = local_bindir(suite)?;
        let started = tokio::task::spawn_blocking(move || cluster::shared_tls(&bindir))
            .await
            .expect("starting the TLS test cluster panicked");
        let cluster = started
            .unwrap_or_else(|e| panic!("{suite}: cannot start a TLS test PostgreSQL cluster: {e}"));
        let ca_file = cluster.ca_file.clone();
        Some(Self::create_on(suite, cluster.admin_url.clone(), false, ca_file).await)
    }

    /// Creates a fresh database on the server of `admin_url`.
    async fn create_on(
        suite: &str,
        admin_url: String,
        external: bool,
        ca_file: Option<std::path::PathBuf>,
    ) -> TestDatabase {
        let name = format!("authgate_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = connect_admin(&admin_url).await;
        admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .unwrap_or_else(|e| panic!("{suite}: creating test database {name}: {e}"));
        let _ = admin.close().await;
        TestDatabase {
            url: with_database(&admin_url, &name),
            name,
            admin_url,
            external,
            ca_file,
        }
    }

    /// The database's URL (it may carry the server's password: do not print it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The PEM file of the CA that signed the server's certificate: only for a database from
    /// [`TestDatabase::create_with_tls`].
    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.ca_file.as_deref()
    }

    /// Whether the server is a throwaway cluster of this process (its settings, e.g. TLS off,
    /// are known) rather than the one `AUTHGATE_TEST_POSTGRES_URL` names.
    pub fn is_throwaway(&self) -> bool {
        !self.external
    }

    /// A store on this database (not yet migrated), with a pool of 10 connections.
    pub async fn store(&self) -> PostgresStore {
        self.store_with(PostgresOptions {
            max_connections: TEST_POOL_SIZE,
        })
        .await
    }

    /// A store on this database with the given options: one per simulated instance.
    pub async fn store_with(&self, options: PostgresOptions) -> PostgresStore {
        PostgresStore::connect_with(&self.url, options)
            .await
            .unwrap_or_else(|e| panic!("connecting to test database {}: {e}", self.name))
    }
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop is synchronous and usually runs inside the test's runtime, where `block_on`
        // panics: drop the database from a thread with a runtime of its own. `WITH (FORCE)` (PostgreSQL 13+) ends the store's pooled connections, which
        // close in the background; an older server gets a plain `DROP DATABASE`. That waits
        // for the terminated sessions to exit (~0.1 s), so on our own cluster, deleted at exit
        // anyway, the test does not wait for it.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropping = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url)
                    .await
                    .map_err(|e| e.to_string())?;
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\"");
                let mut result = admin.execute(format!("{sql} WITH (FORCE)").as_str()).await;
                if result.is_err() {
                    result = admin.execute(sql.as_str()).await;
                }
                let result = result.map_err(|e| e.to_string());
                let _ = admin.close().await;
                result.map(drop)
            })
        });
        if !self.external {
            return;
        }
        if let Ok(Err(e)) = dropping.join() {
            eprintln!("warning: could not drop test database {}: {e}", self.name);
        }
    }
}

/// The directory of the server binaries for a throwaway cluster; `None` after reporting the
/// suite as not run (or a panic, in CI) when there are none.
fn local_bindir(suite: &str) -> Option<std::path::PathBuf> {
    let bindir = cluster::find_bindir();
    if bindir.is_none() {
        not_run(suite);
    }
    bindir
}

/// Whether `AUTHGATE_TEST_REQUIRE_ALL` asks for every backend.
fn require_all() -> bool {
    std::env::var(REQUIRE_ALL_VAR).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Panics (CI) or writes the skip line once per suite and process. The line goes straight to
/// the process's stderr, which `cargo test` does not capture, so a skip is always visible.
fn not_run(suite: &str) {
    if require_all() {
        panic!(
            "{suite} needs PostgreSQL and {REQUIRE_ALL_VAR} is set: set {URL_VAR} to an admin \
             URL (e.g. postgres://postgres:pw@localhost:5432/postgres), or install the server \
             binaries (initdb, postgres; Debian: apt-get install postgresql) or point \
             {BINDIR_VAR} at them"
        );
    }
    static REPORTED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let first = REPORTED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(suite.to_owned());
    if first {
        let _ = writeln!(
            std::io::stderr(),
            "NOT RUN: {suite} (no {URL_VAR} and no initdb found)"
        );
    }
}

/// Connects to the admin database, waiting a little for a server that is still starting.
async fn connect_admin(admin_url: &str) -> PgConnection {
    let mut attempts = 0;
    loop {
        match PgConnection::connect(admin_url).await {
            Ok(conn) => return conn,
            Err(e) if attempts < 50 => {
                attempts += 1;
                tracing::debug!(error = %e, "test server not ready; retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("connecting to the test PostgreSQL server: {e}"),
        }
    }
}

/// `url` with its database (the path) replaced by `name`. Works for `host:port` and for
/// socket URLs (`postgres:///db?host=/run/postgresql`); a password cannot hold a raw `/`, `?`
/// or `#` in a URL, so the first of those after the scheme ends the authority.
fn with_database(url: &str, name: &str) -> String {
    let rest_at = url.find("://").map_or(0, |i| i + 3);
    let (head, rest) = url.split_at(rest_at);
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(authority_end);
    let query_at = after.find(['?', '#']).unwrap_or(after.len());
    format!("{head}{authority}/{name}{}", &after[query_at..])
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn with_database_replaces_only_the_path() {
        let cases = [
            ("postgres://u:p@h:5432/postgres", "postgres://u:p@h:5432/t1"),
            ("postgres://u@h", "postgres://u@h/t1"),
            (
                "postgresql://h/db?sslmode=disable",
                "postgresql://h/t1?sslmode=disable",
            ),
            (
                "postgres://h?sslmode=require",
                "postgres://h/t1?sslmode=require",
            ),
            (
                "postgres:///db?host=/run/postgresql",
                "postgres:///t1?host=/run/postgresql",
            ),
            ("postgres://u:p%2Fq@h/db", "postgres://u:p%2Fq@h/t1"),
        ];
        for (url, expected) in cases {
            assert_eq!(with_database(url, "t1"), expected, "{url}");
        }
    }
}
