//! PostgreSQL over TLS: the `sslmode` and `sslrootcert` URL parameters that hosted servers
//! (RDS, Cloud SQL, Neon) need, against a throwaway cluster that serves TLS with a certificate
//! from a CA made for the test process, and against the plain test cluster.
//!
//! Skipped with a `NOT RUN` line without the PostgreSQL server binaries.

use authgate_core::store::UserStore;
use authgate_core::{Store, StoreError};
use authgate_store_sql::testing::TestDatabase;
use authgate_store_sql::PostgresStore;
use authgate_store_tests::helpers::new_user;

const SUITE: &str = "postgres TLS tests";

/// `db`'s URL with these query parameters.
fn url_with(db: &TestDatabase, params: &str) -> String {
    format!("{}?{params}", db.url())
}

/// The `sslrootcert=` parameter naming the TLS cluster's CA file.
fn root_cert_param(db: &TestDatabase) -> String {
    let ca = db.ca_file().expect("a TLS test database has a CA file");
    format!("sslrootcert={}", ca.display())
}

#[tokio::test]
async fn verify_full_with_the_servers_ca_connects_over_tls_and_stores_a_user() {
    let Some(db) = TestDatabase::create_with_tls(SUITE).await else {
        return;
    };
    let url = url_with(
        &db,
        &format!("sslmode=verify-full&{}", root_cert_param(&db)),
    );
    let store = PostgresStore::connect(&url).await.expect("verify-full");
    store.migrate().await.expect("migrating over TLS");
    let user = new_user();
    store.insert_user(&user).await.expect("inserting over TLS");
    let found = store.find_user_by_id(&user.user.id).await.unwrap();
    assert_eq!(found.map(|r| r.user), Some(user.user));

    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&sqlx::PgPool::connect(&url).await.unwrap())
            .await
            .unwrap();
    assert!(encrypted, "the server sees a TLS connection");
}

#[tokio::test]
async fn require_connects_without_checking_the_certificate() {
    let Some(db) = TestDatabase::create_with_tls(SUITE).await else {
        return;
    };
    let store = PostgresStore::connect(&url_with(&db, "sslmode=require"))
        .await
        .expect("sslmode=require");
    store.ping().await.expect("ping over TLS");
}

#[tokio::test]
async fn verify_full_refuses_a_certificate_from_an_unknown_ca() {
    let Some(db) = TestDatabase::create_with_tls(SUITE).await else {
        return;
    };
    // The test CA is in no system trust store.
    let err = PostgresStore::connect(&url_with(&db, "sslmode=verify-full"))
        .await
        .expect_err("the certificate's CA is not trusted");
    assert!(matches!(err, StoreError::Unavailable(_)), "got {err:?}");
    assert!(err.to_string().contains("certificate"), "got {err}");
}

#[tokio::test]
async fn require_against_a_server_without_tls_fails_saying_so() {
    let Some(db) = TestDatabase::create(SUITE).await else {
        return;
    };
    if !db.is_throwaway() {
        // An external server's TLS set-up is unknown: this needs one known to have it off.
        return;
    }
    let err = PostgresStore::connect(&url_with(&db, "sslmode=require"))
        .await
        .expect_err("the test cluster serves no TLS");
    assert!(
        err.to_string().contains("server does not support TLS"),
        "got {err}"
    );
}
