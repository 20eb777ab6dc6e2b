//! GET /api/auth/audit: the caller's own security events, stored and paginated.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{Answer, TestApp};

/// Audit events are written off the request path: poll until `n` are listed.
pub(crate) async fn events(app: &TestApp, access: &str, query: &str, n: usize) -> Value {
    for _ in 0..50 {
        let res = app
            .api
            .get(app.url(&format!("/api/auth/audit{query}")))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        let res = Answer::of(res).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        if res.body["events"].as_array().unwrap().len() >= n {
            return res.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} audit events appeared");
}

#[tokio::test]
async fn each_flow_leaves_an_audit_event_with_its_fields_and_no_secret() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let wrong = json!({ "email": user.email, "password": "Wrong7Password" });
    assert_eq!(app.login(&wrong).await.status(), StatusCode::UNAUTHORIZED);
    let tokens = app.login_as(&user).await;
    let refreshed = Answer::of(app.refresh_body(&tokens.refresh).await).await;
    assert_eq!(refreshed.status, StatusCode::OK);
    assert_eq!(
        app.logout(&user.access, None).await.status(),
        StatusCode::OK
    );

    let body = events(&app, refreshed.str("/accessToken"), "", 5).await;
    let kinds: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "logout",
            "refresh",
            "login_succeeded",
            "login_failed",
            "register"
        ],
        "newest first"
    );
    let failed = &body["events"][3];
    assert_eq!(failed["outcome"], "failure");
    assert_eq!(body["events"][0]["outcome"], "success");
    for e in body["events"].as_array().unwrap() {
        assert_eq!(e["ip"], "127.0.0.1", "{e}");
        assert!(
            e["userAgent"].is_string() && e["requestId"].is_string() && e["at"].is_string(),
            "{e}"
        );
    }
    let text = body.to_string();
    for secret in [
        user.password.as_str(),
        user.refresh.as_str(),
        tokens.refresh.as_str(),
        user.access.as_str(),
    ] {
        assert!(!text.contains(secret), "an audit event holds a secret");
    }
}

/// The `type`s of the listed events, newest first.
fn kinds(body: &Value) -> Vec<&str> {
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn reuse_detection_and_revoking_a_session_leave_failure_and_success_events() {
    let app = TestApp::spawn_with(&[("AUTHGATE_REFRESH_GRACE", "0s")]).await;
    let user = app.register_user().await;
    let laptop = app.login_as(&user).await;
    let _phone = app.login_as(&user).await;
    let rotated = Answer::of(app.refresh_body(&laptop.refresh).await).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let reuse = Answer::of(app.refresh_body(&laptop.refresh).await).await;
    reuse.assert_error(StatusCode::UNAUTHORIZED, "refresh_token_reused");
    let sessions = Answer::of(app.sessions(&user.access).await).await;
    let phone_session = sessions.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false && s["id"].is_string())
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .expect("another live session");
    let revoked = app.delete_session(&user.access, &phone_session).await;
    assert_eq!(revoked.status(), StatusCode::OK);

    let body = events(&app, &user.access, "", 6).await;

    let kinds = kinds(&body);
    assert_eq!(kinds[0], "session_revoked", "{kinds:?}");
    assert_eq!(kinds[1], "refresh_reuse_detected", "{kinds:?}");
    assert_eq!(body["events"][0]["outcome"], "success");
    assert_eq!(body["events"][1]["outcome"], "failure");
}

#[tokio::test]
async fn the_audit_trail_pages_backwards_without_gaps_and_shows_only_the_callers_events() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let other = app.register_user().await;
    for _ in 0..3 {
        app.login_as(&user).await;
    }
    let access = app.login_as(&user).await.access;

    let all = events(&app, &access, "?limit=100", 5).await;
    let first = events(&app, &access, "?limit=2", 2).await;
    assert_eq!(
        all["events"].as_array().unwrap().len(),
        5,
        "register + 4 logins, none of the other user's"
    );
    assert!(all["nextBefore"].is_null());
    assert!(!all.to_string().contains(&other.id));

    let cursor = first["nextBefore"]
        .as_str()
        .expect("a full page has a cursor");
    let second = events(&app, &access, &format!("?limit=2&before={cursor}"), 2).await;
    let ids = |v: &Value| {
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let paged: Vec<String> = [ids(&first), ids(&second)].concat();
    assert_eq!(paged, ids(&all)[..4].to_vec());
}

#[tokio::test]
async fn the_audit_trail_needs_a_bearer_token() {
    let app = TestApp::spawn().await;
    let res = app
        .api
        .get(app.url("/api/auth/audit"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
