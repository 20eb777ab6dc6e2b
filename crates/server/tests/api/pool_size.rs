//! `AUTHGATE_DATABASE_MAX_CONNECTIONS` reaches the store's pool, as `/metrics` shows it.

use reqwest::StatusCode;

use crate::helpers::{Backend, TestApp};

/// The value of the unlabelled sample `name` in a Prometheus text exposition.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .find_map(|value| value.trim().parse().ok())
}

#[tokio::test]
async fn the_max_connections_setting_sizes_the_pool_reported_on_metrics() {
    if Backend::from_env() != Backend::Postgres {
        // SQLite's pool has a fixed writer beside its readers, and the MongoDB driver reports
        // no pool: the setting's effect is visible as a number on PostgreSQL alone.
        return;
    }
    let app = TestApp::spawn_with(&[("AUTHGATE_DATABASE_MAX_CONNECTIONS", "3")]).await;
    // The gauge is process-wide and every app's /metrics sets it: another test scraping at
    // the same moment may overwrite it between our app's update and its rendering.
    let mut seen = Vec::new();
    for _ in 0..5 {
        let res = app.api.get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let value = sample(
            &res.text().await.unwrap(),
            "authgate_db_pool_max_connections",
        );
        if value == Some(3.0) {
            return;
        }
        seen.push(value);
    }
    panic!("authgate_db_pool_max_connections never read 3: {seen:?}");
}
