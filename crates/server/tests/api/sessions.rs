//! GET /api/auth/sessions and DELETE /api/auth/sessions/:id: one session per device.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{jwt_part, Answer, TestApp, USER_AGENT};
use crate::register::{assert_rfc3339_utc, keys};

fn sid(access: &str) -> String {
    jwt_part(access, 1)["sid"]
        .as_str()
        .expect("a sid claim")
        .to_owned()
}

async fn list(app: &TestApp, access: &str) -> Vec<Value> {
    let res = Answer::of(app.sessions(access).await).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(keys(&res.body), ["sessions"]);
    res.body["sessions"]
        .as_array()
        .expect("sessions is an array")
        .clone()
}

#[tokio::test]
async fn sessions_lists_every_device_and_marks_the_callers_session_current() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let second = app.login_as(&user).await;

    let sessions = list(&app, &user.access).await;

    assert_eq!(sessions.len(), 2, "{sessions:?}");
    for s in &sessions {
        assert_eq!(
            keys(s),
            [
                "createdAt",
                "current",
                "expiresAt",
                "id",
                "ip",
                "lastUsedAt",
                "userAgent"
            ]
        );
        for time in ["createdAt", "lastUsedAt", "expiresAt"] {
            assert_rfc3339_utc(&s[time]);
        }
        let time = |key: &str| {
            chrono::DateTime::parse_from_rfc3339(s[key].as_str().unwrap_or("")).expect("a time")
        };
        assert!(time("expiresAt") > time("createdAt"), "{s}");
        assert!(time("lastUsedAt") >= time("createdAt"), "{s}");
        assert_eq!(s["userAgent"], USER_AGENT);
        assert_eq!(s["ip"], "127.0.0.1");
    }
    let ids: Vec<&str> = sessions.iter().filter_map(|s| s["id"].as_str()).collect();
    assert!(ids.contains(&sid(&user.access).as_str()), "{ids:?}");
    assert!(ids.contains(&sid(&second.access).as_str()), "{ids:?}");
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1, "{sessions:?}");
    assert_eq!(current[0]["id"], sid(&user.access).as_str());

    let from_second = list(&app, &second.access).await;
    let current: Vec<&Value> = from_second
        .iter()
        .filter(|s| s["current"] == true)
        .collect();
    assert_eq!(current.len(), 1, "{from_second:?}");
    assert_eq!(current[0]["id"], sid(&second.access).as_str());
}

#[tokio::test]
async fn sessions_does_not_list_sessions_of_other_users_or_ended_sessions() {
    let app = TestApp::spawn().await;
    let ada = app.register_user().await;
    let ended = app.login_as(&ada).await;
    app.register_user().await;
    assert_eq!(
        app.logout(&ended.access, None).await.status(),
        StatusCode::OK
    );

    let sessions = list(&app, &ada.access).await;

    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0]["id"], sid(&ada.access).as_str());
}

#[tokio::test]
async fn deleting_the_session_of_another_device_logs_that_device_out_at_once() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let second = app.login_as(&user).await;

    let res = Answer::of(app.delete_session(&user.access, &sid(&second.access)).await).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(keys(&res.body), ["message"]);
    assert!(res.str("/message").len() > 3, "{}", res.body);
    assert_eq!(
        app.me(&second.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.refresh_body(&second.refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.me(&user.access).await.status(), StatusCode::OK);
    assert_eq!(list(&app, &user.access).await.len(), 1);
}

#[tokio::test]
async fn deleting_your_own_current_session_logs_you_out() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let res = app.delete_session(&user.access, &sid(&user.access)).await;

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.me(&user.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn deleting_a_session_of_another_user_returns_404_and_leaves_it_alive() {
    let app = TestApp::spawn().await;
    let ada = app.register_user().await;
    let bob = app.register_user().await;

    let res = Answer::of(app.delete_session(&ada.access, &sid(&bob.access)).await).await;

    res.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.me(&bob.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn deleting_an_unknown_session_returns_404() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    for id in [
        "0190f0f0-0000-7000-8000-000000000000",
        "not-a-session",
        "%20",
        &"z".repeat(300),
    ] {
        let res = Answer::of(app.delete_session(&user.access, id).await).await;
        res.assert_error(StatusCode::NOT_FOUND, "not_found");
    }
}

#[tokio::test]
async fn sessions_and_delete_without_a_token_return_401() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let listing = Answer::of(app.get("/api/auth/sessions").await).await;
    let path = format!("/api/auth/sessions/{}", sid(&user.access));
    let deletion = app.api.delete(app.url(&path)).send().await.expect("sent");
    let deletion = Answer::of(deletion).await;

    listing.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    deletion.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(app.me(&user.access).await.status(), StatusCode::OK);
}
