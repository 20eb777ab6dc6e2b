//! `authgate-bench seed`: fills a store with many users, sessions and audit events through
//! the store's own bulk API (`Store::insert_in_bulk`, `record_audit_batch`: the service's
//! insert statements, many rows per statement and one transaction per batch), so the kit can
//! measure on a big database (issue 15: flat cost as the data grows).
//!
//! Every user has the password `Analytical7Engine` (hashed once, argon2id, the service's
//! parameters), an email `seed<N>@bench.example` and a username `seed<N>`; each has
//! `sessions_per_user` sessions, all but one of them expired within the last 12 hours (dead
//! sessions are kept for a day, so the server's pruner leaves them); audit events are spread
//! over those users and the last 80 days (inside the default 90-day retention), written oldest
//! first as a live service would have written them.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use argon2::password_hash::{PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use authgate_core::domain::{NewUser, Session, SessionId, User, UserId};
use authgate_core::hashing::HashParams;
use authgate_core::secret::TokenHash;
use authgate_core::store::{AuditRecord, NewSession};
use authgate_core::Store;
use authgate_store_sql::{PostgresOptions, PostgresStore, SqliteStore};
use chrono::{Duration, Utc};
use rand::RngCore as _;

/// Users per call of `insert_in_bulk` (with their sessions: one transaction).
const USERS_PER_BATCH: u64 = 500;

/// The password of every seeded user.
pub(crate) const PASSWORD: &str = "Analytical7Engine";

/// How much to write.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SeedPlan {
    /// Users to create.
    pub(crate) users: u64,
    /// Sessions per user (one live, the others expired).
    pub(crate) sessions_per_user: u32,
    /// Audit events to write, in batches.
    pub(crate) audit_events: u64,
    /// Concurrent writers.
    pub(crate) writers: u32,
}

/// Opens the store named by `url` (`sqlite:` or `postgres://`) and brings its schema up to date.
async fn open(url: &str) -> Result<Arc<dyn Store>, String> {
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        Arc::new(SqliteStore::connect(url).await.map_err(|e| e.to_string())?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let options = PostgresOptions {
            max_connections: 16,
        };
        Arc::new(
            PostgresStore::connect_with(url, options)
                .await
                .map_err(|e| e.to_string())?,
        )
    } else {
        return Err(format!(
            "{url}: only sqlite: and postgres:// stores can be seeded"
        ));
    };
    store.migrate().await.map_err(|e| e.to_string())?;
    Ok(store)
}

fn password_hash() -> Result<String, String> {
    let p = HashParams::default();
    let params =
        Params::new(p.memory_kib, p.iterations, p.parallelism, None).map_err(|e| e.to_string())?;
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(PASSWORD.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// The user number `n`, its sessions (the last one live) and their first refresh tokens.
fn seeded_user(n: u64, hash: &str, sessions: u32) -> (NewUser, Vec<NewSession>) {
    let now = Utc::now();
    let id = UserId::new();
    let user = User {
        id: id.clone(),
        email: Some(format!("seed{n}@bench.example")),
        username: Some(format!("seed{n}")),
        name: Some(format!("Seeded User {n}")),
        first_name: None,
        last_name: None,
        role: "user".into(),
        email_verified: true,
        created_at: now - Duration::days(100),
        last_login_at: Some(now),
    };
    let new_user = NewUser {
        email_normalized: user.email.clone(),
        username_normalized: user.username.clone(),
        user,
        password_hash: hash.to_owned(),
    };
    let mut rng = rand::thread_rng();
    let sessions = (0..sessions)
        .map(|i| {
            let live = i + 1 == sessions;
            let died = Duration::minutes(i64::from(rng.next_u32() % (12 * 60)) + 1);
            let expires_at = if live {
                now + Duration::days(30)
            } else {
                now - died
            };
            let mut refresh = [0u8; 32];
            rng.fill_bytes(&mut refresh);
            NewSession {
                session: Session {
                    id: SessionId::new(),
                    user_id: id.clone(),
                    created_at: expires_at - Duration::days(30),
                    last_used_at: expires_at - Duration::days(30),
                    expires_at,
                    user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) seed".into()),
                    ip: Some("192.0.2.10".into()),
                },
                refresh_hash: TokenHash(refresh),
                rotation_key: refresh.to_vec(),
            }
        })
        .collect();
    (new_user, sessions)
}

/// Audit events number `from..from + size` of `total` about `users` (ids), spread evenly
/// over the last 80 days, oldest first, so each index grows at its end as in a live store.
fn audit_batch(users: &[UserId], from: u64, size: usize, total: u64) -> Vec<AuditRecord> {
    let mut rng = rand::thread_rng();
    let span_ms = 80 * 24 * 3600 * 1000_i64;
    let first = Utc::now() - Duration::milliseconds(span_ms);
    (0..size as u64)
        .map(|i| {
            let user = &users[rng.next_u32() as usize % users.len()];
            let offset = i64::try_from((from + i) * span_ms as u64 / total.max(1)).unwrap_or(0);
            AuditRecord {
                id: uuid_v7(),
                at: first + Duration::milliseconds(offset),
                kind: "login_succeeded".into(),
                outcome: "success".into(),
                user_id: Some(user.clone()),
                session_id: None,
                ip: Some("192.0.2.10".into()),
                user_agent: Some("seed".into()),
                request_id: None,
                detail: None,
            }
        })
        .collect()
}

/// Writes `plan.audit_events` events about `sample` in batches of 1,000, `plan.writers` batches
/// at a time (on PostgreSQL they commit in parallel; on SQLite the next batch is built while
/// one is written).
async fn write_audit(
    store: &Arc<dyn Store>,
    sample: Arc<Vec<UserId>>,
    plan: SeedPlan,
) -> Result<(), String> {
    const BATCH: u64 = 1_000;
    let next = Arc::new(AtomicU64::new(0));
    let mut writers = Vec::new();
    for _ in 0..plan.writers.max(1) {
        let (store, sample, next) = (store.clone(), sample.clone(), next.clone());
        writers.push(tokio::spawn(async move {
            loop {
                let from = next.fetch_add(BATCH, Ordering::Relaxed);
                if from >= plan.audit_events {
                    return Ok::<_, String>(());
                }
                let size = (plan.audit_events - from).min(BATCH) as usize;
                store
                    .record_audit_batch(&audit_batch(&sample, from, size, plan.audit_events))
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }));
    }
    for w in writers {
        w.await.map_err(|e| e.to_string())??;
    }
    Ok(())
}

/// Runs `count` (at least one) copies of `writer` at once, each taking work off a counter it
/// shares with the others, and collects what each returns.
async fn run_writers<T, Fut>(count: u32, writer: impl Fn() -> Fut) -> Result<Vec<T>, String>
where
    T: Send + 'static,
    Fut: Future<Output = Result<T, String>> + Send + 'static,
{
    let writers: Vec<_> = (0..count.max(1)).map(|_| tokio::spawn(writer())).collect();
    let mut done = Vec::with_capacity(writers.len());
    for w in writers {
        done.push(w.await.map_err(|e| e.to_string())??);
    }
    Ok(done)
}

fn uuid_v7() -> String {
    UserId::new().into_string()
}

/// Writes `plan` into the store at `url`, printing progress; returns nothing but errors.
pub(crate) async fn seed(url: &str, plan: SeedPlan) -> Result<(), String> {
    let store = open(url).await?;
    let hash = Arc::new(password_hash()?);
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let samples = run_writers(plan.writers, || {
        let (store, hash, next) = (store.clone(), hash.clone(), next.clone());
        async move {
            let mut ids = Vec::new();
            loop {
                let from = next.fetch_add(USERS_PER_BATCH, Ordering::Relaxed);
                if from >= plan.users {
                    return Ok(ids);
                }
                let (mut users, mut sessions) = (Vec::new(), Vec::new());
                for n in from..(from + USERS_PER_BATCH).min(plan.users) {
                    let (user, theirs) = seeded_user(n, &hash, plan.sessions_per_user);
                    if ids.len() < 10_000 {
                        ids.push(user.user.id.clone());
                    }
                    users.push(user);
                    sessions.extend(theirs);
                }
                store
                    .insert_in_bulk(&users, &sessions)
                    .await
                    .map_err(|e| e.to_string())?;
                if from % 100_000 == 0 {
                    println!(
                        "seed users={from} elapsed_s={:.0}",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        }
    })
    .await?;
    let sample: Vec<UserId> = samples.into_iter().flatten().collect();
    let users_done = started.elapsed().as_secs_f64();
    if sample.is_empty() {
        return Err("no users to write audit events about".into());
    }
    let audit_started = Instant::now();
    write_audit(&store, Arc::new(sample), plan).await?;
    println!(
        "seeded users={} sessions={} audit_events={} users_s={users_done:.1} audit_s={:.1} total_s={:.1}",
        plan.users,
        plan.users * u64::from(plan.sessions_per_user),
        plan.audit_events,
        audit_started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
    Ok(())
}
