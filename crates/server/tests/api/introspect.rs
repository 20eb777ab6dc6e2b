//! POST /api/auth/introspect (RFC 7662): callers with a shared secret learn whether an access
//! token is live, and whose it is; anything else is `{"active": false}` and nothing more;
//! every revocation is seen on the very next call.

use authgate_core::store::TokenPurpose;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{jwt_part, unique_email, Answer, TestApp, TestUser, NEW_PASSWORD, PASSWORD};

pub(crate) const SECRET: &str = "introspection-secret-for-the-api-tests-0123";
const OTHER_SECRET: &str = "a-second-introspection-secret-for-rotation";
const JWT_SECRET: &str = "test-secret-of-at-least-thirty-two-bytes-0123456";

async fn spawn_with(extra: &[(&str, &str)]) -> TestApp {
    let secrets = format!("{SECRET},{OTHER_SECRET}");
    let mut settings = vec![
        ("AUTHGATE_INTROSPECTION_SECRETS", secrets.as_str()),
        ("AUTHGATE_SELF_ASSIGNABLE_ROLES", "admin"),
    ];
    settings.extend_from_slice(extra);
    TestApp::spawn_with(&settings).await
}

/// Introspects `token` as a form, the way RFC 7662 sends it, with the caller's `secret`.
pub(crate) async fn introspect_as(app: &TestApp, secret: Option<&str>, token: &str) -> Answer {
    let mut req = app
        .api
        .post(app.url("/api/auth/introspect"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "token={}&token_type_hint=access_token",
            urlencode(token)
        ));
    if let Some(secret) = secret {
        req = req.bearer_auth(secret);
    }
    Answer::of(req.send().await.expect("POST /introspect sent")).await
}

async fn introspect(app: &TestApp, token: &str) -> Answer {
    introspect_as(app, Some(SECRET), token).await
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[track_caller]
fn assert_inactive(res: &Answer, what: &str) {
    assert_eq!(res.status, StatusCode::OK, "{what}: {}", res.body);
    assert_eq!(res.body, json!({ "active": false }), "{what}");
}

async fn assert_active(app: &TestApp, token: &str, what: &str) {
    let res = introspect(app, token).await;
    assert_eq!(res.status, StatusCode::OK, "{what}: {}", res.body);
    assert_eq!(res.body["active"], true, "{what}: {}", res.body);
}

#[tokio::test]
async fn a_live_access_token_is_active_with_its_claims_and_the_accounts_identifiers() {
    let app = spawn_with(&[]).await;
    let email = unique_email();
    let user = app
        .register_with(
            json!({ "email": email, "username": "ada_l", "password": PASSWORD, "name": "Ada" }),
        )
        .await;

    let res = introspect(&app, &user.access).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let claims = jwt_part(&user.access, 1);
    let mut keys: Vec<&str> = res
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "active",
            "aud",
            "email",
            "exp",
            "iat",
            "iss",
            "role",
            "sid",
            "sub",
            "token_type",
            "username"
        ]
    );
    assert_eq!(res.body["active"], true);
    assert_eq!(res.body["sub"], user.id.as_str());
    assert_eq!(res.body["sid"], claims["sid"]);
    assert_eq!(res.body["role"], "user");
    assert_eq!(res.body["email"], email.as_str());
    assert_eq!(res.body["username"], "ada_l");
    assert_eq!(res.body["exp"], claims["exp"]);
    assert_eq!(res.body["iat"], claims["iat"]);
    assert_eq!(res.body["iss"], app.address.as_str());
    assert_eq!(res.body["aud"], "authgate");
    assert_eq!(res.body["token_type"], "access_token");
}

#[tokio::test]
async fn a_json_body_works_as_well_as_a_form() {
    let app = spawn_with(&[]).await;
    let user = app.register_user().await;

    let res = app
        .api
        .post(app.url("/api/auth/introspect"))
        .bearer_auth(SECRET)
        .json(&json!({ "token": user.access }))
        .send()
        .await
        .expect("sent");
    let res = Answer::of(res).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["active"], true);
    assert_eq!(res.body["sub"], user.id.as_str());
}

#[tokio::test]
async fn each_configured_secret_is_accepted() {
    let app = spawn_with(&[]).await;
    let user = app.register_user().await;

    for secret in [SECRET, OTHER_SECRET] {
        let res = introspect_as(&app, Some(secret), &user.access).await;
        assert_eq!(res.body["active"], true, "{}", res.body);
    }
}

#[tokio::test]
async fn a_username_only_account_has_no_email_in_the_answer() {
    let app = spawn_with(&[("AUTHGATE_REQUIRE_EMAIL", "false")]).await;
    let user = app
        .register_with(json!({ "username": "grace_h", "password": PASSWORD, "name": "Grace" }))
        .await;

    let res = introspect(&app, &user.access).await;

    assert_eq!(res.body["username"], "grace_h", "{}", res.body);
    assert!(res.body.get("email").is_none(), "{}", res.body);
}

#[tokio::test]
async fn a_caller_without_a_valid_secret_gets_401_before_its_body_is_read() {
    let app = spawn_with(&[]).await;
    let user = app.register_user().await;

    for secret in [
        None,
        Some("wrong"),
        Some(&SECRET[..SECRET.len() - 1]),
        Some(JWT_SECRET),
    ] {
        let res = introspect_as(&app, secret, &user.access).await;
        res.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
        let challenge = match secret {
            None => "Bearer",
            Some(_) => r#"Bearer error="invalid_token""#,
        };
        assert_eq!(res.header("www-authenticate"), Some(challenge));
    }
    let garbage = app
        .api
        .post(app.url("/api/auth/introspect"))
        .header("content-type", "text/plain")
        .body("not a form")
        .send()
        .await
        .expect("sent");
    Answer::of(garbage)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn without_secrets_configured_the_endpoint_does_not_exist() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let res = introspect_as(&app, Some(SECRET), &user.access).await;

    res.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn a_missing_token_is_400_and_a_body_of_another_type_415() {
    let app = spawn_with(&[]).await;

    let empty = app
        .api
        .post(app.url("/api/auth/introspect"))
        .bearer_auth(SECRET)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("token_type_hint=access_token")
        .send()
        .await
        .expect("sent");
    Answer::of(empty).await.assert_invalid_field("token");

    let other = app
        .api
        .post(app.url("/api/auth/introspect"))
        .bearer_auth(SECRET)
        .header("content-type", "text/plain")
        .body("token=abc")
        .send()
        .await
        .expect("sent");
    Answer::of(other)
        .await
        .assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
}

#[tokio::test]
async fn anything_that_is_not_a_live_access_token_is_inactive_and_nothing_more() {
    let app = spawn_with(&[("AUTHGATE_JWT_SECRET", JWT_SECRET)]).await;
    let user = app.register_user().await;
    let claims = jwt_part(&user.access, 1);
    let sign = |claims: &Value| {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
        )
        .expect("signed")
    };
    let past = chrono::Utc::now().timestamp() - 3600;
    let mut expired = claims.clone();
    expired["iat"] = json!(past - 60);
    expired["exp"] = json!(past);
    let mut tampered = claims.clone();
    tampered["role"] = json!("admin");
    let parts: Vec<&str> = user.access.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        crate::helpers::jwt_segment(&tampered),
        parts[2]
    );
    let other_key = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"another-secret-of-at-least-thirty-two-bytes!!"),
    )
    .unwrap();

    for (token, what) in [
        ("", "an empty token"),
        ("garbage", "garbage"),
        (user.refresh.as_str(), "a refresh token"),
        (sign(&expired).as_str(), "an expired token"),
        (tampered.as_str(), "a tampered token"),
        (other_key.as_str(), "a token signed with another key"),
    ] {
        assert_inactive(&introspect(&app, token).await, what);
    }
    assert_active(&app, &sign(&claims), "the same claims, properly signed").await;
}

/// A user whose token is active now, for the revocation tests.
async fn live_user(app: &TestApp) -> TestUser {
    let user = app.register_user().await;
    assert_active(app, &user.access, "before").await;
    user
}

#[tokio::test]
async fn logout_is_seen_on_the_very_next_call() {
    let app = spawn_with(&[]).await;
    let user = live_user(&app).await;

    assert_eq!(
        app.logout(&user.access, None).await.status(),
        StatusCode::OK
    );

    assert_inactive(&introspect(&app, &user.access).await, "after logout");
}

#[tokio::test]
async fn revoking_the_session_is_seen_on_the_very_next_call() {
    let app = spawn_with(&[]).await;
    let user = live_user(&app).await;
    let other = app.login_as(&user).await;
    let sid = jwt_part(&user.access, 1)["sid"]
        .as_str()
        .unwrap()
        .to_owned();

    let res = app.delete_session(&other.access, &sid).await;
    assert_eq!(res.status(), StatusCode::OK);

    assert_inactive(&introspect(&app, &user.access).await, "after revocation");
    assert_active(&app, &other.access, "the other session").await;
}

#[tokio::test]
async fn a_password_change_is_seen_on_the_very_next_call() {
    let app = spawn_with(&[]).await;
    let user = live_user(&app).await;
    let other = app.login_as(&user).await;

    let res = app
        .change_password(&other.access, PASSWORD, NEW_PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    assert_inactive(
        &introspect(&app, &user.access).await,
        "after a password change",
    );
}

#[tokio::test]
async fn a_password_reset_is_seen_on_the_very_next_call() {
    let app = spawn_with(&[]).await;
    let user = live_user(&app).await;
    let token = app
        .issue_token(&user.email, TokenPurpose::ResetPassword)
        .await;

    let res = app.reset_password(&token, NEW_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);

    assert_inactive(&introspect(&app, &user.access).await, "after a reset");
}

#[tokio::test]
async fn disabling_the_account_is_seen_on_the_very_next_call() {
    let app = spawn_with(&[]).await;
    let admin = app
        .register_with(json!({ "email": unique_email(), "password": PASSWORD, "name": "Root", "role": "admin" }))
        .await;
    let user = live_user(&app).await;

    let res = app
        .api
        .post(app.url(&format!("/api/auth/admin/users/{}/disable", user.id)))
        .bearer_auth(&admin.access)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);

    assert_inactive(&introspect(&app, &user.access).await, "after disabling");
    let enable = app
        .api
        .post(app.url(&format!("/api/auth/admin/users/{}/enable", user.id)))
        .bearer_auth(&admin.access)
        .send()
        .await
        .expect("sent");
    assert_eq!(enable.status(), StatusCode::OK);
    assert_inactive(
        &introspect(&app, &user.access).await,
        "enabling does not bring the ended session back",
    );
}

#[tokio::test]
async fn introspection_is_not_rate_limited_per_client_ip() {
    let strict = [
        ("AUTHGATE_RATE_LIMIT_LOGIN", "1/min"),
        ("AUTHGATE_RATE_LIMIT_REFRESH", "1/min"),
        ("AUTHGATE_RATE_LIMIT_VERIFY_EMAIL", "1/min"),
    ];
    let app = spawn_with(&strict).await;
    let user = app.register_user().await;

    for round in 0..30 {
        let res = introspect(&app, &user.access).await;
        assert_eq!(res.body["active"], true, "round {round}: {}", res.body);
    }
}
