//! PostgreSQL-only checks beyond the contract suite: several instances (each with its own
//! pool) migrating one new database at once, what the migration lock rests on, registrations
//! racing across instances, the housekeeping lease, and failing fast when the server is
//! unreachable.
//!
//! Skipped with a `NOT RUN` line without a server, like the contract suite.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authgate_core::store::UserStore;
use authgate_core::{Store, StoreError};
use authgate_store_sql::testing::TestDatabase;
use authgate_store_sql::{PostgresOptions, PostgresStore};
use authgate_store_tests::helpers::{unique, user_with};
use sqlx::{Connection, PgConnection};
use tokio::sync::Barrier;

const SUITE: &str = "postgres store tests";

/// A small pool, as one of several instances would have.
const INSTANCE: PostgresOptions = PostgresOptions { max_connections: 2 };

/// `n` separate instances on one database.
async fn instances(db: &TestDatabase, n: usize) -> Vec<PostgresStore> {
    let mut stores = Vec::with_capacity(n);
    for _ in 0..n {
        stores.push(db.store_with(INSTANCE).await);
    }
    stores
}

/// Runs `task(i)` for every `i < n` at once, released together, and returns the results.
async fn race<T, Fut>(n: usize, task: impl Fn(usize) -> Fut) -> Vec<T>
where
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (barrier, fut) = (Arc::clone(&barrier), task(i));
            tokio::spawn(async move {
                barrier.wait().await;
                fut.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for handle in handles {
        out.push(handle.await.expect("a racing task panicked"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_migrating_one_fresh_database_at_once_all_succeed() {
    for _ in 0..3 {
        let Some(db) = TestDatabase::create(SUITE).await else {
            return;
        };
        let stores = instances(&db, 6).await;
        let results = race(stores.len(), |i| {
            let store = stores[i].clone();
            async move { store.migrate().await }
        })
        .await;
        assert!(results.iter().all(Result::is_ok), "results: {results:?}");

        let mut conn = PgConnection::connect(db.url()).await.unwrap();
        let applied: Vec<(i64, bool)> =
            sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        assert_eq!(applied, every_migration_once(), "each migration ran once");
        let id = authgate_store_tests::helpers::insert_user(&stores[0]).await;
        assert!(stores[5].find_user_by_id(&id).await.unwrap().is_some());
    }
}

/// sqlx's lock id for a database: `0x3d32ad9e * crc32(name)` (sqlx-postgres 0.8
/// `migrate.rs`, `generate_lock_id`).
fn sqlx_migration_lock_id(database: &str) -> i64 {
    let mut crc = 0xFFFF_FFFF_u32;
    for &byte in database.as_bytes() {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    0x3d32_ad9e_i64 * i64::from(!crc)
}

/// What `migrate` relies on for instances starting together: sqlx's migrator waits for the
/// advisory lock on the database before it touches anything. If an sqlx upgrade changes
/// that, this test says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_waits_for_the_advisory_lock_another_instance_holds() {
    let Some(db) = TestDatabase::create(SUITE).await else {
        return;
    };
    let mut holder = PgConnection::connect(db.url()).await.unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(sqlx_migration_lock_id(db.name()))
        .execute(&mut holder)
        .await
        .unwrap();

    let store = db.store().await;
    let migrating = tokio::spawn({
        let store = store.clone();
        async move { store.migrate().await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !migrating.is_finished(),
        "migrate did not wait for the lock"
    );
    let tables: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pg_tables WHERE tablename = '_sqlx_migrations'")
            .fetch_one(&mut holder)
            .await
            .unwrap();
    assert_eq!(tables, 0, "nothing is created before the lock is taken");

    holder.close().await.unwrap();
    migrating
        .await
        .unwrap()
        .expect("migrates once the lock is free");
    store.ping().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registrations_racing_across_instances_have_exactly_one_winner() {
    let Some(db) = TestDatabase::create(SUITE).await else {
        return;
    };
    let stores = instances(&db, 4).await;
    stores[0].migrate().await.unwrap();

    let tag = unique();
    let (email, username) = (format!("race.{tag}@example.com"), format!("racer_{tag}"));
    let by_email = race(20, |i| {
        let store = stores[i % stores.len()].clone();
        let user = user_with(Some(&email), Some(&format!("u{i}_{tag}")));
        async move { store.insert_user(&user).await }
    })
    .await;
    let by_username = race(20, |i| {
        let store = stores[i % stores.len()].clone();
        let user = user_with(Some(&format!("u{i}.{tag}@example.com")), Some(&username));
        async move { store.insert_user(&user).await }
    })
    .await;
    for (results, field) in [(by_email, "email"), (by_username, "username")] {
        let wins = results.iter().filter(|r| r.is_ok()).count();
        let conflicts = results
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Conflict { field: f }) if *f == field))
            .count();
        assert_eq!((wins, conflicts), (1, 19), "{field}: {results:?}");
    }
}

#[tokio::test]
async fn a_refused_connection_is_unavailable_at_once() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let err = PostgresStore::connect(&format!("postgres://authgate@127.0.0.1:{port}/authgate"))
        .await
        .expect_err("nothing listens there");
    assert!(matches!(err, StoreError::Unavailable(_)), "got {err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_server_that_never_answers_is_unavailable_within_the_acquire_timeout() {
    // Accepts connections and never says a word, like a hung server.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let started = Instant::now();
    let err = PostgresStore::connect(&format!("postgres://authgate@127.0.0.1:{port}/authgate"))
        .await
        .expect_err("the server never answers");
    silent.abort();
    assert!(matches!(err, StoreError::Unavailable(_)), "got {err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
}

/// Every PostgreSQL migration in the source tree, each applied once and successfully.
fn every_migration_once() -> Vec<(i64, bool)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut versions: Vec<i64> = std::fs::read_dir(dir)
        .expect("the migrations folder")
        .map(|entry| {
            let name = entry.expect("an entry").file_name();
            let name = name.to_string_lossy();
            name.split('_')
                .next()
                .unwrap()
                .parse()
                .expect("a numbered migration")
        })
        .collect();
    versions.sort_unstable();
    versions.into_iter().map(|v| (v, true)).collect()
}

#[tokio::test]
async fn the_user_search_can_be_answered_from_the_prefix_indexes() {
    let Some(db) = TestDatabase::create(SUITE).await else {
        return;
    };
    let store = db.store_with(INSTANCE).await;
    store.migrate().await.unwrap();
    let search = authgate_core::store::UserSearch {
        prefix: Some("ada".into()),
        limit: 50,
        ..Default::default()
    };

    let plan = store.explain_user_search(&search).await.expect("a plan");

    assert!(plan.contains("users_email_prefix_idx"), "{plan}");
    assert!(plan.contains("users_username_prefix_idx"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_six_instances_claiming_the_housekeeping_at_once_one_gets_each_period() {
    let Some(db) = TestDatabase::create(SUITE).await else {
        return;
    };
    let stores = instances(&db, 6).await;
    stores[0].migrate().await.unwrap();
    let hour = chrono::Duration::hours(1);
    let start = chrono::Utc::now();
    let claim_at = |now: chrono::DateTime<chrono::Utc>| {
        let stores = stores.clone();
        race(stores.len(), move |i| {
            let store = stores[i].clone();
            async move { store.claim_housekeeping(now, hour).await.unwrap() }
        })
    };

    let first = claim_at(start).await;
    let within = claim_at(start + chrono::Duration::minutes(59)).await;
    let next = claim_at(start + hour).await;

    let winners = |claims: &[bool]| claims.iter().filter(|c| **c).count();
    assert_eq!(winners(&first), 1, "{first:?}");
    assert_eq!(
        winners(&within),
        0,
        "claimed again within the hour: {within:?}"
    );
    assert_eq!(winners(&next), 1, "{next:?}");
}
