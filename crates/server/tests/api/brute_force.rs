//! Per-account brute-force protection, seen from outside.

use reqwest::StatusCode;
use serde_json::json;

use authgate_core::store::TokenPurpose;

use crate::helpers::{Answer, TestApp, PASSWORD};

async fn login_from(app: &TestApp, email: &str, password: &str, forwarded_for: &str) -> Answer {
    let body = json!({ "email": email, "password": password });
    let res = app
        .api
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&body)
        .send()
        .await
        .unwrap();
    Answer::of(res).await
}

#[tokio::test]
async fn a_429_with_retry_after_comes_long_before_100_failures_even_when_x_forwarded_for_changes() {
    let app = TestApp::spawn_with(&[("AUTHGATE_RATE_LIMIT_LOGIN", "1000/min")]).await;
    let user = app.register_user().await;
    let mut first_429 = None;
    for i in 0..100 {
        let res = login_from(
            &app,
            &user.email,
            "Wrong7Password",
            &format!("10.0.{}.{}", i / 250, i % 250),
        )
        .await;
        if res.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(
                res.header("retry-after")
                    .is_some_and(|s| s.parse::<u64>().unwrap() >= 1),
                "{:?}",
                res.header("retry-after")
            );
            assert!(res.header("ratelimit-limit").is_some());
            assert_eq!(res.body["code"], "rate_limited");
            first_429 = Some(i);
            break;
        }
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.body);
    }
    let first = first_429.expect("no 429 within 100 failed logins");
    assert!(first < 100, "blocked after {first} failures");
}

#[tokio::test]
async fn a_blocked_account_answers_the_same_whether_it_exists_or_not() {
    let app = TestApp::spawn_with(&[
        ("AUTHGATE_RATE_LIMIT_LOGIN", "1000/min"),
        ("AUTHGATE_LOGIN_FREE_ATTEMPTS", "3"),
    ])
    .await;
    let user = app.register_user().await;
    let mut last = Vec::new();
    for email in [user.email.as_str(), "nobody@example.com"] {
        let mut res = login_from(&app, email, "Wrong7Password", "1.1.1.1").await;
        while res.status == StatusCode::UNAUTHORIZED {
            res = login_from(&app, email, "Wrong7Password", "1.1.1.1").await;
        }
        last.push((res.status, res.body.clone()));
    }
    assert_eq!(last[0], last[1]);
    assert_eq!(last[0].0, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_right_password_is_refused_during_a_block_and_works_after_a_password_reset() {
    let app = TestApp::spawn_with(&[
        ("AUTHGATE_RATE_LIMIT_LOGIN", "1000/min"),
        ("AUTHGATE_LOGIN_FREE_ATTEMPTS", "3"),
    ])
    .await;
    let user = app.register_user().await;
    for _ in 0..3 {
        assert_eq!(
            login_from(&app, &user.email, "Wrong7Password", "1.1.1.1")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    let blocked = login_from(&app, &user.email, PASSWORD, "1.1.1.1").await;
    assert_eq!(
        blocked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        blocked.body
    );

    // A reset (its token made through the service, as the mail would carry it) lifts the block.
    let token = app
        .issue_token(&user.email, TokenPurpose::ResetPassword)
        .await;
    let res = Answer::of(app.reset_password(&token, "Difference9Engine").await).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let after = login_from(&app, &user.email, "Difference9Engine", "1.1.1.1").await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_wrong_logins_count_exactly_fifty() {
    let app = TestApp::spawn_with(&[
        ("AUTHGATE_RATE_LIMIT_LOGIN", "1000/min"),
        ("AUTHGATE_LOGIN_FREE_ATTEMPTS", "100"),
        ("AUTHGATE_LOGIN_MAX_FAILURES", "52"),
    ])
    .await;
    let user = app.register_user().await;
    let body = json!({ "email": user.email, "password": "Wrong7Password" });
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let req = app.api.post(app.url("/api/auth/login")).json(&body);
            tokio::spawn(async move { req.send().await.unwrap().status() })
        })
        .collect();
    for t in tasks {
        assert_eq!(
            t.await.unwrap(),
            StatusCode::UNAUTHORIZED,
            "every parallel attempt is a plain failure"
        );
    }
    // Exactly 50 were counted: failures 51 and 52 are still answered (the 52nd reaches the
    // limit of 52), and only the next attempt is blocked.
    for ip in ["2.2.2.2", "3.3.3.3"] {
        assert_eq!(
            login_from(&app, &user.email, "Wrong7Password", ip)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login_from(&app, &user.email, "Wrong7Password", "4.4.4.4")
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
}
