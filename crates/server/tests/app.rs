//! `App` in-process: built on port 0 with its own SQLite file, served, and shut down.

use std::collections::HashMap;
use std::time::Duration;

use authgate_server::{App, Config};
use tokio::sync::oneshot;

/// A configuration on port 0 with its database and mail outbox in `dir` (never in the
/// source tree), plus `extra` settings.
fn config(dir: &tempfile::TempDir, extra: &[(&str, &str)]) -> Config {
    let db = format!("sqlite://{}", dir.path().join("authgate.db").display());
    let outbox = dir.path().join("mail-outbox").display().to_string();
    let mut env = HashMap::from([
        ("AUTHGATE_BIND".to_owned(), "127.0.0.1:0".to_owned()),
        ("AUTHGATE_DATABASE_URL".to_owned(), db),
        ("AUTHGATE_MAIL_OUTBOX".to_owned(), outbox),
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

/// The start-up error of an app built with `extra` settings.
async fn start_up_error(dir: &tempfile::TempDir, extra: &[(&str, &str)]) -> String {
    match App::build(config(dir, extra)).await {
        Ok(_) => panic!("{extra:?} was accepted"),
        Err(err) => err.to_string(),
    }
}

#[tokio::test]
async fn an_unusable_outbox_folder_is_a_start_up_error_naming_authgate_mail_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let outbox = file.join("outbox").display().to_string();
    let text = start_up_error(&dir, &[("AUTHGATE_MAIL_OUTBOX", &outbox)]).await;
    assert!(
        text.contains("AUTHGATE_MAIL_OUTBOX: outbox: cannot create"),
        "{text}"
    );
    assert!(!text.contains("AUTHGATE_SMTP_URL"), "{text}");
}

#[tokio::test]
async fn a_from_address_the_mailer_refuses_is_a_start_up_error_naming_authgate_mail_from() {
    let dir = tempfile::tempdir().unwrap();
    // Passes the configuration's address check, but its display name is not valid.
    let from = "\"authgate <no-reply@example.com>";
    let text = start_up_error(&dir, &[("AUTHGATE_MAIL_FROM", from)]).await;
    assert!(text.contains("AUTHGATE_MAIL_FROM: "), "{text}");
    assert!(text.contains("From address"), "{text}");
}

#[tokio::test]
async fn an_unreadable_smtp_ca_file_is_a_start_up_error_naming_authgate_smtp_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("ca.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    for ca_file in [junk, dir.path().join("missing.pem")] {
        let ca_file = ca_file.display().to_string();
        let text = start_up_error(
            &dir,
            &[
                ("AUTHGATE_SMTP_URL", "smtps://ada:hunter2@mx.example.com"),
                ("AUTHGATE_SMTP_CA_FILE", &ca_file),
            ],
        )
        .await;
        assert!(text.contains("AUTHGATE_SMTP_CA_FILE: "), "{text}");
        assert!(text.contains(&ca_file), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}

#[tokio::test]
async fn without_smtp_a_registration_mail_lands_in_the_outbox_as_eml_and_txt() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::build(config(
        &dir,
        &[("AUTHGATE_PUBLIC_URL", "https://auth.example.com")],
    ))
    .await
    .expect("the app builds");
    let addr = app.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));

    let registered = reqwest::Client::new()
        .post(format!("http://{addr}/api/auth/register"))
        .json(&serde_json::json!({
            "email": "ada@example.com",
            "password": "Analytical7Engine",
            "name": "Ada",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), reqwest::StatusCode::CREATED);

    let outbox = dir.path().join("mail-outbox");
    let files = wait_for_outbox_files(&outbox, 2).await;
    stop.send(()).unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;

    let eml = files
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "eml"));
    let txt = eml.expect("an .eml file").with_extension("txt");
    let text = std::fs::read_to_string(&txt).expect("a .txt beside the .eml");
    assert!(text.starts_with("To: ada@example.com\n"), "{text}");
    let prefix = "https://auth.example.com/verify-email?token=";
    let link = text.lines().find(|l| l.starts_with(prefix));
    assert!(
        link.is_some_and(|l| l.len() > prefix.len() + 40),
        "one whole link to copy: {text}"
    );
}

/// Polls until `outbox` holds at least `count` files (ignoring `.partial` ones); 10 s at most.
async fn wait_for_outbox_files(outbox: &std::path::Path, count: usize) -> Vec<std::path::PathBuf> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let files: Vec<_> = std::fs::read_dir(outbox)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        let files: Vec<_> = files
            .into_iter()
            .filter(|p| !p.to_string_lossy().ends_with(".partial"))
            .collect();
        if files.len() >= count {
            return files;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {files:?} in the outbox after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
