//! Clients that hang up mid-request (a proxy timeout, a closed app, wrk ending a run) must
//! not leave anything half-done behind: the server finishes each request it started, and
//! the store keeps serving everyone else.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Answer, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundreds_of_requests_abandoned_mid_flight_leave_the_store_serving() {
    let app = TestApp::spawn_with(&[("AUTHGATE_RATE_LIMIT_ENABLED", "false")]).await;
    let user = app.register_user().await;
    let mut refresh_tokens = vec![user.refresh.clone()];
    for _ in 0..7 {
        refresh_tokens.push(app.login_as(&user).await.refresh);
    }
    // Each client gives up after 0 to 3 ms: many requests are dropped by the server while a
    // write transaction is being opened, used or committed.
    let abandoned: Vec<_> = (0..400)
        .map(|i| {
            let token = refresh_tokens[i % refresh_tokens.len()].clone();
            let req = app
                .api
                .post(app.url("/api/auth/refresh"))
                .timeout(Duration::from_micros((i as u64 * 7919) % 3000))
                .json(&json!({ "refreshToken": token }));
            tokio::spawn(async move { req.send().await.map(|r| r.status()) })
        })
        .collect();
    for task in abandoned {
        let _ = task.await.unwrap();
    }

    // Writes still go through at once (a wedged write lock would make them wait 5 s and fail).
    let fresh = app.login_as(&user).await;
    let refreshed = tokio::time::timeout(Duration::from_secs(3), app.refresh_body(&fresh.refresh))
        .await
        .expect("a refresh answers within 3 s");
    let refreshed = Answer::of(refreshed).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    let registered = tokio::time::timeout(
        Duration::from_secs(3),
        app.register(&json!({
            "name": "Grace Hopper",
            "email": crate::helpers::unique_email(),
            "password": "Compiler7Navy",
        })),
    )
    .await
    .expect("a registration answers within 3 s");
    assert_eq!(registered.status(), StatusCode::CREATED);
}
