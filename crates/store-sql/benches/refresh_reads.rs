//! The read every refresh starts with, on an SQLite file: the joined read against two reads.
//!
//! What it measures: `Store::find_refresh_token_with_owner` (one query joining the token,
//! its session and the session's owner) against what refresh did before it,
//! `SessionStore::find_refresh_token` then `UserStore::find_user_by_id`, on a real WAL file
//! in a temporary directory holding one user and session; one caller at a time, so the
//! figure is the latency of the read, hand-offs to the connection's thread included.
//!
//! Why it matters: issue 15 sets refresh against `/me`, and each read on SQLite is a round
//! trip to one of sqlx's connection threads.

use authgate_core::store::{SessionStore, Store, UserStore};
use authgate_store_sql::SqliteStore;
use authgate_store_tests::helpers::{insert_user, open_session};
use chrono::{Duration, Utc};
use criterion::{criterion_group, criterion_main, Criterion};

fn bench_refresh_reads(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let (store, hash) = rt.block_on(async {
        let store = SqliteStore::connect(&url).await.expect("the database");
        store.migrate().await.expect("migrations");
        let user = insert_user(&store).await;
        let (_, hash) = open_session(&store, &user, Utc::now(), Duration::days(30)).await;
        (store, hash)
    });

    let mut group = c.benchmark_group("sqlite_refresh_read");
    group.bench_function("joined", |b| {
        b.iter(|| {
            rt.block_on(async {
                let found = store.find_refresh_token_with_owner(&hash).await;
                assert!(found.expect("the read").is_some(), "the token is found");
            })
        })
    });
    group.bench_function("two_reads", |b| {
        b.iter(|| {
            rt.block_on(async {
                let token = store.find_refresh_token(&hash).await.expect("the read");
                let token = token.expect("the token is found");
                let owner = store.find_user_by_id(&token.user_id).await;
                assert!(owner.expect("the read").is_some(), "the owner is found");
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench_refresh_reads);
criterion_main!(benches);
