//! GET /metrics: Prometheus text exposition of request, auth-event and queue metrics. The
//! recorder is process-wide (every test app shares it), so counters are compared before and
//! after rather than against absolute values.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, TestApp};

async fn scrape(app: &TestApp) -> String {
    let res = app
        .api
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    res.text().await.expect("a text body")
}

/// Every sample line of the exposition as (name, labels, value); panics on a line that is
/// neither a comment, blank, `name value` nor `name{labels} value`.
fn samples(text: &str) -> Vec<(String, String, f64)> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line:?}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("value is not a number: {line:?}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let labels = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line:?}"));
                (name, labels)
            }
            None => (series, ""),
        };
        let mut chars = name.chars();
        assert!(
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name: {line:?}"
        );
        out.push((name.to_owned(), labels.to_owned(), value));
    }
    out
}

fn value_of(text: &str, name: &str, labels: &str) -> f64 {
    samples(text)
        .into_iter()
        .find(|(n, l, _)| n == name && l == labels)
        .map_or(0.0, |(_, _, v)| v)
}

#[tokio::test]
async fn metrics_count_failed_logins_by_route_template_and_never_show_raw_paths() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let before = scrape(&app).await;
    let failed_before = value_of(
        &before,
        "authgate_auth_events_total",
        r#"event="login_failed""#,
    );

    let res = app
        .login(&json!({ "identifier": user.email, "password": "Wrong-password-1" }))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let token = "rawTokenMustNotAppearInMetrics0123456789";
    app.api
        .get(app.url(&format!("/api/auth/verify-email/{token}")))
        .send()
        .await
        .expect("GET verify-email");
    app.api
        .get(app.url(&format!("/no/such/route/{token}")))
        .send()
        .await
        .expect("GET an unknown path");

    let after = scrape(&app).await;
    let parsed = samples(&after);
    assert!(!parsed.is_empty(), "{after}");
    let failed_after = value_of(
        &after,
        "authgate_auth_events_total",
        r#"event="login_failed""#,
    );
    assert!(
        failed_after > failed_before,
        "{failed_before} -> {failed_after}\n{after}"
    );
    let has = |name: &str, parts: &[&str]| {
        parsed
            .iter()
            .any(|(n, l, _)| n == name && parts.iter().all(|p| l.contains(p)))
    };
    assert!(
        has(
            "authgate_http_requests_total",
            &[
                r#"route="/api/auth/login""#,
                r#"status="401""#,
                r#"method="POST""#
            ]
        ),
        "{after}"
    );
    assert!(
        has(
            "authgate_http_requests_total",
            &[r#"route="/api/auth/verify-email/{token}""#]
        ),
        "{after}"
    );
    assert!(
        has("authgate_http_requests_total", &[r#"route="<unmatched>""#]),
        "{after}"
    );
    assert!(
        has(
            "authgate_http_request_duration_seconds_bucket",
            &[r#"route="/api/auth/login""#]
        ),
        "{after}"
    );
    assert!(has("authgate_password_hash_queue_depth", &[]), "{after}");
    assert!(has("authgate_mail_queue_depth", &[]), "{after}");
    // The MongoDB driver does not report its pool; the SQL stores do.
    let pool_reported = !matches!(Backend::from_env(), Backend::MongoDb);
    for state in [r#"state="in_use""#, r#"state="idle""#] {
        assert_eq!(
            has("authgate_db_pool_connections", &[state]),
            pool_reported,
            "{after}"
        );
    }
    assert!(!after.contains(token), "a raw path leaked:\n{after}");
}

#[tokio::test]
async fn every_login_records_its_wait_for_a_hashing_thread_and_the_hash_time() {
    let app = TestApp::spawn().await;
    let user = app.register_user().await;
    let count = |text: &str, name: &str| value_of(text, &format!("{name}_count"), "");
    let before = scrape(&app).await;
    for _ in 0..3 {
        let res = app
            .login(&json!({ "identifier": user.email, "password": user.password }))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let after = scrape(&app).await;
    for name in [
        "authgate_password_hash_wait_seconds",
        "authgate_password_hash_duration_seconds",
    ] {
        let (b, a) = (count(&before, name), count(&after, name));
        // Other tests share the recorder, so at least our three.
        assert!(a >= b + 3.0, "{name}: {b} -> {a}\n{after}");
    }
    if !matches!(Backend::from_env(), Backend::MongoDb) {
        assert!(
            value_of(&after, "authgate_db_pool_max_connections", "") >= 1.0,
            "{after}"
        );
    }
}
