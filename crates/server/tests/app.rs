//! `App` in-process: built on port 0 with its own SQLite file, served, and shut down.

use std::collections::HashMap;
use std::time::Duration;

use authgate_server::{App, Config};
use tokio::sync::oneshot;

fn config(dir: &tempfile::TempDir, extra: &[(&str, &str)]) -> Config {
    let db = format!("sqlite://{}", dir.path().join("authgate.db").display());
    let mut env = HashMap::from([
        ("AUTHGATE_BIND".to_owned(), "127.0.0.1:0".to_owned()),
        ("AUTHGATE_DATABASE_URL".to_owned(), db),
    ]);
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_sources(None, &env).expect("a valid test configuration")
}

#[tokio::test]
async fn an_app_on_port_0_serves_until_shutdown_and_then_returns_ok() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::build(config(&dir, &[])).await.expect("the app builds");
    let addr = app.local_addr();
    assert_ne!(addr.port(), 0, "a real port was bound");
    assert_eq!(
        app.public_url(),
        format!("http://{addr}"),
        "the default public URL names the bound port"
    );

    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    let health = reqwest::get(format!("http://{addr}/health"))
        .await
        .expect("the server answers");
    assert_eq!(health.status(), reqwest::StatusCode::OK);

    stop.send(()).unwrap();
    let result = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("shutdown is prompt");
    assert!(result.expect("the server task").is_ok());
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the port is closed after shutdown"
    );
}

#[tokio::test]
async fn an_explicit_public_url_is_kept_and_the_database_file_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::build(config(
        &dir,
        &[("AUTHGATE_PUBLIC_URL", "https://auth.example.com/")],
    ))
    .await
    .expect("the app builds");
    assert_eq!(app.public_url(), "https://auth.example.com");
    assert_eq!(
        app.service().config().public_url,
        "https://auth.example.com"
    );
    assert!(dir.path().join("authgate.db").exists());
}

#[tokio::test]
async fn a_second_app_on_the_same_database_reuses_its_signing_key() {
    let dir = tempfile::tempdir().unwrap();
    let first = App::build(config(&dir, &[])).await.unwrap();
    let jwks = first.service().jwks();
    drop(first);
    let second = App::build(config(&dir, &[])).await.unwrap();
    assert_eq!(second.service().jwks(), jwks);
}

#[tokio::test]
async fn an_unreachable_database_server_is_a_clear_start_up_error() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    for url in [
        format!("postgres://app:secret@127.0.0.1:{port}/auth"),
        format!("mongodb://127.0.0.1:{port}/auth"),
    ] {
        let Err(err) = App::build(config(&dir, &[("AUTHGATE_DATABASE_URL", &url)])).await else {
            panic!("{url} was accepted");
        };
        let text = err.to_string();
        assert!(text.contains("cannot connect to"), "{text}");
        assert!(!text.contains("secret"), "the password leaked: {text}");
    }
}

#[tokio::test]
async fn a_port_in_use_is_a_runtime_error() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let Err(err) = App::build(config(&dir, &[("AUTHGATE_BIND", &bind)])).await else {
        panic!("bound a port already in use");
    };
    assert_eq!(err.exit_code(), 1);
    assert!(
        err.to_string()
            .starts_with(&format!("cannot listen on {bind}")),
        "{err}"
    );
}

#[tokio::test]
async fn with_a_metrics_bind_metrics_are_served_there_and_not_on_the_api_port() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::build(config(&dir, &[("AUTHGATE_METRICS_BIND", "127.0.0.1:0")]))
        .await
        .expect("the app builds");
    let api = app.local_addr();
    let metrics = app.metrics_addr().expect("a metrics listener");
    assert_ne!(api, metrics);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));

    let on_metrics = reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .unwrap();
    assert_eq!(on_metrics.status(), reqwest::StatusCode::OK);
    assert!(on_metrics
        .text()
        .await
        .unwrap()
        .contains("authgate_password_hash_queue_depth"));
    let on_api = reqwest::get(format!("http://{api}/metrics")).await.unwrap();
    assert_eq!(on_api.status(), reqwest::StatusCode::NOT_FOUND);
    let api_on_metrics = reqwest::get(format!("http://{metrics}/health"))
        .await
        .unwrap();
    assert_eq!(api_on_metrics.status(), reqwest::StatusCode::NOT_FOUND);

    stop.send(()).unwrap();
    let result = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("shutdown is prompt");
    assert!(result.expect("the server task").is_ok());
}
