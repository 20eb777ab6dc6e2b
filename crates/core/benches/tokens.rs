//! Access-token signing and verification, EdDSA (Ed25519) and HS256.
//!
//! What it measures: `TokenSigner::sign` on a realistic claim set (serialising the claims,
//! base64url, the signature) and `TokenSigner::verify` on a valid token (header decode and
//! key look-up for EdDSA, signature check, `exp`/`iss`/`aud` validation, claim
//! deserialisation), and `verify_seen_before`: the same token again, answered by the signer's
//! verified-token cache. Key generation and signer construction happen once, outside the timing.
//! As a baseline, bare ed25519-dalek sign/verify of a message of the same length with
//! ready-made keys: the gap to `access_token/eddsa` is what the JWT layer adds (JSON, base64,
//! and jsonwebtoken's per-call key parsing).
//!
//! Why it matters: every protected request (`GET /me` and the auth extractor) verifies one
//! token, and every login and refresh signs one. Verification is the floor under the
//! authenticated request path: issue 6 sets `GET /me` against a bare route that does only this.

use std::hint::black_box;

use authgate_core::tokens::{generate_ed25519_key, AccessClaims, TokenSigner};
use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};
use ed25519_dalek::{Signer, SigningKey, Verifier};

const ISSUER: &str = "https://auth.example.com";
const AUDIENCE: &str = "authgate";

/// Claims shaped like the ones the service issues (UUIDv7 ids), valid for an hour.
fn claims() -> AccessClaims {
    let now = Utc::now().timestamp();
    AccessClaims {
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sub: "0192f7a4-6c1e-7d3a-9b2f-3e4d5c6b7a81".into(),
        sid: "0192f7a4-6c1f-7aa0-8c3d-1f2e3d4c5b6a".into(),
        role: "user".into(),
        iat: now,
        exp: now + 3600,
        jti: "0192f7a4-6c20-7b11-a4e5-9d8c7b6a5f4e".into(),
    }
}

fn ed25519_signer() -> TokenSigner {
    let now = Utc::now();
    let key = generate_ed25519_key(now).expect("generate key");
    TokenSigner::ed25519(&[key], ISSUER, AUDIENCE, now, chrono::Duration::minutes(15))
        .expect("ed25519 signer")
}

fn hs256_signer() -> TokenSigner {
    TokenSigner::hs256(b"0123456789abcdef0123456789abcdef", ISSUER, AUDIENCE)
}

fn bench_tokens(c: &mut Criterion) {
    let claims = claims();
    for (name, signer) in [("eddsa", ed25519_signer()), ("hs256", hs256_signer())] {
        let mut group = c.benchmark_group(format!("access_token/{name}"));
        group.bench_function("sign", |b| {
            b.iter(|| signer.sign(black_box(&claims)).expect("sign"))
        });
        let token = signer.sign(&claims).expect("sign");
        group.bench_function("verify", |b| {
            let now = Utc::now().timestamp();
            b.iter(|| {
                signer
                    .verify_uncached(black_box(&token), now)
                    .expect("verify")
            })
        });
        // The same token again: the verified-token cache answers (a map look-up by the
        // whole token and a clone of the claims), as for every request after a client's first.
        group.bench_function("verify_seen_before", |b| {
            let now = Utc::now().timestamp();
            b.iter(|| signer.verify(black_box(&token), now).expect("verify"))
        });
        group.finish();
    }

    let token = hs256_signer().sign(&claims).expect("sign");
    let message = &token.as_bytes()[..token.rfind('.').expect("compact JWT")];
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let public = key.verifying_key();
    let signature = key.sign(message);
    let mut group = c.benchmark_group("ed25519_baseline");
    group.bench_function("sign", |b| b.iter(|| key.sign(black_box(message))));
    group.bench_function("verify", |b| {
        b.iter(|| {
            public
                .verify(black_box(message), black_box(&signature))
                .expect("verify")
        })
    });
    group.finish();
}

criterion_group!(benches, bench_tokens);
criterion_main!(benches);
