//! `authgate-bench`: the two reference measurements `bench/run.sh` reports authgate against.
//!
//! - `authgate-bench ceiling --bind 127.0.0.1:PORT [--alg eddsa|hs256]` serves `GET /verify`:
//!   a bare axum route (same axum, tokio and multi-thread runtime as the product) that checks
//!   `Authorization: Bearer <jwt>` with the product's own [`TokenSigner`] and no database.
//!   Nothing an authenticated route does can be cheaper, so `GET /api/auth/me` is reported as
//!   a ratio to it. At start it signs one access token (valid for an hour) and prints
//!   `token=<jwt>` as the first line on stdout, then `listening=<addr>`.
//! - `authgate-bench hash-time [--iterations N]` hashes a password N times with argon2id and
//!   the service's parameters (defaults of [`HashParams`], overridden by the same
//!   `AUTHGATE_HASH_*` variables the server reads) on this one thread, and prints
//!   `hash_time median_ms=.. min_ms=.. max_ms=.. iterations=.. memory_kib=.. time_cost=..
//!   parallelism=..`. One core can do at most `1000 / median_ms` logins per second, so login
//!   throughput is reported as a ratio to `cores * 1000 / median_ms`.
//! - `authgate-bench seed --database-url URL [--users N] [--sessions-per-user N]
//!   [--audit-events N]` fills an SQLite or PostgreSQL store through the store's own API
//!   (see [`seed`]) and prints `seeded users=.. sessions=.. audit_events=.. total_s=..`.

mod seed;

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use argon2::password_hash::{PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use authgate_core::hashing::HashParams;
use authgate_core::tokens::{generate_ed25519_key, AccessClaims, TokenSigner};
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use clap::{Parser, Subcommand, ValueEnum};
use rand::RngCore as _;
use serde::Serialize;

/// The audience the product puts in its tokens by default (`AUTHGATE_JWT_AUDIENCE`).
const AUDIENCE: &str = "authgate";

/// Command line of `authgate-bench`.
#[derive(Debug, Parser)]
#[command(version, about = "Reference measurements for bench/run.sh")]
struct Cli {
    /// What to run.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Serve GET /verify: token verification with the product's verifier, no database.
    Ceiling {
        /// Loopback address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8089")]
        bind: SocketAddr,
        /// Token algorithm (EdDSA is the product's default).
        #[arg(long, value_enum, default_value_t = Alg::Eddsa)]
        alg: Alg,
    },
    /// Time single argon2id hashes with the service's parameters on one thread.
    HashTime {
        /// Timed hashes (after one untimed warm-up hash).
        #[arg(long, default_value_t = 10)]
        iterations: u32,
        /// argon2id memory in KiB [default: the service's].
        #[arg(long, env = "AUTHGATE_HASH_MEMORY_KIB")]
        memory_kib: Option<u32>,
        /// argon2id iterations (time cost) [default: the service's].
        #[arg(long, env = "AUTHGATE_HASH_ITERATIONS")]
        time_cost: Option<u32>,
        /// argon2id lanes [default: the service's].
        #[arg(long, env = "AUTHGATE_HASH_PARALLELISM")]
        parallelism: Option<u32>,
    },
    /// Fill a store with users, sessions (most expired) and audit events.
    Seed {
        /// `sqlite://path` or `postgres://...`; migrated first.
        #[arg(long)]
        database_url: String,
        /// Users to create.
        #[arg(long, default_value_t = 1_000_000)]
        users: u64,
        /// Sessions per user: one live, the others expired within the last 12 hours.
        #[arg(long, default_value_t = 3)]
        sessions_per_user: u32,
        /// Audit events, spread over the users and the last 80 days.
        #[arg(long, default_value_t = 10_000_000)]
        audit_events: u64,
        /// Concurrent writers.
        #[arg(long, default_value_t = 8)]
        writers: u32,
    },
}

/// Access-token algorithm of the ceiling server.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Alg {
    /// Ed25519 signatures, one in-memory key (the product's default).
    Eddsa,
    /// HMAC-SHA256 with a random 32-byte in-memory secret.
    Hs256,
}

/// What `GET /verify` answers for a valid token.
#[derive(Debug, Serialize)]
struct Who {
    /// The token's user id.
    sub: String,
    /// The token's session id.
    sid: String,
}

fn main() -> Result<(), String> {
    match Cli::parse().command {
        Command::Ceiling { bind, alg } => ceiling(bind, alg),
        Command::HashTime {
            iterations,
            memory_kib,
            time_cost,
            parallelism,
        } => {
            let d = HashParams::default();
            let params = HashParams {
                memory_kib: memory_kib.unwrap_or(d.memory_kib),
                iterations: time_cost.unwrap_or(d.iterations),
                parallelism: parallelism.unwrap_or(d.parallelism),
            };
            hash_time(params, iterations.max(1))
        }
        Command::Seed {
            database_url,
            users,
            sessions_per_user,
            audit_events,
            writers,
        } => {
            let plan = seed::SeedPlan {
                users,
                sessions_per_user: sessions_per_user.max(1),
                audit_events,
                writers,
            };
            let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
            runtime.block_on(seed::seed(&database_url, plan))
        }
    }
}

/// Runs the ceiling server until killed.
fn ceiling(bind: SocketAddr, alg: Alg) -> Result<(), String> {
    let issuer = format!("http://{bind}");
    let now = chrono::Utc::now();
    let signer = match alg {
        Alg::Eddsa => {
            let key = generate_ed25519_key(now).map_err(|e| e.to_string())?;
            TokenSigner::ed25519(&[key], &issuer, AUDIENCE, now, chrono::Duration::hours(1))
                .map_err(|e| e.to_string())?
        }
        Alg::Hs256 => {
            let mut secret = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut secret);
            TokenSigner::hs256(&secret, &issuer, AUDIENCE)
        }
    };
    let token = signer
        .sign(&AccessClaims {
            iss: issuer,
            aud: AUDIENCE.into(),
            sub: "bench-user".into(),
            sid: "bench-session".into(),
            role: "user".into(),
            iat: now.timestamp(),
            exp: now.timestamp() + 3600,
            jti: "bench-token".into(),
        })
        .map_err(|e| e.to_string())?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|e| format!("cannot bind {bind}: {e}"))?;
        let app = Router::new()
            .route("/verify", get(verify))
            .with_state(Arc::new(signer));
        let mut out = std::io::stdout().lock();
        writeln!(out, "token={token}").map_err(|e| e.to_string())?;
        writeln!(out, "listening={bind}").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
        drop(out);
        axum::serve(listener, app)
            .await
            .map_err(|e| format!("server failed: {e}"))
    })
}

/// `GET /verify`: 200 `{sub, sid}` for a valid bearer token, 401 otherwise.
async fn verify(State(signer): State<Arc<TokenSigner>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token.map(|t| signer.verify(t, chrono::Utc::now().timestamp())) {
        Some(Ok(claims)) => Json(Who {
            sub: claims.sub,
            sid: claims.sid,
        })
        .into_response(),
        _ => (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({ "message": "Invalid or expired access token" })),
        )
            .into_response(),
    }
}

/// Times `iterations` argon2id hashes (PHC string, fresh salt each, as the service stores
/// them) and prints one `hash_time key=value ...` line.
fn hash_time(params: HashParams, iterations: u32) -> Result<(), String> {
    let p = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        None,
    )
    .map_err(|e| format!("argon2 parameters: {e}"))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
    let password = b"Analytical7Engine";
    let hash_once = || -> Result<f64, String> {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let start = Instant::now();
        argon
            .hash_password(password, &salt)
            .map_err(|e| e.to_string())?;
        Ok(start.elapsed().as_secs_f64() * 1000.0)
    };
    hash_once()?;
    let mut times = (0..iterations)
        .map(|_| hash_once())
        .collect::<Result<Vec<_>, _>>()?;
    times.sort_by(f64::total_cmp);
    let n = times.len();
    let median = if n % 2 == 1 {
        times[n / 2]
    } else {
        (times[n / 2 - 1] + times[n / 2]) / 2.0
    };
    println!(
        "hash_time median_ms={median:.3} min_ms={:.3} max_ms={:.3} iterations={n} memory_kib={} time_cost={} parallelism={}",
        times[0],
        times[n - 1],
        params.memory_kib,
        params.iterations,
        params.parallelism
    );
    Ok(())
}
