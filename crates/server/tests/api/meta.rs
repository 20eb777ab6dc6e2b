//! Health, readiness, the JWKS, the OpenAPI document, and headers every response carries.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::helpers::{jwt_part, unique_email, Answer, TestApp, PASSWORD};

#[tokio::test]
async fn health_returns_200_json() {
    let app = TestApp::spawn().await;

    let res = Answer::of(app.get("/health").await).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body.is_object(), "{}", res.body);
}

#[tokio::test]
async fn ready_returns_200_when_the_store_answers() {
    let app = TestApp::spawn().await;

    let res = Answer::of(app.get("/ready").await).await;

    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body.is_object(), "{}", res.body);
}

#[tokio::test]
async fn jwks_publishes_one_ed25519_key_whose_kid_signs_the_access_tokens() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;

    let jwks = Answer::of(app.get("/.well-known/jwks.json").await).await;

    assert_eq!(jwks.status, StatusCode::OK, "{}", jwks.body);
    let keys = jwks.body["keys"].as_array().expect("a keys array");
    assert_eq!(keys.len(), 1, "{}", jwks.body);
    let key = &keys[0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert!(
        key.get("d").is_none(),
        "the private key is published: {key}"
    );
    let x = URL_SAFE_NO_PAD
        .decode(jwks.str("/keys/0/x"))
        .expect("x is base64url");
    assert_eq!(x.len(), 32, "an Ed25519 public key is 32 bytes");
    let header = jwt_part(&user.access, 0);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], key["kid"]);
    assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()));
}

#[tokio::test]
async fn jwks_stays_the_same_across_requests_and_logins() {
    let app = TestApp::spawn().await;
    let first = Answer::of(app.get("/.well-known/jwks.json").await).await;
    let user = app.register_user().await;
    app.login_as(&user).await;

    let second = Answer::of(app.get("/.well-known/jwks.json").await).await;

    assert_eq!(first.body, second.body);
}

#[tokio::test]
async fn with_an_hs256_secret_tokens_use_hs256_and_no_key_is_published() {
    let secret = "a-shared-secret-that-is-at-least-32-bytes-long!!";
    let app = TestApp::spawn_with(&[("AUTHGATE_JWT_SECRET", secret)]).await;
    let user = app.register_user().await;

    let jwks = Answer::of(app.get("/.well-known/jwks.json").await).await;

    assert_eq!(jwt_part(&user.access, 0)["alg"], "HS256");
    assert_eq!(jwks.status, StatusCode::OK);
    assert_eq!(
        jwks.body["keys"],
        json!([]),
        "a shared secret is never published"
    );
    assert!(!jwks.body.to_string().contains(secret));
}

#[tokio::test]
async fn openapi_is_version_3_1_and_lists_every_contract_path() {
    let app = TestApp::spawn().await;

    let doc = Answer::of(app.get("/api/auth/openapi.json").await).await;

    assert_eq!(doc.status, StatusCode::OK, "{}", doc.body);
    assert!(
        doc.str("/openapi").starts_with("3.1"),
        "{}",
        doc.body["openapi"]
    );
    let paths = doc.body["paths"].as_object().expect("paths");
    let expected = [
        ("/api/auth/register", "post"),
        ("/api/auth/login", "post"),
        ("/api/auth/me", "get"),
        ("/api/auth/refresh", "post"),
        ("/api/auth/logout", "post"),
        ("/api/auth/sessions", "get"),
        ("/api/auth/sessions/{id}", "delete"),
        ("/api/auth/change-password", "post"),
        ("/api/auth/forgot-password", "post"),
        ("/api/auth/reset-password", "post"),
        ("/api/auth/verify-email/{token}", "get"),
        ("/api/auth/resend-verification", "post"),
        ("/api/auth/audit", "get"),
        ("/api/auth/admin/users/{id}/disable", "post"),
        ("/api/auth/admin/users/{id}/enable", "post"),
        ("/api/auth/introspect", "post"),
        ("/health", "get"),
        ("/ready", "get"),
        ("/.well-known/jwks.json", "get"),
    ];
    for (path, method) in expected {
        let item = paths.get(path).unwrap_or_else(|| {
            panic!(
                "{path} missing; paths: {:?}",
                paths.keys().collect::<Vec<_>>()
            )
        });
        assert!(item.get(method).is_some(), "{path} has no {method}: {item}");
    }
}

/// The statuses an operation of the OpenAPI document lists.
fn documented_statuses(doc: &serde_json::Value, path: &str, method: &str) -> Vec<String> {
    let responses = doc["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} has no responses"));
    responses.keys().cloned().collect()
}

#[tokio::test]
async fn openapi_documents_the_protection_endpoints_with_their_real_responses() {
    let app = TestApp::spawn().await;

    let doc = Answer::of(app.get("/api/auth/openapi.json").await).await;

    let introspect = documented_statuses(&doc.body, "/api/auth/introspect", "post");
    for status in ["200", "400", "401", "404", "413", "415", "503"] {
        assert!(
            introspect.contains(&status.to_owned()),
            "introspect lacks {status}: {introspect:?}"
        );
    }
    let body = &doc.body["paths"]["/api/auth/introspect"]["post"]["requestBody"]["content"];
    assert!(
        body.get("application/x-www-form-urlencoded").is_some(),
        "{body}"
    );
    assert!(body.get("application/json").is_some(), "{body}");
    let schemes = &doc.body["components"]["securitySchemes"];
    assert!(schemes.get("introspectionSecret").is_some(), "{schemes}");
}

/// One response of each kind: success, 401, 404, 405, 415, 400.
async fn assorted_responses(app: &TestApp) -> Vec<Response> {
    let register = json!({ "email": unique_email(), "password": PASSWORD, "name": "Ada" });
    vec![
        app.get("/health").await,
        app.register(&register).await,
        app.get("/api/auth/me").await,
        app.get("/api/auth/no-such-route").await,
        app.get("/api/auth/login").await,
        app.post_raw("/api/auth/login", Some("text/plain"), b"{}".to_vec())
            .await,
        app.post_raw("/api/auth/login", Some("application/json"), b"{".to_vec())
            .await,
    ]
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_nosniff() {
    let app = TestApp::spawn().await;
    for res in assorted_responses(&app).await {
        let (status, headers) = (res.status(), res.headers().clone());
        let id = headers.get("x-request-id").and_then(|v| v.to_str().ok());
        assert!(
            id.is_some_and(|id| !id.is_empty()),
            "{status}: no X-Request-Id"
        );
        let nosniff = headers
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok());
        assert_eq!(nosniff, Some("nosniff"), "{status}");
    }
}

#[tokio::test]
async fn request_ids_differ_between_requests() {
    let app = TestApp::spawn().await;

    let first = app.get("/health").await;
    let second = app.get("/health").await;

    assert_ne!(
        first.headers().get("x-request-id"),
        second.headers().get("x-request-id")
    );
}

#[tokio::test]
async fn a_valid_incoming_request_id_is_echoed() {
    let app = TestApp::spawn().await;
    for path in ["/health", "/api/auth/me", "/nope"] {
        let res = app
            .api
            .get(app.url(path))
            .header("x-request-id", "client-req_42.a")
            .send()
            .await
            .expect("sent");
        let id = res
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok());
        assert_eq!(id, Some("client-req_42.a"), "{path}");
    }
}

#[tokio::test]
async fn an_invalid_incoming_request_id_is_replaced() {
    let app = TestApp::spawn().await;
    let too_long = "a".repeat(300);
    for bad in [
        too_long.as_str(),
        "has spaces in it",
        "semi;colon",
        "quote\"d",
    ] {
        let res = app
            .api
            .get(app.url("/health"))
            .header("x-request-id", bad)
            .send()
            .await
            .expect("sent");
        let id = res
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok());
        let id = id.unwrap_or_else(|| panic!("no X-Request-Id for {bad:?}"));
        assert_ne!(id, bad);
        assert!(
            !id.is_empty() && id.len() <= 128 && !id.contains(' '),
            "{bad:?} -> {id:?}"
        );
    }
}

#[tokio::test]
async fn token_responses_are_not_cached() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let login = json!({ "email": user.email, "password": PASSWORD });

    let responses = [
        app.login(&login).await,
        app.refresh_body(&user.refresh).await,
        app.me(&user.access).await,
    ];

    for res in responses {
        assert!(res.status().is_success(), "{}", res.status());
        let cache = res
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok());
        assert!(cache.is_some_and(|c| c.contains("no-store")), "{:?}", cache);
    }
}

#[tokio::test]
async fn hsts_is_sent_only_when_the_public_url_is_https() {
    let https = TestApp::spawn_with(&[("AUTHGATE_PUBLIC_URL", "https://auth.example.com")]).await;
    let res = https.api.get(https.url("/health")).send().await.unwrap();
    let hsts = res
        .headers()
        .get("strict-transport-security")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(hsts.as_deref(), Some("max-age=31536000; includeSubDomains"));

    let http = TestApp::spawn().await;
    let res = http.api.get(http.url("/health")).send().await.unwrap();
    assert!(res.headers().get("strict-transport-security").is_none());
    assert_eq!(res.headers().get("referrer-policy").unwrap(), "no-referrer");
}
