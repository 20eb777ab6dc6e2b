//! Account administration: an administrator disables and enables accounts, and a disabled
//! account's tokens stop working at once.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{unique_email, Answer, TestApp, TestUser, PASSWORD};

/// An app where `admin` may be self-assigned, with an administrator and an ordinary user.
async fn app_with_admin() -> (TestApp, TestUser, TestUser) {
    let app = TestApp::spawn_with(&[("AUTHGATE_SELF_ASSIGNABLE_ROLES", "admin")]).await;
    let admin = app
        .register_with(
            json!({ "email": unique_email(), "password": PASSWORD, "name": "Root", "role": "admin" }),
        )
        .await;
    let user = app.register_user().await;
    (app, admin, user)
}

async fn admin_post(app: &TestApp, access: &str, path: &str) -> Answer {
    let res = app
        .api
        .post(app.url(path))
        .bearer_auth(access)
        .send()
        .await
        .expect("POST sent");
    Answer::of(res).await
}

fn disable_path(user: &TestUser) -> String {
    format!("/api/auth/admin/users/{}/disable", user.id)
}

fn enable_path(user: &TestUser) -> String {
    format!("/api/auth/admin/users/{}/enable", user.id)
}

#[tokio::test]
async fn disabling_a_user_kills_their_tokens_at_once_and_refuses_their_login_with_403() {
    let (app, admin, user) = app_with_admin().await;
    let second_device = app.login_as(&user).await;
    assert_eq!(app.me(&user.access).await.status(), StatusCode::OK);

    let res = admin_post(&app, &admin.access, &disable_path(&user)).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.str("/user/id"), user.id);
    for access in [&user.access, &second_device.access] {
        Answer::of(app.me(access).await)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    Answer::of(app.refresh_body(&second_device.refresh).await)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    let login = json!({ "email": user.email, "password": user.password });
    Answer::of(app.login(&login).await)
        .await
        .assert_error(StatusCode::FORBIDDEN, "account_disabled");
}

#[tokio::test]
async fn an_enabled_user_can_log_in_again() {
    let (app, admin, user) = app_with_admin().await;
    admin_post(&app, &admin.access, &disable_path(&user)).await;

    let res = admin_post(&app, &admin.access, &enable_path(&user)).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let login = json!({ "email": user.email, "password": user.password });
    let again = Answer::of(app.login(&login).await).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
}

#[tokio::test]
async fn a_user_who_is_not_an_administrator_gets_403_and_disables_nobody() {
    let (app, _admin, user) = app_with_admin().await;
    let other = app.register_user().await;

    let res = admin_post(&app, &user.access, &disable_path(&other)).await;

    res.assert_error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(app.me(&other.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn disabling_an_unknown_user_returns_404_and_disabling_oneself_returns_400() {
    let (app, admin, _user) = app_with_admin().await;

    let unknown = admin_post(
        &app,
        &admin.access,
        "/api/auth/admin/users/01900000-0000-7000-8000-000000000000/disable",
    )
    .await;
    unknown.assert_error(StatusCode::NOT_FOUND, "not_found");

    let own = admin_post(&app, &admin.access, &disable_path(&admin)).await;
    own.assert_error(StatusCode::BAD_REQUEST, "validation_error");
    assert_eq!(app.me(&admin.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn admin_routes_without_a_token_return_401() {
    let (app, _admin, user) = app_with_admin().await;

    let res = Answer::of(
        app.api
            .post(app.url(&disable_path(&user)))
            .send()
            .await
            .unwrap(),
    )
    .await;

    res.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}
