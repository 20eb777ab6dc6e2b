//! POST /api/auth/register: the success shape, validation, conflicts and roles.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{jwt_part, unique_email, Answer, TestApp, PASSWORD};

/// The keys of an object, sorted.
pub(crate) fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// Asserts the contract's user object: exactly its ten fields, with their types.
#[track_caller]
pub(crate) fn assert_user_shape(user: &Value) {
    assert_eq!(
        keys(user),
        [
            "createdAt",
            "email",
            "emailVerified",
            "firstName",
            "id",
            "lastLoginAt",
            "lastName",
            "name",
            "role",
            "username"
        ],
        "user: {user}"
    );
    assert!(user["id"].as_str().is_some_and(|s| !s.is_empty()), "{user}");
    assert!(user["role"].is_string(), "{user}");
    assert!(user["emailVerified"].is_boolean(), "{user}");
    assert_rfc3339_utc(&user["createdAt"]);
    if !user["lastLoginAt"].is_null() {
        assert_rfc3339_utc(&user["lastLoginAt"]);
    }
    for nullable in ["email", "username", "name", "firstName", "lastName"] {
        let v = &user[nullable];
        assert!(v.is_null() || v.is_string(), "{nullable}: {v}");
    }
}

/// Asserts an RFC 3339 time in UTC (`...Z`).
#[track_caller]
pub(crate) fn assert_rfc3339_utc(value: &Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a time: {value}"));
    assert!(
        chrono::DateTime::parse_from_rfc3339(text).is_ok() && text.ends_with('Z'),
        "not an RFC 3339 UTC time: {text}"
    );
}

#[tokio::test]
async fn register_with_email_name_and_password_returns_201_with_tokens_and_the_user() {
    let app = TestApp::spawn().await;
    let email = unique_email();
    let body = json!({ "email": email, "password": PASSWORD, "name": "Ada Lovelace" });

    let res = Answer::of(app.register(&body).await).await;

    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
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
    assert_eq!(
        res.body["expiresIn"], 900,
        "the default access token life is 15 min"
    );
    assert_eq!(res.str("/accessToken").split('.').count(), 3);
    assert!(res.str("/refreshToken").len() >= 43, "at least 256 bits");
    let user = &res.body["user"];
    assert_user_shape(user);
    assert_eq!(user["email"], email.as_str());
    assert_eq!(user["name"], "Ada Lovelace");
    assert_eq!(user["username"], Value::Null);
    assert_eq!(user["firstName"], Value::Null);
    assert_eq!(user["lastName"], Value::Null);
    assert_eq!(user["role"], "user");
    assert_eq!(user["emailVerified"], false);
    assert_eq!(res.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn register_with_first_and_last_name_and_a_username_returns_them() {
    let app = TestApp::spawn().await;
    let body = json!({ "email": unique_email(), "password": PASSWORD,
        "firstName": "Ada", "lastName": "Lovelace", "username": "ada_l" });

    let res = Answer::of(app.register(&body).await).await;

    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_user_shape(&res.body["user"]);
    assert_eq!(res.body["user"]["firstName"], "Ada");
    assert_eq!(res.body["user"]["lastName"], "Lovelace");
    assert_eq!(res.body["user"]["username"], "ada_l");
}

#[tokio::test]
async fn register_stores_the_email_trimmed_with_its_case() {
    let app = TestApp::spawn().await;
    let body = json!({ "email": "  Ada.King@Example.COM ", "password": PASSWORD, "name": "Ada" });

    let res = Answer::of(app.register(&body).await).await;

    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["user"]["email"], "Ada.King@Example.COM");
}

#[tokio::test]
async fn register_issues_an_access_token_with_the_contract_claims() {
    let app = TestApp::spawn().await;
    let body = json!({ "email": unique_email(), "password": PASSWORD, "name": "Ada" });

    let res = Answer::of(app.register(&body).await).await;

    let claims = jwt_part(res.str("/accessToken"), 1);
    assert_eq!(claims["iss"], app.address.as_str(), "{claims}");
    assert_eq!(claims["aud"], "authgate", "{claims}");
    assert_eq!(claims["sub"], res.body["user"]["id"], "{claims}");
    assert_eq!(claims["role"], "user", "{claims}");
    for text in ["sid", "jti"] {
        assert!(
            claims[text].as_str().is_some_and(|s| !s.is_empty()),
            "{claims}"
        );
    }
    let (iat, exp) = (claims["iat"].as_i64(), claims["exp"].as_i64());
    assert_eq!(exp.zip(iat).map(|(e, i)| e - i), Some(900), "{claims}");
}

#[tokio::test]
async fn register_with_an_invalid_email_returns_400_naming_email() {
    let app = TestApp::spawn().await;
    for email in ["not-an-email", "a@b", "@example.com", "a b@example.com", ""] {
        let body = json!({ "email": email, "password": PASSWORD, "name": "Ada" });
        let res = Answer::of(app.register(&body).await).await;
        res.assert_invalid_field("email");
    }
}

#[tokio::test]
async fn register_without_a_password_returns_400_naming_password() {
    let app = TestApp::spawn().await;
    let body = json!({ "email": unique_email(), "name": "Ada" });

    Answer::of(app.register(&body).await)
        .await
        .assert_invalid_field("password");
}

#[tokio::test]
async fn register_with_a_password_breaking_the_default_policy_returns_400_naming_password() {
    let app = TestApp::spawn().await;
    let weak = [
        "Sh0rt",         // under 8 characters
        "nouppercase7",  // no upper-case letter
        "NOLOWERCASE7",  // no lower-case letter
        "NoDigitsAtAll", // no digit
        "Password123",   // common (on the blocklist) though it has every class
        "qwertyuiop",    // common and missing classes
    ];
    for password in weak {
        let body = json!({ "email": unique_email(), "password": password, "name": "Ada" });
        let res = Answer::of(app.register(&body).await).await;
        res.assert_invalid_field("password");
    }
}

#[tokio::test]
async fn register_with_the_email_local_part_in_the_password_returns_400() {
    let app = TestApp::spawn().await;
    let body =
        json!({ "email": "lovelace@example.com", "password": "xLoveLace1815", "name": "Ada" });

    Answer::of(app.register(&body).await)
        .await
        .assert_invalid_field("password");
}

#[tokio::test]
async fn register_accepts_128_characters_of_password_and_refuses_129() {
    let app = TestApp::spawn().await;
    let at_limit = format!("Aa1{}", "x".repeat(125));
    let over = format!("Aa1{}", "x".repeat(126));

    let too_long = json!({ "email": unique_email(), "password": over, "name": "Ada" });
    Answer::of(app.register(&too_long).await)
        .await
        .assert_invalid_field("password");

    let fits = json!({ "email": unique_email(), "password": at_limit, "name": "Ada" });
    let res = Answer::of(app.register(&fits).await).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
}

#[tokio::test]
async fn register_without_a_name_returns_400_naming_name() {
    let app = TestApp::spawn().await;
    for body in [
        json!({ "email": unique_email(), "password": PASSWORD }),
        json!({ "email": unique_email(), "password": PASSWORD, "firstName": "Ada" }),
        json!({ "email": unique_email(), "password": PASSWORD, "name": "   " }),
    ] {
        Answer::of(app.register(&body).await)
            .await
            .assert_invalid_field("name");
    }
}

#[tokio::test]
async fn register_reports_every_invalid_field_at_once() {
    let app = TestApp::spawn().await;
    let body = json!({ "email": "nope", "password": "short" });

    let res = Answer::of(app.register(&body).await).await;

    for field in ["email", "password", "name"] {
        res.assert_invalid_field(field);
    }
}

#[tokio::test]
async fn register_with_an_email_taken_in_another_case_returns_409_email_taken() {
    let app = TestApp::spawn().await;
    app.register_with(json!({ "email": "ada@x.com", "password": PASSWORD, "name": "Ada" }))
        .await;

    let again = json!({ "email": "Ada@X.com", "password": PASSWORD, "name": "Other" });
    let res = Answer::of(app.register(&again).await).await;

    res.assert_error(StatusCode::CONFLICT, "email_taken");
}

#[tokio::test]
async fn register_with_a_username_taken_in_another_case_returns_409_username_taken() {
    let app = TestApp::spawn().await;
    let first =
        json!({ "email": unique_email(), "username": "AdaL", "password": PASSWORD, "name": "Ada" });
    app.register_with(first).await;

    let again =
        json!({ "email": unique_email(), "username": "adal", "password": PASSWORD, "name": "Ada" });
    let res = Answer::of(app.register(&again).await).await;

    res.assert_error(StatusCode::CONFLICT, "username_taken");
}

#[tokio::test]
async fn register_with_a_role_that_is_not_self_assignable_returns_403_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let email = unique_email();
    let body = json!({ "email": email, "password": PASSWORD, "name": "Eve", "role": "admin" });

    let res = Answer::of(app.register(&body).await).await;
    res.assert_error(StatusCode::FORBIDDEN, "role_not_allowed");

    let login = json!({ "email": email, "password": PASSWORD });
    Answer::of(app.login(&login).await)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
}

#[tokio::test]
async fn register_with_the_default_role_named_explicitly_is_accepted() {
    let app = TestApp::spawn().await;
    let body =
        json!({ "email": unique_email(), "password": PASSWORD, "name": "Ada", "role": "user" });

    let res = Answer::of(app.register(&body).await).await;

    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["user"]["role"], "user");
}

#[tokio::test]
async fn register_with_a_configured_self_assignable_role_is_accepted_and_others_are_not() {
    let app = TestApp::spawn_with(&[("AUTHGATE_SELF_ASSIGNABLE_ROLES", "supervisor")]).await;
    let body = json!({ "email": unique_email(), "password": PASSWORD, "name": "Sam", "role": "supervisor" });

    let res = Answer::of(app.register(&body).await).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["user"]["role"], "supervisor");
    assert_eq!(jwt_part(res.str("/accessToken"), 1)["role"], "supervisor");

    let admin =
        json!({ "email": unique_email(), "password": PASSWORD, "name": "Eve", "role": "admin" });
    Answer::of(app.register(&admin).await)
        .await
        .assert_error(StatusCode::FORBIDDEN, "role_not_allowed");
}

#[tokio::test]
async fn register_without_an_email_is_refused_while_email_is_required() {
    let app = TestApp::spawn().await;
    let body = json!({ "name": "Shahroz Ahmed", "username": "shahroz769", "password": PASSWORD });

    Answer::of(app.register(&body).await)
        .await
        .assert_invalid_field("email");
}

#[tokio::test]
async fn username_only_accounts_register_and_log_in_by_username_when_email_is_optional() {
    let app = TestApp::spawn_with(&[("AUTHGATE_REQUIRE_EMAIL", "false")]).await;
    let body = json!({ "name": "Shahroz Ahmed", "username": "shahroz769", "password": PASSWORD });

    let res = Answer::of(app.register(&body).await).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_user_shape(&res.body["user"]);
    assert_eq!(res.body["user"]["email"], Value::Null);
    assert_eq!(res.body["user"]["username"], "shahroz769");

    let login = json!({ "username": "Shahroz769", "password": PASSWORD });
    let res = Answer::of(app.login(&login).await).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["user"]["username"], "shahroz769");
}

#[tokio::test]
async fn register_without_email_or_username_returns_400_even_when_email_is_optional() {
    let app = TestApp::spawn_with(&[("AUTHGATE_REQUIRE_EMAIL", "false")]).await;
    let body = json!({ "name": "Nobody", "password": PASSWORD });

    Answer::of(app.register(&body).await)
        .await
        .assert_invalid_field("username");
}
