//! Several nodes on one database, each the real `authgate` binary, on the store
//! `AUTHGATE_TEST_BACKEND` names: what must hold when a team runs more than one. The
//! submodules put them under load, kill and restart them, and check what they share.

mod crash;
mod feed;
mod load;
mod rolling;
mod shared;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tempfile::TempDir;

use crate::helpers::{database_url_for, unique_email, Backend, PASSWORD};
use crate::process::{run, Server};

#[tokio::test]
async fn three_nodes_started_at_once_on_a_fresh_database_migrate_it_and_accept_each_others_tokens()
{
    // The races (three migrations, three first keys) are in the first seconds of a fresh
    // database: try them a few times.
    for round in 0..3 {
        let (url, _db) = database_url_for(Backend::from_env()).await;
        let dir = TempDir::new().expect("a temporary directory");
        // Behind one load balancer, so one public URL: the tokens' issuer.
        let settings = [
            ("AUTHGATE_DATABASE_URL", url.as_str()),
            ("AUTHGATE_PUBLIC_URL", "http://auth.example.test"),
        ];
        // Spawned in the same poll, so all three migrate and look for a key together.
        let (a, b, c) = tokio::join!(
            Server::start(dir.path(), &settings),
            Server::start(dir.path(), &settings),
            Server::start(dir.path(), &settings),
        );
        let nodes = [a, b, c];
        // Each started, so each migrated (or found the schema migrated) without an error.
        for node in &nodes {
            assert!(node.stderr().contains("listening on"), "{}", node.stderr());
        }
        if Backend::from_env() == Backend::Postgres {
            assert_migrated_once(&url).await;
        }

        for (i, issuer) in nodes.iter().enumerate() {
            let email = unique_email();
            let body = json!({ "email": email, "password": PASSWORD, "name": "Node Nadia" });
            let registered = issuer.post("/api/auth/register", &body).await;
            assert_eq!(
                registered.status,
                StatusCode::CREATED,
                "{}",
                registered.body
            );
            let token = registered.str("/accessToken");
            for (j, checker) in nodes.iter().enumerate() {
                let me = reqwest::Client::new()
                    .get(format!("{}/api/auth/me", checker.base))
                    .bearer_auth(token)
                    .send()
                    .await
                    .expect("request sent");
                assert_eq!(
                    me.status(),
                    StatusCode::OK,
                    "round {round}: a token from node {i} on node {j}; logs: {}",
                    checker.stderr()
                );
            }
        }
    }
}

/// Asserts that every migration of `crates/store-sql/migrations/postgres` is recorded once in
/// the database at `url`, as applied successfully.
async fn assert_migrated_once(url: &str) {
    use sqlx::Connection;
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../store-sql/migrations/postgres"
    );
    let files = std::fs::read_dir(dir)
        .expect("the migrations folder")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
        })
        .count();
    let mut db = sqlx::PgConnection::connect(url)
        .await
        .expect("a connection");
    let applied: Vec<(i64, bool)> =
        sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut db)
            .await
            .expect("the migrations table");
    assert_eq!(applied.len(), files, "{applied:?}");
    assert!(applied.iter().all(|(_, ok)| *ok), "{applied:?}");
}

/// The sum of the node's `GET /metrics` samples of `name` whose line contains `having`.
async fn metric_sum(node: &Server, name: &str, having: &str) -> f64 {
    let text = reqwest::get(format!("{}/metrics", node.base))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("a text body");
    text.lines()
        .filter(|line| line.starts_with(name) && line.contains(having))
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

/// Three nodes on one fresh PostgreSQL database, trusting the test's `X-Forwarded-For`.
async fn three_nodes_on_postgres(dir: &TempDir, url: &str, extra: &[(&str, &str)]) -> [Server; 3] {
    let mut settings = vec![
        ("AUTHGATE_DATABASE_URL", url),
        ("AUTHGATE_PUBLIC_URL", "http://auth.example.test"),
        ("AUTHGATE_TRUSTED_PROXIES", "127.0.0.1"),
    ];
    settings.extend_from_slice(extra);
    let (a, b, c) = tokio::join!(
        Server::start(dir.path(), &settings),
        Server::start(dir.path(), &settings),
        Server::start(dir.path(), &settings),
    );
    [a, b, c]
}

/// Whether this run is on PostgreSQL, the one store that shares limits (said when not).
fn on_postgres(test: &str) -> bool {
    let on = Backend::from_env() == Backend::Postgres;
    if !on {
        eprintln!("NOT RUN here: {test} needs AUTHGATE_TEST_BACKEND=postgres");
    }
    on
}

#[tokio::test]
async fn wrong_passwords_spread_over_three_nodes_block_the_account_after_the_same_count_as_on_one()
{
    if !on_postgres("the shared login block") {
        return;
    }
    let (url, _db) = database_url_for(Backend::Postgres).await;
    let dir = TempDir::new().expect("a temporary directory");
    let limits = [
        ("AUTHGATE_LOGIN_MAX_FAILURES", "6"),
        ("AUTHGATE_LOGIN_FREE_ATTEMPTS", "100"),
        ("AUTHGATE_RATE_LIMIT_LOGIN", "1000/min"),
    ];
    let nodes = three_nodes_on_postgres(&dir, &url, &limits).await;
    let email = unique_email();
    let body = json!({ "email": email, "password": PASSWORD, "name": "Node Nadia" });
    let registered = nodes[0].post("/api/auth/register", &body).await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.body
    );

    let guess = json!({ "email": email, "password": "Wrong7Password" });
    for i in 0..6 {
        let node = &nodes[i % 3];
        let res = node
            .post_from("/api/auth/login", &guess, &format!("10.1.0.{i}"))
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNAUTHORIZED,
            "guess {i}: {}",
            res.body
        );
    }
    for (n, node) in nodes.iter().enumerate() {
        let res = node.post_from("/api/auth/login", &guess, "10.1.1.1").await;
        assert_eq!(
            res.status,
            StatusCode::TOO_MANY_REQUESTS,
            "node {n} let a 7th guess through: {}",
            res.body
        );
        assert_eq!(res.body["code"], "rate_limited");
    }
}

#[tokio::test]
async fn logins_from_one_ip_spread_over_three_nodes_hit_the_per_ip_rate_after_the_same_count() {
    if !on_postgres("the shared per-IP rate") {
        return;
    }
    let (url, _db) = database_url_for(Backend::Postgres).await;
    let dir = TempDir::new().expect("a temporary directory");
    let nodes =
        three_nodes_on_postgres(&dir, &url, &[("AUTHGATE_RATE_LIMIT_LOGIN", "5/min")]).await;

    for i in 0..5 {
        let guess = json!({ "email": unique_email(), "password": "Wrong7Password" });
        let res = nodes[i % 3]
            .post_from("/api/auth/login", &guess, "10.2.0.1")
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNAUTHORIZED,
            "login {i}: {}",
            res.body
        );
    }
    for (n, node) in nodes.iter().enumerate() {
        let guess = json!({ "email": unique_email(), "password": "Wrong7Password" });
        let res = node.post_from("/api/auth/login", &guess, "10.2.0.1").await;
        assert_eq!(
            res.status,
            StatusCode::TOO_MANY_REQUESTS,
            "node {n} allowed a 6th login from the IP: {}",
            res.body
        );
        let other = node.post_from("/api/auth/login", &guess, "10.2.0.2").await;
        assert_eq!(
            other.status,
            StatusCode::UNAUTHORIZED,
            "another IP keeps its own rate"
        );
    }
}

/// Polls `GET /me` on `node` until it answers 401; how long that took, or `None` if it
/// still answered 200 after `bound`.
async fn refused_within(node: &Server, access: &str, bound: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < bound {
        if node.get_as("/api/auth/me", access).await.status == StatusCode::UNAUTHORIZED {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

#[tokio::test]
async fn a_session_logged_out_on_one_node_is_refused_by_another_nodes_warm_cache_at_once() {
    if !on_postgres("cross-node invalidation") {
        return;
    }
    let (url, _db) = database_url_for(Backend::Postgres).await;
    let dir = TempDir::new().expect("a temporary directory");
    // The caches' default on PostgreSQL (60 s): only the invalidation can refuse in time.
    let nodes = three_nodes_on_postgres(&dir, &url, &[]).await;
    let email = unique_email();
    let body = json!({ "email": email, "password": PASSWORD, "name": "Node Nadia" });
    let registered = nodes[0].post("/api/auth/register", &body).await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.body
    );
    let access = registered.str("/accessToken").to_owned();
    for node in &nodes {
        for _ in 0..2 {
            assert_eq!(
                node.get_as("/api/auth/me", &access).await.status,
                StatusCode::OK
            );
        }
    }

    let out = nodes[0]
        .post_as("/api/auth/logout", &json!({}), &access)
        .await;
    assert!(out.status.is_success(), "{}", out.body);

    for (n, node) in nodes.iter().enumerate().skip(1) {
        // Under the caches' 1 s fallback TTL (feed cut), so only the invalidation refuses
        // in time; measured delays are a few milliseconds (bench/revocation-delay).
        let took = refused_within(node, &access, Duration::from_millis(500)).await;
        assert!(
            took.is_some(),
            "node {n} still accepted the session after 500 ms"
        );
    }
}

#[tokio::test]
async fn a_role_change_and_a_disable_on_one_node_reach_another_nodes_warm_cache_at_once() {
    if !on_postgres("cross-node invalidation of users") {
        return;
    }
    let (url, _db) = database_url_for(Backend::Postgres).await;
    let dir = TempDir::new().expect("a temporary directory");
    let args = [
        "user",
        "create",
        "--email",
        "root@example.com",
        "--name",
        "Root",
        "--role",
        "admin",
    ];
    let on_pg = [("AUTHGATE_DATABASE_URL", url.as_str())];
    let (status, _, stderr) = run(dir.path(), &args, &on_pg, &format!("{PASSWORD}\n")).await;
    assert!(status.success(), "{stderr}");
    let nodes = three_nodes_on_postgres(&dir, &url, &[]).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let admin = a
        .post(
            "/api/auth/login",
            &json!({ "email": "root@example.com", "password": PASSWORD }),
        )
        .await;
    let admin = admin.str("/accessToken").to_owned();
    let body = json!({ "email": unique_email(), "password": PASSWORD, "name": "Node Nadia" });
    let user = a.post("/api/auth/register", &body).await;
    let (id, access) = (
        user.str("/user/id").to_owned(),
        user.str("/accessToken").to_owned(),
    );
    for _ in 0..2 {
        assert_eq!(
            b.get_as("/api/auth/me", &access).await.body["user"]["role"],
            "user"
        );
    }

    let path = format!("/api/auth/admin/users/{id}");
    let patched = a
        .send_as(
            reqwest::Method::PATCH,
            &path,
            &json!({ "role": "admin" }),
            &admin,
        )
        .await;
    assert!(patched.status.is_success(), "{}", patched.body);
    let start = Instant::now();
    while b.get_as("/api/auth/me", &access).await.body["user"]["role"] != "admin" {
        assert!(
            start.elapsed() < Duration::from_millis(500),
            "node B still shows the old role"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let disabled = a
        .post_as(&format!("{path}/disable"), &json!({}), &admin)
        .await;
    assert!(disabled.status.is_success(), "{}", disabled.body);
    let took = refused_within(b, &access, Duration::from_millis(500)).await;
    assert!(
        took.is_some(),
        "node B still accepted a disabled user's session"
    );
}
