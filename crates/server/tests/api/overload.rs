//! A login flood beyond what the hashing threads and their queue hold: the excess is
//! refused at once with 503 `overloaded`, never queued without bound, and the server
//! serves normally once the flood is over.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Answer, TestApp};

#[tokio::test]
async fn logins_beyond_the_hash_queue_get_503_overloaded_and_the_rest_succeed() {
    let app = Arc::new(
        TestApp::spawn_with(&[
            ("AUTHGATE_HASH_MAX_QUEUE", "1"),
            // Slow hashes keep the threads busy while the flood arrives.
            ("AUTHGATE_HASH_ITERATIONS", "20"),
            ("AUTHGATE_RATE_LIMIT_ENABLED", "false"),
        ])
        .await,
    );
    let user = app.register_user().await;
    let login = json!({ "email": user.email, "password": user.password });

    // One hashing thread per core, one waiting place: the rest must be refused.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let logins = cores + 1 + 12;
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..logins {
        let (app, login) = (app.clone(), login.clone());
        flood.spawn(async move { Answer::of(app.login(&login).await).await });
    }
    let answers = flood.join_all().await;

    let mut overloaded = 0;
    for answer in answers {
        match answer.status {
            StatusCode::OK => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                answer.assert_error(StatusCode::SERVICE_UNAVAILABLE, "overloaded");
                overloaded += 1;
            }
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    assert!(
        overloaded > 0,
        "{logins} parallel slow logins never overflowed a queue of 1"
    );
    let after = Answer::of(app.login(&login).await).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
}
