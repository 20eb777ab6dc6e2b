//! The database a test server runs on, per `AUTHGATE_TEST_BACKEND`: shared by the HTTP suite
//! (`tests/api`) and the `authgate import` tests (`tests/import.rs`), each of which includes
//! this file with `#[path]`.

/// The store a test server runs on, chosen by `AUTHGATE_TEST_BACKEND` (default `sqlite`).
///
/// A new backend is a new variant here, its name in [`Backend::from_env`], and an arm in
/// [`database_url_for`] that makes a fresh, empty database and a guard that removes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// An SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the test PostgreSQL server (`AUTHGATE_TEST_POSTGRES_URL`, or a
    /// throwaway cluster started by `authgate_store_sql::testing`).
    Postgres,
    /// A fresh database on the test MongoDB server (`AUTHGATE_TEST_MONGODB_URL`, or the
    /// nx-27017 wire-protocol server started by `authgate_store_mongo::testing`).
    MongoDb,
}

impl Backend {
    /// The backend named by `AUTHGATE_TEST_BACKEND`; panics on a name it does not know, so a
    /// typo never silently runs the suite on SQLite.
    pub(crate) fn from_env() -> Backend {
        match std::env::var("AUTHGATE_TEST_BACKEND")
            .as_deref()
            .map(str::trim)
        {
            Err(_) | Ok("") | Ok("sqlite") => Backend::Sqlite,
            Ok("postgres") => Backend::Postgres,
            Ok("mongodb") => Backend::MongoDb,
            Ok(other) => panic!(
                "AUTHGATE_TEST_BACKEND={other:?}: this suite knows `sqlite`, `postgres`, `mongodb`"
            ),
        }
    }
}

/// Keeps a test database alive; dropping it removes the database.
pub(crate) enum DbGuard {
    /// The directory holding the SQLite file.
    Sqlite { _dir: tempfile::TempDir },
    /// The PostgreSQL test database, dropped with the guard.
    Postgres {
        _db: authgate_store_sql::testing::TestDatabase,
    },
    /// The MongoDB test database, dropped with the guard.
    MongoDb {
        _db: authgate_store_mongo::testing::TestDatabase,
    },
}

/// The one place a test database is made: a fresh, empty database of `backend`, as the URL
/// to give `AUTHGATE_DATABASE_URL`, and its guard.
pub(crate) async fn database_url_for(backend: Backend) -> (String, DbGuard) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let url = format!("sqlite://{}", dir.path().join("authgate.db").display());
            (url, DbGuard::Sqlite { _dir: dir })
        }
        // The backend was asked for by name: a missing server is a failure, not a skip.
        Backend::Postgres => {
            let db = authgate_store_sql::testing::TestDatabase::create("HTTP suite on postgres")
                .await
                .expect("AUTHGATE_TEST_BACKEND=postgres needs PostgreSQL (initdb or AUTHGATE_TEST_POSTGRES_URL)");
            (db.url().to_owned(), DbGuard::Postgres { _db: db })
        }
        Backend::MongoDb => {
            let db = authgate_store_mongo::testing::fresh_database("HTTP suite on mongodb").expect(
                "AUTHGATE_TEST_BACKEND=mongodb needs nx-27017 or AUTHGATE_TEST_MONGODB_URL",
            );
            (db.url().to_owned(), DbGuard::MongoDb { _db: db })
        }
    }
}
