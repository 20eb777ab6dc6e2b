//! A rolling restart behind a real nginx: the README's load-balancer configuration, as
//! written except for the addresses, in front of three nodes; each node in turn gets SIGTERM
//! and is started again on its port while clients send a mixed load through nginx, and not
//! one request fails.

use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::load::{lost_writes, Load, OnNoAnswer, LOAD_SETTINGS};
use super::{metric_sum, on_postgres};
use crate::helpers::nginx::{nginx_or_skip, Nginx};
use crate::helpers::{database_url_for, Backend};
use crate::process::{free_port, Server};

const README: &str = include_str!("../../../../../README.md");
/// The heading above the README's load-balancer configuration.
const HEADING: &str = "### A load balancer in front of the nodes";
/// The node addresses the README's configuration names.
const README_NODES: [&str; 3] = ["10.0.0.11:8080", "10.0.0.12:8080", "10.0.0.13:8080"];
const README_LISTEN: &str = "listen 80;";

/// The `nginx` block under [`HEADING`], with the nodes and the listening port replaced.
fn readme_load_balancer(nodes: &[u16; 3], listen: u16) -> String {
    let block = README
        .split(HEADING)
        .nth(1)
        .and_then(|section| section.split("```nginx\n").nth(1))
        .and_then(|rest| rest.split("\n```").next())
        .expect("the README has an nginx block under its load-balancer heading");
    let mut config = block.replace(README_LISTEN, &format!("listen 127.0.0.1:{listen};"));
    assert_ne!(
        config, block,
        "the README's block no longer has {README_LISTEN}"
    );
    for (placeholder, port) in README_NODES.iter().zip(nodes) {
        assert!(
            config.contains(placeholder),
            "no {placeholder} in the README's block"
        );
        config = config.replace(placeholder, &format!("127.0.0.1:{port}"));
    }
    config
}

/// Waits (at most 30 s) until the restarted `node` has answered 30 API requests.
async fn serves_again(node: &Server) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while metric_sum(node, "authgate_http_requests_total", "route=\"/api/auth/").await < 30.0 {
        assert!(
            Instant::now() < deadline,
            "nginx sends the restarted node nothing"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_rolling_restart_of_three_nodes_behind_nginx_fails_no_request() {
    let Some(bin) = nginx_or_skip() else {
        return;
    };
    if !on_postgres("the rolling restart") {
        return;
    }
    let (url, _db) = database_url_for(Backend::Postgres).await;
    let dir = TempDir::new().expect("a temporary directory");
    let mut settings = vec![
        ("AUTHGATE_DATABASE_URL", url.as_str()),
        ("AUTHGATE_PUBLIC_URL", "http://auth.example.test"),
        ("AUTHGATE_TRUSTED_PROXIES", "127.0.0.1"),
    ];
    settings.extend_from_slice(&LOAD_SETTINGS);
    let ports = [free_port(), free_port(), free_port()];
    let (a, b, c) = tokio::join!(
        Server::start_on(dir.path(), ports[0], &settings),
        Server::start_on(dir.path(), ports[1], &settings),
        Server::start_on(dir.path(), ports[2], &settings),
    );
    let mut nodes = [a, b, c];
    let listen = free_port();
    let nginx = Nginx::start(&bin, listen, &readme_load_balancer(&ports, listen));
    let balancer = format!("http://127.0.0.1:{listen}");
    let load = Load::start(std::slice::from_ref(&balancer), 6, OnNoAnswer::Fail);
    load.run_for_requests(100).await;

    for (i, port) in ports.iter().enumerate() {
        nodes[i].terminate().await;
        nodes[i] = Server::start_on(dir.path(), *port, &settings).await;
        // nginx leaves a node out for `fail_timeout` after it refused a connection: restart
        // the next one only once this one serves the load again.
        serves_again(&nodes[i]).await;
    }
    let ledger = load.stop().await;

    assert!(
        ledger.failures.is_empty(),
        "{} of {} requests failed, e.g. {:?}\nnginx:\n{}",
        ledger.failures.len(),
        ledger.answered,
        &ledger.failures[..ledger.failures.len().min(5)],
        nginx.error_log()
    );
    let lost = lost_writes(&balancer, &ledger).await;
    assert!(lost.is_empty(), "lost: {:?}", &lost[..lost.len().min(5)]);
}
