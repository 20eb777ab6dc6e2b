//! What three nodes on one PostgreSQL share besides users and sessions: the mail queue (each
//! mail sent once), the hourly pruning (one node per hour) and the signing keys (a rotation
//! reaches every node).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use authgate_mail::testing::SmtpTestServer;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use super::load::LOAD_SETTINGS;
use super::{on_postgres, three_nodes_on_postgres};
use crate::helpers::{database_url_for, jwt_part, unique_email, Backend, PASSWORD};
use crate::mail_flows::{RESET_SUBJECT, VERIFY_SUBJECT};
use crate::process::{run, Server};

/// Waits until `smtp` has received at least `count` mails (at most 60 s); how many it has.
async fn received_at_least(smtp: &SmtpTestServer, count: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = smtp.received().len();
        if got >= count || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn thirty_forgot_passwords_spread_over_three_nodes_send_exactly_thirty_reset_mails() {
    if !on_postgres("mail sent once by three nodes") {
        return;
    }
    let Some(smtp) = SmtpTestServer::launch().await else {
        return;
    };
    let (url, _db) = database_url_for(Backend::Postgres).await;
    let dir = TempDir::new().expect("a temporary directory");
    let smtp_url = smtp.url();
    let mut settings = vec![("AUTHGATE_SMTP_URL", smtp_url.as_str())];
    settings.extend_from_slice(&LOAD_SETTINGS);
    let nodes = three_nodes_on_postgres(&dir, &url, &settings).await;
    let mut emails = Vec::new();
    for i in 0..30 {
        let email = unique_email();
        let body = json!({ "email": email, "password": PASSWORD, "name": "Mail Mary" });
        let res = nodes[i % 3].post("/api/auth/register", &body).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        emails.push(email);
    }

    for (i, email) in emails.iter().enumerate() {
        let res = nodes[(i + 1) % 3]
            .post("/api/auth/forgot-password", &json!({ "email": email }))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    }

    // 30 verification mails (one per registration) and 30 reset mails.
    assert_eq!(received_at_least(&smtp, 60).await, 60, "mail is missing");
    // Longer than a worker's poll (2 s): a mail claimed twice would arrive meanwhile.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mails = smtp.received();
    let mut per_recipient: HashMap<(String, String), usize> = HashMap::new();
    for mail in &mails {
        let to = mail.header("X-RcptTo").unwrap_or("").to_ascii_lowercase();
        *per_recipient.entry((to, mail.subject.clone())).or_default() += 1;
    }
    for email in &emails {
        for subject in [VERIFY_SUBJECT, RESET_SUBJECT] {
            let key = (email.to_ascii_lowercase(), subject.to_owned());
            let sent = per_recipient.get(&key).copied().unwrap_or(0);
            assert_eq!(sent, 1, "{subject:?} to {email} arrived {sent} times");
        }
    }
    assert_eq!(mails.len(), 60, "extra mail: {per_recipient:?}");
}

/// The log lines of a node's housekeeping: its turn, or another node's.
const PRUNES: &str = "pruning expired state: this instance's turn this hour";
const SKIPS: &str = "another instance prunes expired state this hour";

#[tokio::test]
async fn of_three_nodes_started_at_once_exactly_one_prunes_in_the_first_hour() {
    if !on_postgres("one node prunes at a time") {
        return;
    }
    let (url, _db) = database_url_for(Backend::Postgres).await;
    let dir = TempDir::new().expect("a temporary directory");
    let nodes = three_nodes_on_postgres(&dir, &url, &[]).await;

    // Each node decides once at start, then every hour.
    let deadline = Instant::now() + Duration::from_secs(20);
    let logs = loop {
        let logs: Vec<String> = nodes.iter().map(Server::stderr).collect();
        let decided = logs
            .iter()
            .all(|log| log.contains(PRUNES) || log.contains(SKIPS));
        if decided {
            break logs;
        }
        assert!(
            Instant::now() < deadline,
            "a node never pruned nor skipped: {logs:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    let pruning = logs.iter().filter(|log| log.contains(PRUNES)).count();
    assert_eq!(pruning, 1, "{pruning} nodes pruned at once: {logs:?}");
    let skipping = logs.iter().filter(|log| log.contains(SKIPS)).count();
    assert_eq!(skipping, 2, "{logs:?}");
}

/// Registers on `node` and returns the access token.
async fn access_token_from(node: &Server) -> String {
    let body = json!({ "email": unique_email(), "password": PASSWORD, "name": "Key Kim" });
    let res = node.post("/api/auth/register", &body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.str("/accessToken").to_owned()
}

fn kid(token: &str) -> String {
    jwt_part(token, 0)["kid"]
        .as_str()
        .expect("a kid")
        .to_owned()
}

/// Asserts every node accepts `token` on `GET /me`.
async fn accepted_everywhere(nodes: &[Server], token: &str, what: &str) {
    for (n, node) in nodes.iter().enumerate() {
        let me = node.get_as("/api/auth/me", token).await;
        assert_eq!(me.status, StatusCode::OK, "{what} on node {n}: {}", me.body);
    }
}

#[tokio::test]
async fn a_key_rotated_while_three_nodes_run_signs_on_every_node_and_old_tokens_still_pass() {
    if !on_postgres("key rotation seen by every node") {
        return;
    }
    let (url, _db) = database_url_for(Backend::Postgres).await;
    let dir = TempDir::new().expect("a temporary directory");
    let nodes = three_nodes_on_postgres(&dir, &url, &LOAD_SETTINGS).await;
    let old = access_token_from(&nodes[0]).await;

    let on_pg = [("AUTHGATE_DATABASE_URL", url.as_str())];
    let (status, stdout, stderr) = run(dir.path(), &["keys", "rotate"], &on_pg, "").await;
    assert!(status.success(), "{stderr}");
    let rotated: Value = serde_json::from_str(&stdout).expect("the new key as JSON");
    let new_kid = rotated["kid"].as_str().expect("a kid").to_owned();
    assert_ne!(kid(&old), new_kid);

    // Told by NOTIFY, every node signs with the new key well before its minute's reload.
    for (n, node) in nodes.iter().enumerate() {
        let deadline = Instant::now() + Duration::from_secs(10);
        let token = loop {
            let token = access_token_from(node).await;
            if kid(&token) == new_kid {
                break token;
            }
            assert!(
                Instant::now() < deadline,
                "node {n} still signs with the old key"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        accepted_everywhere(&nodes, &token, &format!("a new-key token from node {n}")).await;
    }
    accepted_everywhere(&nodes, &old, "a token signed before the rotation").await;
}
