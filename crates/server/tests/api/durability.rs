//! Refresh-token rotations survive a crash (issue 15): with SQLite's default
//! `synchronous=normal` in WAL mode, every rotation the server acknowledged is on disk when
//! the process is killed with SIGKILL in the middle of a stream of refreshes.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::json;
use tempfile::TempDir;

use crate::helpers::PASSWORD;
use crate::process::Server;

/// Refreshes in a loop, one at a time, recording each acknowledged refresh token in `last`.
async fn refresh_forever(base: String, first: String, last: Arc<Mutex<(u32, String)>>) {
    let client = reqwest::Client::new();
    let mut token = first;
    loop {
        let sent = client
            .post(format!("{base}/api/auth/refresh"))
            .json(&json!({ "refreshToken": token }))
            .send()
            .await;
        let Ok(res) = sent else { return };
        if res.status() != StatusCode::OK {
            return;
        }
        let Ok(body) = res.json::<serde_json::Value>().await else {
            return;
        };
        token = body["refreshToken"]
            .as_str()
            .expect("a refresh token")
            .to_owned();
        let mut last = last.lock().expect("the record");
        *last = (last.0 + 1, token.clone());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_rotation_survives_kill_9_in_the_middle_of_a_stream_of_refreshes() {
    let dir = TempDir::new().expect("a temporary directory");
    let mut server =
        Server::start(dir.path(), &[("AUTHGATE_RATE_LIMIT_REFRESH", "100000/min")]).await;
    let registration = json!({ "email": "rita@example.com", "password": PASSWORD, "name": "Rita" });
    let created = server.post("/api/auth/register", &registration).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let first = created.str("/refreshToken").to_owned();
    let last = Arc::new(Mutex::new((0u32, first.clone())));
    let stream = tokio::spawn(refresh_forever(server.base.clone(), first, last.clone()));
    while last.lock().expect("the record").0 < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    server.kill_9();
    stream.await.expect("the stream ends with the server");
    let (acknowledged, token) = last.lock().expect("the record").clone();
    let restarted = Server::start(dir.path(), &[]).await;

    // The last acknowledged token is live, or (if a rotation was in flight at the kill and
    // committed unacknowledged) within the grace window, which answers its successor.
    let res = restarted
        .post("/api/auth/refresh", &json!({ "refreshToken": token }))
        .await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "after {acknowledged} rotations: {}",
        res.body
    );
    let next = res.str("/refreshToken").to_owned();
    let again = restarted
        .post("/api/auth/refresh", &json!({ "refreshToken": next }))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let me = restarted
        .get_as("/api/auth/me", again.str("/accessToken"))
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
}
