//! What the SQLite file looks like on disk: write-ahead logging, as readers and the one
//! writer need to run side by side.

use authgate_core::Store;
use authgate_store_sql::SqliteStore;
use sqlx::{Connection, SqliteConnection};

#[tokio::test]
async fn the_database_file_is_in_wal_mode_with_a_wal_file_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authgate.db");
    let url = format!("sqlite://{}", path.display());
    let store = SqliteStore::connect(&url).await.expect("opening the file");
    store.migrate().await.expect("migrating");

    let mut other = SqliteConnection::connect(&url)
        .await
        .expect("a second connection");
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut other)
        .await
        .unwrap();

    assert_eq!(mode.to_lowercase(), "wal");
    assert!(
        dir.path().join("authgate.db-wal").exists(),
        "no -wal file next to the database"
    );
    other.close().await.unwrap();
}
