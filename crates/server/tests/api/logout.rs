//! POST /api/auth/logout: takes effect at once, one device or all.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{cookie_attributes, cookie_value, Answer, TestApp};

#[tokio::test]
async fn logout_returns_200_with_the_message_and_clears_the_cookie() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let res = Answer::of(app.logout(&user.access, None).await).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body, json!({ "message": "Logged out successfully" }));
    let cookie = res
        .refresh_set_cookie()
        .expect("a Set-Cookie for refreshToken");
    assert_eq!(cookie_value(&cookie), "");
    let attributes = cookie_attributes(&cookie);
    assert!(attributes.contains(&"max-age=0".to_owned()), "{cookie}");
    assert!(
        attributes.contains(&"path=/api/auth".to_owned()),
        "{cookie}"
    );
}

#[tokio::test]
async fn logout_takes_effect_at_once_for_the_access_token() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    assert_eq!(app.me(&user.access).await.status(), StatusCode::OK);

    let res = app.logout(&user.access, None).await;
    assert_eq!(res.status(), StatusCode::OK);

    let me = Answer::of(app.me(&user.access).await).await;
    me.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(
        me.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token""#)
    );
}

#[tokio::test]
async fn logout_makes_the_refresh_token_of_the_session_unusable() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    assert_eq!(
        app.logout(&user.access, None).await.status(),
        StatusCode::OK
    );

    let res = Answer::of(app.refresh_body(&user.refresh).await).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.body);
}

#[tokio::test]
async fn logout_with_the_refresh_token_in_the_body_returns_200() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let body = json!({ "refreshToken": user.refresh });
    let res = Answer::of(app.logout(&user.access, Some(&body)).await).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        app.refresh_body(&user.refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn logout_of_one_device_leaves_the_other_device_logged_in() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let second = app.login_as(&user).await;

    assert_eq!(
        app.logout(&user.access, None).await.status(),
        StatusCode::OK
    );

    assert_eq!(
        app.me(&user.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.me(&second.access).await.status(), StatusCode::OK);
    assert_eq!(
        app.refresh_body(&second.refresh).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_with_all_ends_every_session_of_the_user() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let second = app.login_as(&user).await;
    let third = app.login_as(&user).await;

    let res = Answer::of(
        app.logout(&user.access, Some(&json!({ "all": true })))
            .await,
    )
    .await;

    assert_eq!(res.body, json!({ "message": "Logged out successfully" }));
    for access in [&user.access, &second.access, &third.access] {
        assert_eq!(app.me(access).await.status(), StatusCode::UNAUTHORIZED);
    }
    for refresh in [&user.refresh, &second.refresh, &third.refresh] {
        assert_eq!(
            app.refresh_body(refresh).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn logout_with_all_leaves_other_users_logged_in() {
    let app = TestApp::spawn().await;
    let ada = app.register_user().await;
    let bob = app.register_user().await;

    let all = json!({ "all": true });
    assert_eq!(
        app.logout(&ada.access, Some(&all)).await.status(),
        StatusCode::OK
    );

    assert_eq!(app.me(&bob.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn logout_without_a_token_returns_401() {
    let app = TestApp::spawn().await;

    let res = app.post_raw("/api/auth/logout", None, Vec::new()).await;

    let res = Answer::of(res).await;
    res.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(res.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn a_second_logout_with_the_same_token_returns_401() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    assert_eq!(
        app.logout(&user.access, None).await.status(),
        StatusCode::OK
    );
    let again = Answer::of(app.logout(&user.access, None).await).await;

    again.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}
