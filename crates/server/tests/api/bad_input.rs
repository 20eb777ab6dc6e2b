//! Hostile or broken input: always a 4xx JSON error with the contract's code, never a 500.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{unique_email, Answer, TestApp, PASSWORD};

const JSON: Option<&str> = Some("application/json");

#[tokio::test]
async fn malformed_json_returns_400_malformed_json() {
    let app = TestApp::spawn().await;
    for body in [
        &b"{\"email\":"[..],
        b"{email: 1}",
        b"not json",
        b"\xff\xfe",
        b"{\"a\":1,}",
    ] {
        let res = Answer::of(
            app.post_raw("/api/auth/register", JSON, body.to_vec())
                .await,
        )
        .await;
        res.assert_error(StatusCode::BAD_REQUEST, "malformed_json");
    }
}

#[tokio::test]
async fn json_followed_by_trailing_characters_returns_400_malformed_json() {
    let app = TestApp::spawn().await;
    let valid = json!({ "email": unique_email(), "password": PASSWORD, "name": "Ada" }).to_string();
    for tail in ["}", " garbage", "{}", ","] {
        let body = format!("{valid}{tail}").into_bytes();
        let res = Answer::of(app.post_raw("/api/auth/register", JSON, body).await).await;
        res.assert_error(StatusCode::BAD_REQUEST, "malformed_json");
    }
}

#[tokio::test]
async fn an_empty_body_on_register_returns_400_malformed_json() {
    let app = TestApp::spawn().await;

    let res = Answer::of(app.post_raw("/api/auth/register", JSON, Vec::new()).await).await;

    res.assert_error(StatusCode::BAD_REQUEST, "malformed_json");
}

#[tokio::test]
async fn a_body_that_is_not_declared_as_json_returns_415() {
    let app = TestApp::spawn().await;
    let body =
        serde_json::to_vec(&json!({ "email": unique_email(), "password": PASSWORD, "name": "A" }))
            .expect("JSON");
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        for path in ["/api/auth/register", "/api/auth/login"] {
            let res = Answer::of(app.post_raw(path, content_type, body.clone()).await).await;
            res.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
        }
    }
}

#[tokio::test]
async fn json_with_a_charset_parameter_is_accepted() {
    let app = TestApp::spawn().await;
    let body = json!({ "email": unique_email(), "password": PASSWORD, "name": "A" });
    let bytes = serde_json::to_vec(&body).expect("JSON");

    let res = app
        .post_raw(
            "/api/auth/register",
            Some("application/json; charset=utf-8"),
            bytes,
        )
        .await;

    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_body_over_64_kib_returns_413() {
    let app = TestApp::spawn().await;
    let padding = "x".repeat(65 * 1024);
    let body = serde_json::to_vec(
        &json!({ "email": unique_email(), "password": PASSWORD, "name": padding }),
    )
    .expect("JSON");

    for path in ["/api/auth/register", "/api/auth/login"] {
        let res = Answer::of(app.post_raw(path, JSON, body.clone()).await).await;
        res.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    }
}

#[tokio::test]
async fn a_field_of_the_wrong_json_type_returns_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let wrong: [Value; 4] = [
        json!(5),
        json!({ "$gt": "" }),
        json!(["a@b.co"]),
        json!(true),
    ];
    for value in wrong {
        let body = json!({ "email": value, "password": PASSWORD, "name": "Ada" });
        Answer::of(app.register(&body).await)
            .await
            .assert_invalid_field("email");
    }
    let body = json!({ "email": unique_email(), "password": 12345678, "name": "Ada" });
    Answer::of(app.register(&body).await)
        .await
        .assert_invalid_field("password");
}

#[tokio::test]
async fn an_operator_object_instead_of_credentials_never_logs_in() {
    let app = TestApp::spawn().await;
    app.register_user().await;
    let injection = json!({ "email": { "$gt": "" }, "password": { "$gt": "" } });

    let res = Answer::of(app.login(&injection).await).await;

    res.assert_error(StatusCode::BAD_REQUEST, "validation_error");
    let field = res.body["details"].as_object().expect("details");
    assert!(
        field.contains_key("email") || field.contains_key("password"),
        "{}",
        res.body
    );
}

#[tokio::test]
async fn a_json_array_or_string_instead_of_an_object_returns_400() {
    let app = TestApp::spawn().await;
    for body in [
        json!([]),
        json!(["email", PASSWORD]),
        json!("ada@example.com"),
        json!(42),
        json!(null),
    ] {
        for path in [
            "/api/auth/register",
            "/api/auth/login",
            "/api/auth/forgot-password",
        ] {
            let res = Answer::of(app.post_json(path, &body).await).await;
            assert_eq!(
                res.status,
                StatusCode::BAD_REQUEST,
                "{path} {body}: {}",
                res.body
            );
            let code = res.body["code"].as_str().unwrap_or("");
            assert!(
                ["malformed_json", "validation_error"].contains(&code),
                "{path} {body}: {}",
                res.body
            );
            res.assert_error(StatusCode::BAD_REQUEST, code);
        }
    }
}

#[tokio::test]
async fn control_characters_and_bidi_overrides_in_names_return_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let hostile = [
        "Ada\u{0000}Lovelace",
        "Ada\u{0007}",
        "Ada\nLovelace",
        "\u{202E}ecalevoL",
        "Ada\u{200B}",
        "a\u{2066}b",
    ];
    for name in hostile {
        let body = json!({ "email": unique_email(), "password": PASSWORD, "name": name });
        Answer::of(app.register(&body).await)
            .await
            .assert_invalid_field("name");
        let split = json!({ "email": unique_email(), "password": PASSWORD, "firstName": name, "lastName": "L" });
        Answer::of(app.register(&split).await)
            .await
            .assert_invalid_field("firstName");
    }
}

#[tokio::test]
async fn a_ten_thousand_character_email_returns_400_naming_email() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", "a".repeat(10_000));

    let register = json!({ "email": email, "password": PASSWORD, "name": "Ada" });
    Answer::of(app.register(&register).await)
        .await
        .assert_invalid_field("email");
    let login = json!({ "email": email, "password": PASSWORD });
    Answer::of(app.login(&login).await)
        .await
        .assert_invalid_field("email");
    Answer::of(app.forgot_password(&email).await)
        .await
        .assert_invalid_field("email");
}

#[tokio::test]
async fn a_name_over_100_characters_returns_400_naming_name() {
    let app = TestApp::spawn().await;
    let body = json!({ "email": unique_email(), "password": PASSWORD, "name": "n".repeat(101) });

    Answer::of(app.register(&body).await)
        .await
        .assert_invalid_field("name");
}

#[tokio::test]
async fn unicode_emails_and_names_are_accepted_and_round_trip() {
    let app = TestApp::spawn().await;
    let cases = [
        ("zoë@exämple.de", "Zoë Ωmega-Łukasz"),
        ("用户@例子.广告", "李小龍"),
        ("δοκιμή@παράδειγμα.δοκιμή", "Ἀριστοτέλης"),
    ];
    for (email, name) in cases {
        let body = json!({ "email": email, "password": PASSWORD, "name": name });
        let res = Answer::of(app.register(&body).await).await;
        assert_eq!(res.status, StatusCode::CREATED, "{email}: {}", res.body);
        assert_eq!(res.body["user"]["email"], email);
        assert_eq!(res.body["user"]["name"], name);
        let login = Answer::of(
            app.login(&json!({ "email": email, "password": PASSWORD }))
                .await,
        )
        .await;
        assert_eq!(login.status, StatusCode::OK, "{email}: {}", login.body);
    }
    let upper = json!({ "email": "ZOË@EXÄMPLE.DE", "password": PASSWORD });
    let res = Answer::of(app.login(&upper).await).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "case-insensitive beyond ASCII: {}",
        res.body
    );
}

#[tokio::test]
async fn a_password_of_huge_size_on_login_is_refused_before_any_hashing() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let body = json!({ "email": user.email, "password": "A1a".repeat(10_000) });

    let res = Answer::of(app.login(&body).await).await;

    // A 400 naming the password, not the 401 a verification would end in.
    res.assert_error(StatusCode::BAD_REQUEST, "validation_error");
    res.assert_invalid_field("password");
}

#[tokio::test]
async fn an_unknown_route_returns_a_404_json_error() {
    let app = TestApp::spawn().await;
    // `/` is the hosted pages' entry (a redirect to /account); see `pages_flows`.
    for path in ["/api/auth/nope", "/nope", "/api/auth/register/extra"] {
        Answer::of(app.get(path).await)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }
}

#[tokio::test]
async fn a_wrong_method_returns_a_405_json_error() {
    let app = TestApp::spawn().await;

    let res = Answer::of(app.get("/api/auth/register").await).await;

    res.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

/// A request with the given method, path and optional bearer token.
async fn send(app: &TestApp, method: reqwest::Method, path: &str, access: Option<&str>) -> Answer {
    let mut req = app.api.request(method, app.url(path));
    if let Some(access) = access {
        req = req.bearer_auth(access);
    }
    Answer::of(req.send().await.expect("sent")).await
}

#[tokio::test]
async fn path_and_query_values_that_do_not_parse_get_400_json_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let cases = [
        (
            reqwest::Method::GET,
            "/api/auth/verify-email/%00%FF%27",
            "token",
        ),
        (reqwest::Method::HEAD, "/api/auth/verify-email/%FF", "token"),
        (reqwest::Method::DELETE, "/api/auth/sessions/%FF", "id"),
        (reqwest::Method::GET, "/api/auth/audit?limit=abc", "limit"),
        (reqwest::Method::GET, "/api/auth/audit?limit=-1", "limit"),
        (reqwest::Method::GET, "/api/auth/audit?limit=0", "limit"),
        (reqwest::Method::GET, "/api/auth/audit?limit=101", "limit"),
        (
            reqwest::Method::POST,
            "/api/auth/admin/users/%FF/disable",
            "id",
        ),
        (
            reqwest::Method::POST,
            "/api/auth/admin/users/%C3%28/enable",
            "id",
        ),
    ];
    for (method, path, field) in cases {
        if method == reqwest::Method::HEAD {
            let res = app.api.head(app.url(path)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
            let content_type = res.headers()["content-type"].to_str().unwrap();
            assert!(content_type.starts_with("application/json"), "{path}");
            continue;
        }
        let res = send(&app, method, path, Some(&user.access)).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{path}: {}", res.body);
        let content_type = res.header("content-type").unwrap_or("");
        assert!(
            content_type.starts_with("application/json"),
            "{path}: {content_type:?}"
        );
        res.assert_invalid_field(field);
        let text = res.body.to_string();
        assert!(!text.contains("Failed to deserialize"), "{path}: {text}");
    }
}
