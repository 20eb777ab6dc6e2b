//! Forged access tokens are refused with 401. Each forgery starts from a real token's claims
//! (live user, live session), so only the forged part can be the reason for the refusal.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{jwt_part, jwt_segment, Answer, TestApp, TestUser};

/// A secret of 48 bytes for the HS256 instances.
const SECRET: &str = "test-secret-of-at-least-thirty-two-bytes-0123456";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Replaces the payload of `token`, keeping its header and signature.
fn with_payload(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], jwt_segment(claims), parts[2])
}

fn hs256(secret: &[u8], claims: &Value, kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).expect("signed")
}

async fn assert_refused(app: &TestApp, token: &str, what: &str) {
    let res = Answer::of(app.me(token).await).await;
    assert_eq!(
        res.status,
        StatusCode::UNAUTHORIZED,
        "{what} was accepted: {}",
        res.body
    );
    res.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(
        res.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token""#),
        "{what}: a token was sent and refused (RFC 6750 §3.1)"
    );
}

async fn app_and_user() -> (TestApp, TestUser) {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    assert_eq!(
        app.me(&user.access).await.status(),
        StatusCode::OK,
        "the genuine token works"
    );
    (app, user)
}

#[tokio::test]
async fn a_token_with_alg_none_returns_401() {
    let (app, user) = app_and_user().await;
    let claims = jwt_part(&user.access, 1);
    let kid = jwt_part(&user.access, 0)["kid"].clone();
    let signature = user.access.rsplit('.').next().expect("a signature");

    for alg in ["none", "None", "NONE"] {
        let header = json!({ "alg": alg, "typ": "JWT", "kid": kid });
        let unsigned = format!("{}.{}.", jwt_segment(&header), jwt_segment(&claims));
        assert_refused(&app, &unsigned, &format!("alg {alg} without signature")).await;
        let resigned = format!(
            "{}.{}.{signature}",
            jwt_segment(&header),
            jwt_segment(&claims)
        );
        assert_refused(
            &app,
            &resigned,
            &format!("alg {alg} with the old signature"),
        )
        .await;
    }
}

#[tokio::test]
async fn an_hs256_token_signed_with_the_published_ed25519_key_returns_401() {
    let (app, user) = app_and_user().await;
    let jwks = Answer::of(app.get("/.well-known/jwks.json").await).await;
    let x = jwks.str("/keys/0/x").to_owned();
    let raw = URL_SAFE_NO_PAD.decode(&x).expect("x is base64url");
    let claims = jwt_part(&user.access, 1);
    let kid = jwks.str("/keys/0/kid").to_owned();

    for (secret, what) in [
        (raw.as_slice(), "raw key bytes"),
        (x.as_bytes(), "the x text"),
    ] {
        let forged = hs256(secret, &claims, Some(&kid));
        assert_refused(&app, &forged, &format!("HS256 keyed with {what}")).await;
    }
}

#[tokio::test]
async fn a_token_with_a_tampered_payload_returns_401() {
    let (app, user) = app_and_user().await;
    let other = app.register_user().await;
    let claims = jwt_part(&user.access, 1);

    let mut admin = claims.clone();
    admin["role"] = json!("admin");
    assert_refused(
        &app,
        &with_payload(&user.access, &admin),
        "role changed to admin",
    )
    .await;

    let mut someone_else = claims.clone();
    someone_else["sub"] = json!(other.id);
    assert_refused(
        &app,
        &with_payload(&user.access, &someone_else),
        "sub changed",
    )
    .await;

    let mut longer = claims.clone();
    longer["exp"] = json!(now() + 365 * 24 * 3600);
    assert_refused(&app, &with_payload(&user.access, &longer), "exp extended").await;
}

#[tokio::test]
async fn a_token_from_another_authgate_instance_returns_401() {
    let (app, _) = app_and_user().await;
    let elsewhere = TestApp::spawn().await;
    let stranger = elsewhere.register_user().await;
    assert_eq!(
        elsewhere.me(&stranger.access).await.status(),
        StatusCode::OK
    );

    assert_refused(&app, &stranger.access, "a token of another instance").await;
}

/// An HS256 instance, a user, and that user's genuine claims.
async fn hs256_app() -> (TestApp, TestUser, Value) {
    let app = TestApp::spawn_with(&[("AUTHGATE_JWT_SECRET", SECRET)]).await;
    let user = app.register_user().await;
    assert_eq!(jwt_part(&user.access, 0)["alg"], "HS256");
    let claims = jwt_part(&user.access, 1);
    let fresh = json!({ "iat": now(), "exp": now() + 600 });
    let minted = hs256(SECRET.as_bytes(), &merge(&claims, &fresh), None);
    let res = app.me(&minted).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "a token minted with the secret is accepted"
    );
    (app, user, claims)
}

fn merge(claims: &Value, changes: &Value) -> Value {
    let mut out = claims.clone();
    for (k, v) in changes.as_object().expect("an object") {
        out[k] = v.clone();
    }
    out
}

#[tokio::test]
async fn an_expired_access_token_returns_401() {
    let (app, _, claims) = hs256_app().await;
    let expired = merge(
        &claims,
        &json!({ "iat": now() - 7200, "exp": now() - 3600 }),
    );

    assert_refused(
        &app,
        &hs256(SECRET.as_bytes(), &expired, None),
        "an expired token",
    )
    .await;
}

#[tokio::test]
async fn an_access_token_for_another_audience_returns_401() {
    let (app, _, claims) = hs256_app().await;
    let foreign = merge(&claims, &json!({ "aud": "another-service" }));

    assert_refused(
        &app,
        &hs256(SECRET.as_bytes(), &foreign, None),
        "a wrong aud",
    )
    .await;
}

#[tokio::test]
async fn an_access_token_from_another_issuer_returns_401() {
    let (app, _, claims) = hs256_app().await;
    let foreign = merge(&claims, &json!({ "iss": "https://evil.example" }));

    assert_refused(
        &app,
        &hs256(SECRET.as_bytes(), &foreign, None),
        "a wrong iss",
    )
    .await;
}

#[tokio::test]
async fn an_access_token_without_exp_returns_401() {
    let (app, _, mut claims) = hs256_app().await;
    claims.as_object_mut().expect("claims").remove("exp");

    assert_refused(
        &app,
        &hs256(SECRET.as_bytes(), &claims, None),
        "a token without exp",
    )
    .await;
}

#[tokio::test]
async fn an_access_token_whose_exp_is_not_a_number_returns_401() {
    // jsonwebtoken before 10.3 skipped an `exp` of the wrong type instead of refusing it.
    let (app, _, claims) = hs256_app().await;
    for exp in [
        json!("9999999999"),
        json!(null),
        json!({ "$date": 9_999_999_999_i64 }),
    ] {
        let odd = merge(&claims, &json!({ "exp": exp }));

        assert_refused(
            &app,
            &hs256(SECRET.as_bytes(), &odd, None),
            &format!("a token with exp {exp}"),
        )
        .await;
    }
}

#[tokio::test]
async fn an_access_token_signed_with_another_secret_returns_401() {
    let (app, _, claims) = hs256_app().await;
    let other = b"another-secret-of-at-least-thirty-two-bytes-9876";

    assert_refused(
        &app,
        &hs256(other, &claims, None),
        "a token of another secret",
    )
    .await;
}

#[tokio::test]
async fn an_access_token_naming_a_session_of_another_user_returns_401() {
    let (app, _, claims) = hs256_app().await;
    let other = app.register_user().await;
    let their_session = jwt_part(&other.access, 1)["sid"].clone();
    let mixed = merge(&claims, &json!({ "sid": their_session }));

    assert_refused(
        &app,
        &hs256(SECRET.as_bytes(), &mixed, None),
        "sub with a foreign sid",
    )
    .await;
}

#[tokio::test]
async fn an_access_token_whose_nbf_is_still_to_come_returns_401() {
    let (app, _, claims) = hs256_app().await;
    let later = merge(&claims, &json!({ "nbf": now() + 3600 }));

    assert_refused(
        &app,
        &hs256(SECRET.as_bytes(), &later, None),
        "a token not valid before an hour from now",
    )
    .await;

    let within_skew = merge(&claims, &json!({ "nbf": now() + 2 }));
    let res = app.me(&hs256(SECRET.as_bytes(), &within_skew, None)).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "an nbf within the skew is fine"
    );
}

#[tokio::test]
async fn an_access_token_naming_a_critical_extension_returns_401() {
    let (app, _, claims) = hs256_app().await;
    for crit in [vec!["exp"], vec!["b64"], vec![]] {
        let mut header = Header::new(Algorithm::HS256);
        header.crit = Some(crit.iter().map(|c| (*c).to_owned()).collect());
        let token = jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("signed");

        assert_refused(&app, &token, &format!("crit {crit:?}")).await;
    }
}

#[tokio::test]
async fn the_clock_skew_on_expiry_is_the_configured_one() {
    let lenient = TestApp::spawn_with(&[("AUTHGATE_TOKEN_CLOCK_SKEW", "60s")]).await;
    let strict = TestApp::spawn().await;
    let users = [lenient.register_user().await, strict.register_user().await];
    let past_expiry = std::time::Duration::from_secs(15 * 60 + 30);
    lenient.clock.advance(past_expiry);
    strict.clock.advance(past_expiry);

    let res = lenient.me(&users[0].access).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "30 s late is within 60 s of skew"
    );
    assert_refused(
        &strict,
        &users[1].access,
        "30 s past exp with the default 5 s",
    )
    .await;
}
