//! Refresh-token work: the opaque-secret operations of `authgate_core::secret`.
//!
//! What it measures: generating an `OpaqueToken` (32 bytes from the OS generator, then
//! base64url), `hash()` (SHA-256 of the 43-character value, what stores index),
//! `successor()` (HMAC-SHA256 with a session's rotation key), `OpaqueToken::from_client` on a
//! well-formed value and on garbage, and `TokenHash::to_hex` (the key text-keyed stores use).
//!
//! Why it matters: one refresh parses the client's token, hashes it, derives and hashes the
//! successor; login and register generate and hash a fresh one. These costs sit on top of the
//! store round trips in the refresh throughput target of issue 6, and should stay negligible
//! beside them.

use std::hint::black_box;

use authgate_core::secret::{random_key, OpaqueToken};
use criterion::{criterion_group, criterion_main, Criterion};

fn bench_secrets(c: &mut Criterion) {
    let mut group = c.benchmark_group("refresh_token");
    let token = OpaqueToken::generate();
    let rotation_key = random_key();
    let hash = token.hash();
    let raw = token.expose().to_owned();
    let garbage = "not a token, but 43 characters long, really";
    assert_eq!(garbage.len(), 43);

    group.bench_function("generate", |b| b.iter(OpaqueToken::generate));
    group.bench_function("hash_sha256", |b| b.iter(|| black_box(&token).hash()));
    group.bench_function("successor_hmac", |b| {
        b.iter(|| black_box(&token).successor(black_box(&rotation_key)))
    });
    group.bench_function("from_client/valid", |b| {
        b.iter(|| OpaqueToken::from_client(black_box(&raw)).expect("valid"))
    });
    group.bench_function("from_client/garbage", |b| {
        b.iter(|| OpaqueToken::from_client(black_box(garbage)))
    });
    group.bench_function("hash_to_hex", |b| b.iter(|| black_box(&hash).to_hex()));
    // What one refresh does to secrets before and between its store calls.
    group.bench_function("refresh_path", |b| {
        b.iter(|| {
            let token = OpaqueToken::from_client(black_box(&raw)).expect("valid");
            let old = token.hash();
            let next = token.successor(&rotation_key);
            (old, next.hash(), next)
        })
    });
    group.finish();
}

criterion_group!(benches, bench_secrets);
criterion_main!(benches);
