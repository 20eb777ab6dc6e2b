//! Self-service: changing one's profile, erasing one's account (re-authenticated, in one
//! transaction, tokens dead at once, a confirmation mailed), downloading one's data.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{Answer, TestApp, TestUser, PASSWORD};

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    user: &TestUser,
    body: Option<Value>,
) -> Answer {
    let mut req = app
        .api
        .request(method, app.url(path))
        .bearer_auth(&user.access);
    if let Some(body) = body {
        req = req.json(&body);
    }
    Answer::of(req.send().await.expect("request sent")).await
}

#[tokio::test]
async fn patching_me_changes_the_names_and_username_and_login_works_with_the_new_username() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let body = json!({ "name": "Ada King", "firstName": "Ada", "lastName": "King", "username": "Countess_1815" });

    let res = call(&app, Method::PATCH, "/api/auth/me", &user, Some(body)).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.str("/user/name"), "Ada King");
    assert_eq!(res.str("/user/lastName"), "King");
    assert_eq!(res.str("/user/username"), "Countess_1815");
    let me = Answer::of(app.me(&user.access).await).await;
    assert_eq!(me.str("/user/username"), "Countess_1815");
    let login = json!({ "username": "countess_1815", "password": PASSWORD });
    assert_eq!(app.login(&login).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_taken_username_is_409_and_a_bad_one_is_400() {
    let app = TestApp::spawn().await;
    let taken = app
        .register_with(json!({ "email": crate::helpers::unique_email(), "username": "Babbage", "password": PASSWORD, "name": "C" }))
        .await;
    let user = app.register_user().await;

    let res = call(
        &app,
        Method::PATCH,
        "/api/auth/me",
        &user,
        Some(json!({ "username": "BABBAGE" })),
    )
    .await;
    res.assert_error(StatusCode::CONFLICT, "username_taken");
    let bad = call(
        &app,
        Method::PATCH,
        "/api/auth/me",
        &user,
        Some(json!({ "username": "a b" })),
    )
    .await;
    bad.assert_invalid_field("username");
    let unknown = call(
        &app,
        Method::PATCH,
        "/api/auth/me",
        &user,
        Some(json!({ "role": "admin" })),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.body);
    let me = Answer::of(app.me(&taken.access).await).await;
    assert_eq!(me.str("/user/username"), "Babbage");
}

#[tokio::test]
async fn deleting_my_account_needs_the_password_then_kills_every_token_and_mails_a_confirmation() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let other_device = app.login_as(&user).await;

    let missing = call(&app, Method::DELETE, "/api/auth/me", &user, Some(json!({}))).await;
    missing.assert_invalid_field("currentPassword");
    let wrong = call(
        &app,
        Method::DELETE,
        "/api/auth/me",
        &user,
        Some(json!({ "currentPassword": "Wrong1Password" })),
    )
    .await;
    wrong.assert_error(StatusCode::UNAUTHORIZED, "invalid_current_password");
    assert_eq!(app.me(&user.access).await.status(), StatusCode::OK);

    let res = call(
        &app,
        Method::DELETE,
        "/api/auth/me",
        &user,
        Some(json!({ "currentPassword": PASSWORD })),
    )
    .await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    for access in [&user.access, &other_device.access] {
        Answer::of(app.me(access).await)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    Answer::of(app.refresh_body(&other_device.refresh).await)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    let login = json!({ "email": user.email, "password": PASSWORD });
    Answer::of(app.login(&login).await)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    // The verification mail queued at registration may be gone with the account; the
    // confirmation is sent.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let texts = app.outbox_texts(1).await;
        if texts.iter().any(|t| t.contains("was deleted")) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no confirmation: {texts:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_last_administrator_cannot_delete_their_own_account() {
    let app = TestApp::spawn_with(&[("AUTHGATE_SELF_ASSIGNABLE_ROLES", "admin")]).await;
    let admin = app
        .register_with(json!({ "email": crate::helpers::unique_email(), "password": PASSWORD, "name": "R", "role": "admin" }))
        .await;

    let res = call(
        &app,
        Method::DELETE,
        "/api/auth/me",
        &admin,
        Some(json!({ "currentPassword": PASSWORD })),
    )
    .await;

    res.assert_error(StatusCode::CONFLICT, "last_admin");
    assert_eq!(app.me(&admin.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_export_is_a_json_file_of_my_profile_sessions_and_audit_events() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    app.login_as(&user).await;
    app.service.flush().await;

    let res = call(&app, Method::GET, "/api/auth/me/export", &user, None).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let disposition = res.header("content-disposition").unwrap_or_default();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert_eq!(res.str("/user/id"), user.id);
    assert_eq!(res.body["sessions"].as_array().unwrap().len(), 2);
    let kinds: Vec<&str> = res.body["auditEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["login_succeeded", "register"], "newest first");
    assert!(res.body["exportedAt"].is_string());
}

#[tokio::test]
async fn the_self_service_routes_are_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = Answer::of(app.get("/api/auth/openapi.json").await).await;
    let me = &doc.body["paths"]["/api/auth/me"];
    for method in ["get", "patch", "delete"] {
        assert!(me[method].is_object(), "{method} /me is missing");
    }
    assert!(doc.body["paths"]["/api/auth/me/export"]["get"].is_object());
}
