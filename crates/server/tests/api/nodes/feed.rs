//! The invalidation feed after its `LISTEN` connections are cut (as a database failover or
//! a proxy's idle timeout would): every node reconnects, counts it in `/metrics`, and a
//! logout on one node again reaches another's warm cache at once.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;
use tempfile::TempDir;

use super::{metric_sum, on_postgres, refused_within, three_nodes_on_postgres};
use crate::helpers::{database_url_for, unique_email, Backend, PASSWORD};
use crate::process::Server;

const RECONNECTS: &str = "authgate_invalidation_listener_reconnects_total";
/// What a node logs each time it listens (again).
const FOLLOWING: &str = "following the cache invalidation feed";

/// The node's reconnect counter in `GET /metrics` (0 before the first).
async fn reconnects(node: &Server) -> f64 {
    metric_sum(node, RECONNECTS, "").await
}

/// Waits (at most 20 s) until `node` has logged [`FOLLOWING`] `times` times.
async fn followed(node: &Server, times: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while node.stderr().matches(FOLLOWING).count() < times {
        assert!(
            Instant::now() < deadline,
            "the node did not follow the feed {times} times: {}",
            node.stderr()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn after_the_listen_connections_are_cut_nodes_reconnect_count_it_and_invalidate_again() {
    if !on_postgres("the invalidation feed's reconnect") {
        return;
    }
    let (url, _db) = database_url_for(Backend::Postgres).await;
    let dir = TempDir::new().expect("a temporary directory");
    let nodes = three_nodes_on_postgres(&dir, &url, &[]).await;
    for node in &nodes {
        followed(node, 1).await;
    }
    let before = reconnects(&nodes[1]).await;

    let mut db = sqlx::PgConnection::connect(&url)
        .await
        .expect("a connection");
    let cut: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_all(&mut db)
    .await
    .expect("the LISTEN connections are terminated");
    assert_eq!(cut.len(), 3, "one LISTEN connection per node: {cut:?}");

    for node in &nodes {
        followed(node, 2).await;
    }
    let after = reconnects(&nodes[1]).await;
    assert!(after >= before + 1.0, "{RECONNECTS}: {before} then {after}");

    let body = json!({ "email": unique_email(), "password": PASSWORD, "name": "Feed Fay" });
    let registered = nodes[0].post("/api/auth/register", &body).await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.body
    );
    let access = registered.str("/accessToken").to_owned();
    for _ in 0..2 {
        let me = nodes[1].get_as("/api/auth/me", &access).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    }
    let out = nodes[0]
        .post_as("/api/auth/logout", &json!({}), &access)
        .await;
    assert!(out.status.is_success(), "{}", out.body);
    // Under the 1 s an entry is trusted while the feed is cut: only the feed refuses in time.
    let took = refused_within(&nodes[1], &access, Duration::from_millis(500)).await;
    assert!(
        took.is_some(),
        "node 1 still accepted the session after 500 ms"
    );
}
