//! POST /api/auth/login: by email, username or identifier; one answer for every failure.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{jwt_part, Answer, TestApp, PASSWORD};
use crate::register::{assert_user_shape, keys};

async fn app_with_user() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let body = json!({ "email": "ada@example.com", "username": "ada_l", "password": PASSWORD, "name": "Ada" });
    let user = app.register_with(body).await;
    (app, user.id)
}

#[tokio::test]
async fn login_with_email_returns_200_with_tokens_and_the_user() {
    let (app, id) = app_with_user().await;

    let body = json!({ "email": "ada@example.com", "password": PASSWORD });
    let res = Answer::of(app.login(&body).await).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        keys(&res.body),
        [
            "accessToken",
            "expiresIn",
            "refreshToken",
            "tokenType",
            "user"
        ]
    );
    assert_eq!(res.body["tokenType"], "Bearer");
    assert_eq!(res.body["expiresIn"], 900);
    assert_user_shape(&res.body["user"]);
    assert_eq!(res.body["user"]["id"], id.as_str());
    assert!(res.body["user"]["lastLoginAt"].is_string(), "{}", res.body);
    assert_eq!(jwt_part(res.str("/accessToken"), 1)["sub"], id.as_str());
    assert_eq!(res.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn login_with_username_returns_200() {
    let (app, id) = app_with_user().await;

    let body = json!({ "username": "ADA_L", "password": PASSWORD });
    let res = Answer::of(app.login(&body).await).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["user"]["id"], id.as_str());
}

#[tokio::test]
async fn login_with_identifier_accepts_an_email_or_a_username() {
    let (app, id) = app_with_user().await;
    for identifier in ["ada@example.com", "ada_l"] {
        let body = json!({ "identifier": identifier, "password": PASSWORD });
        let res = Answer::of(app.login(&body).await).await;
        assert_eq!(res.status, StatusCode::OK, "{identifier}: {}", res.body);
        assert_eq!(res.body["user"]["id"], id.as_str());
    }
}

#[tokio::test]
async fn login_with_the_email_in_another_case_succeeds() {
    let (app, id) = app_with_user().await;

    let body = json!({ "email": "  ADA@Example.com ", "password": PASSWORD });
    let res = Answer::of(app.login(&body).await).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["user"]["id"], id.as_str());
}

#[tokio::test]
async fn login_with_wrong_password_returns_401_invalid_credentials() {
    let (app, _) = app_with_user().await;

    let body = json!({ "email": "ada@example.com", "password": "Wrong7Password" });
    let res = Answer::of(app.login(&body).await).await;

    res.assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(res.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn login_with_unknown_user_returns_the_same_401_as_a_wrong_password() {
    let (app, _) = app_with_user().await;
    let wrong_password = json!({ "email": "ada@example.com", "password": "Wrong7Password" });
    let unknown_email = json!({ "email": "nobody@example.com", "password": PASSWORD });
    let unknown_username = json!({ "username": "nobody", "password": PASSWORD });

    let reference = Answer::of(app.login(&wrong_password).await).await;
    reference.assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    for body in [unknown_email, unknown_username] {
        let res = Answer::of(app.login(&body).await).await;
        assert_eq!(res.status, reference.status);
        assert_eq!(res.body, reference.body, "the answer tells the cases apart");
        assert_eq!(
            res.header("www-authenticate"),
            reference.header("www-authenticate")
        );
    }
}

#[tokio::test]
async fn login_without_a_password_returns_400_naming_password() {
    let (app, _) = app_with_user().await;
    for body in [
        json!({ "email": "ada@example.com" }),
        json!({ "email": "ada@example.com", "password": "" }),
    ] {
        Answer::of(app.login(&body).await)
            .await
            .assert_invalid_field("password");
    }
}

#[tokio::test]
async fn login_without_email_username_or_identifier_returns_400() {
    let (app, _) = app_with_user().await;

    let res = Answer::of(app.login(&json!({ "password": PASSWORD })).await).await;

    res.assert_error(StatusCode::BAD_REQUEST, "validation_error");
    assert!(res.body["details"].is_object(), "{}", res.body);
}

#[tokio::test]
async fn each_login_opens_a_new_session() {
    let (app, _) = app_with_user().await;
    let body = json!({ "email": "ada@example.com", "password": PASSWORD });

    let first = Answer::of(app.login(&body).await).await;
    let second = Answer::of(app.login(&body).await).await;

    let sid = |a: &Answer| jwt_part(a.str("/accessToken"), 1)["sid"].clone();
    assert_ne!(sid(&first), sid(&second));
    assert_ne!(first.str("/refreshToken"), second.str("/refreshToken"));
    for a in [&first, &second] {
        assert_eq!(app.me(a.str("/accessToken")).await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn login_before_verifying_the_email_returns_403_when_verification_is_required() {
    let app = TestApp::spawn_with(&[("AUTHGATE_REQUIRE_VERIFIED_EMAIL", "true")]).await;
    app.register_with(json!({ "email": "ada@example.com", "password": PASSWORD, "name": "Ada" }))
        .await;
    let verified = authgate_core::service::RegisterRequest {
        email: Some("bob@example.com".into()),
        password: Some(PASSWORD.to_owned().into()),
        name: Some("Bob".into()),
        ..Default::default()
    };
    app.service.create_user(verified).await.unwrap();

    let unverified = json!({ "email": "ada@example.com", "password": PASSWORD });
    let res = Answer::of(app.login(&unverified).await).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    assert_eq!(res.body["code"], "email_not_verified");

    let wrong = json!({ "email": "ada@example.com", "password": "Wrong7Password" });
    let res = Answer::of(app.login(&wrong).await).await;
    assert_eq!(
        res.status,
        StatusCode::UNAUTHORIZED,
        "a wrong password learns nothing more"
    );

    let res = Answer::of(
        app.login(&json!({ "email": "bob@example.com", "password": PASSWORD }))
            .await,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}
