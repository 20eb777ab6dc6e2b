//! Signing-key rotation reaches a running server without a restart, and nobody is logged
//! out by it; a token signed by another instance with a key this one has not loaded yet is
//! accepted.

use authgate_core::keys::{load_signer, rotate_signing_key};
use authgate_core::tokens::AccessClaims;
use reqwest::StatusCode;

use crate::helpers::{jwt_part, Answer, TestApp};

#[tokio::test]
async fn after_a_rotation_and_a_reload_new_tokens_use_the_new_key_and_old_tokens_still_work() {
    let app = TestApp::spawn().await;
    let before = app.register_user().await;
    let old_kid = jwt_part(&before.access, 0)["kid"]
        .as_str()
        .unwrap()
        .to_owned();

    // A rotation comes later than the first start: with both keys made in the same
    // millisecond neither would be older, so the kid alone would decide which one signs.
    app.clock.advance(std::time::Duration::from_secs(60));
    let new_kid = rotate_signing_key(app.service.store().as_ref(), app.service.clock().now())
        .await
        .expect("the key rotates");
    let signing = app
        .service
        .reload_signing_keys()
        .await
        .expect("keys reload");

    assert_eq!(signing.as_deref(), Some(new_kid.as_str()));
    let after = app.register_user().await;
    assert_eq!(jwt_part(&after.access, 0)["kid"], new_kid.as_str());
    let me = Answer::of(app.me(&before.access).await).await;
    assert_eq!(me.status, StatusCode::OK, "old token refused: {}", me.body);
    let jwks = Answer::of(app.get("/.well-known/jwks.json").await).await;
    let kids: Vec<&str> = jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()),
        "{kids:?}"
    );
}

#[tokio::test]
async fn a_reload_without_a_rotation_keeps_the_signing_key() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let kid = jwt_part(&user.access, 0)["kid"]
        .as_str()
        .unwrap()
        .to_owned();

    let signing = app
        .service
        .reload_signing_keys()
        .await
        .expect("keys reload");

    assert_eq!(signing.as_deref(), Some(kid.as_str()));
}

#[tokio::test]
async fn with_an_hs256_secret_a_reload_changes_nothing() {
    let app = TestApp::spawn_with(&[(
        "AUTHGATE_JWT_SECRET",
        "0123456789abcdef0123456789abcdef-test-secret",
    )])
    .await;
    let user = app.register_user().await;

    let signing = app.service.reload_signing_keys().await.expect("a no-op");

    assert_eq!(signing, None);
    assert_eq!(app.me(&user.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_token_signed_by_another_instance_with_a_key_not_loaded_here_yet_is_accepted() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    app.clock.advance(std::time::Duration::from_secs(60));
    let store = app.service.store().as_ref();
    let now = app.service.clock().now();
    let new_kid = rotate_signing_key(store, now)
        .await
        .expect("the key rotates");
    // Another instance that already read the keys signs for the same session.
    let other = load_signer(store, app.service.config(), None, now)
        .await
        .expect("the other instance's signer");
    let claims: AccessClaims =
        serde_json::from_value(jwt_part(&user.access, 1)).expect("the claims");
    let token = other.sign(&claims).expect("signed");
    assert_eq!(jwt_part(&token, 0)["kid"], new_kid.as_str());

    let me = Answer::of(app.me(&token).await).await;

    assert_eq!(me.status, StatusCode::OK, "refused: {}", me.body);
}

#[tokio::test]
async fn a_token_naming_a_key_nobody_has_is_refused_with_401() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let store = app.service.store().as_ref();
    let signer = load_signer(store, app.service.config(), None, app.service.clock().now())
        .await
        .expect("a signer");
    let claims: AccessClaims =
        serde_json::from_value(jwt_part(&user.access, 1)).expect("the claims");
    let header = jsonwebtoken::Header {
        kid: Some("made-up".into()),
        ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA)
    };
    let signed = signer.sign(&claims).expect("signed");
    // The same signature under a header naming another kid: no key verifies it.
    let forged_header = base64_url(&serde_json::to_vec(&header).expect("a header"));
    let rest = signed.split_once('.').expect("a JWT").1;
    let forged = format!("{forged_header}.{rest}");

    let me = Answer::of(app.me(&forged).await).await;

    me.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
