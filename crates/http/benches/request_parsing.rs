//! Request parsing in the HTTP layer, without the router, the network or the store.
//!
//! What it measures: the public `ApiJson` / `OptionalJson` extractors that the login,
//! register and refresh handlers use, run on a fully buffered `axum` request: content-type
//! check, reading the body (with axum's default body limit), `serde_path_to_error` +
//! `serde_json` into the request DTO, and the trailing-garbage check. The request itself is
//! built in the untimed setup. Plain `serde_json::from_slice` into the same DTO is measured
//! beside it, so the extractor's own overhead is visible. `client_ip` (the `Client`
//! extractor's X-Forwarded-For walk behind a trusted proxy) is measured as well.
//!
//! Not measured: the bearer-token header split (`extract::bearer_token` is private, and the
//! public `AuthUser` extractor needs a whole `AuthService` with a store behind it).
//!
//! Why it matters: this is the per-request work every login, register and refresh does
//! before it reaches the service; it should be a rounding error next to the token and
//! database work that follows.

use std::future::Future;
use std::hint::black_box;
use std::net::IpAddr;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use authgate_http::dto::{LoginBody, RefreshBody, RegisterBody};
use authgate_http::extract::{client_ip, ApiJson, OptionalJson};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

const LOGIN: &[u8] = br#"{"email":"ada.lovelace@example.com","password":"Analytical7Engine"}"#;
const REGISTER: &[u8] = br#"{
  "email": "ada.lovelace@example.com",
  "password": "Analytical7Engine",
  "firstName": "Ada",
  "lastName": "Lovelace",
  "username": "ada_lovelace",
  "role": "user"
}"#;
const REFRESH: &[u8] = br#"{"refreshToken":"q9Xb2mQeV0c7n1R4sT8uW3yZ6aB5dE0fG2hJ4kL7mN9"}"#;

fn json_request(path: &str, body: &'static [u8]) -> Request {
    Request::builder()
        .method("POST")
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(Bytes::from_static(body)))
        .expect("request")
}

/// Runs a future that never waits: the body is already in memory, so the extractor
/// completes on its first poll. Avoids timing an executor.
fn now_or_never<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("extractor waited on an in-memory body"),
    }
}

fn bench_json_bodies(c: &mut Criterion) {
    let mut group = c.benchmark_group("request_json");

    group.bench_function("login/api_json", |b| {
        b.iter_batched(
            || json_request("/api/auth/login", LOGIN),
            |req| {
                let ApiJson(body) = now_or_never(ApiJson::<LoginBody>::from_request(req, &()))
                    .expect("valid login body");
                body
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("login/serde_json_only", |b| {
        b.iter(|| serde_json::from_slice::<LoginBody>(black_box(LOGIN)).expect("valid"))
    });

    group.bench_function("register/api_json", |b| {
        b.iter_batched(
            || json_request("/api/auth/register", REGISTER),
            |req| {
                let ApiJson(body) = now_or_never(ApiJson::<RegisterBody>::from_request(req, &()))
                    .expect("valid register body");
                body
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("register/serde_json_only", |b| {
        b.iter(|| serde_json::from_slice::<RegisterBody>(black_box(REGISTER)).expect("valid"))
    });

    group.bench_function("refresh/optional_json", |b| {
        b.iter_batched(
            || json_request("/api/auth/refresh", REFRESH),
            |req| {
                let OptionalJson(body) =
                    now_or_never(OptionalJson::<RefreshBody>::from_request(req, &()))
                        .expect("valid refresh body");
                body.expect("a body was sent")
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("refresh/optional_json_empty", |b| {
        b.iter_batched(
            || json_request("/api/auth/refresh", b""),
            |req| {
                let OptionalJson(body) =
                    now_or_never(OptionalJson::<RefreshBody>::from_request(req, &()))
                        .expect("empty body is allowed");
                body
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn bench_client_ip(c: &mut Criterion) {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        "203.0.113.7, 198.51.100.23, 10.0.0.2"
            .parse()
            .expect("header"),
    );
    let trusted: Vec<IpAddr> = vec!["10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()];
    let proxy: IpAddr = "10.0.0.1".parse().unwrap();
    let direct: IpAddr = "192.0.2.10".parse().unwrap();
    let mut group = c.benchmark_group("client_ip");
    group.bench_function("direct_peer", |b| {
        b.iter(|| client_ip(black_box(direct), black_box(&headers), &trusted))
    });
    group.bench_function("behind_trusted_proxy", |b| {
        b.iter(|| client_ip(black_box(proxy), black_box(&headers), &trusted))
    });
    group.finish();
}

criterion_group!(benches, bench_json_bodies, bench_client_ip);
criterion_main!(benches);
