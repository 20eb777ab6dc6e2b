//! Refresh-token rotation on an SQLite file: one at a time, and 64 at once.
//!
//! What it measures: `SessionStore::rotate_refresh_token` through the store's public API on
//! a real WAL file in a temporary directory (`synchronous = NORMAL`, the default), each
//! rotation spending the token the previous one issued. `one_at_a_time`: a single caller,
//! so every rotation is a batch of one and pays a whole transaction. `64_concurrent`: 64
//! sessions rotated by 64 tasks at the same instant, the shape of a refresh burst, which the
//! group commit turns into a few transactions; reported per rotation.
//!
//! Why it matters: refresh is the busiest write, and SQLite has one writer; issue 15 sets
//! refresh against `/me` (at least 40 % of its rate).

use std::sync::Arc;

use authgate_core::domain::SessionId;
use authgate_core::secret::TokenHash;
use authgate_core::store::{Rotation, SessionStore, Store};
use authgate_store_sql::SqliteStore;
use authgate_store_tests::helpers::{insert_user, open_session, token_hash};
use chrono::{Duration, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tokio::sync::Mutex;

const CONCURRENT: usize = 64;

/// A session and the hash of its current refresh token.
struct Chain {
    id: SessionId,
    current: Mutex<TokenHash>,
}

impl Chain {
    async fn rotate(&self, store: &SqliteStore) {
        let mut current = self.current.lock().await;
        let next = token_hash();
        let now = Utc::now();
        let outcome = store
            .rotate_refresh_token(&self.id, &current, &next, now, now + Duration::days(30))
            .await
            .expect("a rotation");
        assert!(
            matches!(outcome, Rotation::Rotated),
            "the current token rotates"
        );
        *current = next;
    }
}

async fn chains(store: &SqliteStore, count: usize) -> Vec<Arc<Chain>> {
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let user = insert_user(store).await;
        let (id, hash) = open_session(store, &user, Utc::now(), Duration::days(30)).await;
        out.push(Arc::new(Chain {
            id,
            current: Mutex::new(hash),
        }));
    }
    out
}

fn bench_rotations(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = rt.block_on(async {
        let store = SqliteStore::connect(&url).await.expect("the database");
        store.migrate().await.expect("migrations");
        store
    });
    let chains = rt.block_on(chains(&store, CONCURRENT));

    let mut group = c.benchmark_group("sqlite_rotation");
    group.bench_function("one_at_a_time", |b| {
        b.iter(|| rt.block_on(chains[0].rotate(&store)))
    });
    group.throughput(Throughput::Elements(CONCURRENT as u64));
    group.bench_function("64_concurrent", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = chains
                    .iter()
                    .map(|chain| {
                        let (chain, store) = (Arc::clone(chain), store.clone());
                        tokio::spawn(async move { chain.rotate(&store).await })
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("a rotation task");
                }
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench_rotations);
criterion_main!(benches);
