//! Several nodes on one database, each the real `authgate` binary, on the store
//! `AUTHGATE_TEST_BACKEND` names: what must hold when a team runs more than one.

use reqwest::StatusCode;
use serde_json::json;
use tempfile::TempDir;

use crate::helpers::{database_url_for, unique_email, Backend, PASSWORD};
use crate::process::Server;

#[tokio::test]
async fn three_nodes_started_at_once_on_a_fresh_database_accept_each_others_tokens() {
    // The race is in the first seconds of a fresh database: try it a few times.
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
