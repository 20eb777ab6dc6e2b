//! The administrative CLI against a running `authgate serve` (the real binary): it reaches
//! the server through its admin socket, so what it does takes effect at once, caches and
//! all, on every store (`AUTHGATE_TEST_BACKEND`), SQLite included.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::helpers::{database_url_for, Backend, PASSWORD};
use crate::process::{run, Server};

/// Registers `email` on `server`; returns the user's id and access token.
async fn register(server: &Server, email: &str) -> (String, String) {
    let body = json!({ "email": email, "password": PASSWORD, "name": "Ada" });
    let res = server.post("/api/auth/register", &body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    (
        res.str("/user/id").to_owned(),
        res.str("/accessToken").to_owned(),
    )
}

#[tokio::test]
async fn a_cli_disable_kills_the_users_live_access_token_on_the_next_request() {
    let dir = TempDir::new().expect("a temporary directory");
    let (url, _db) = database_url_for(Backend::from_env()).await;
    let env = [("AUTHGATE_DATABASE_URL", url.as_str())];
    let server = Server::start(dir.path(), &env).await;
    let (_, access) = register(&server, "dora@example.com").await;
    // Seen live once, so the server's caches hold the session and the user.
    assert_eq!(
        server.get_as("/api/auth/me", &access).await.status,
        StatusCode::OK
    );

    let (status, stdout, stderr) = run(
        dir.path(),
        &["user", "disable", "Dora@Example.com"],
        &env,
        "",
    )
    .await;

    assert!(status.success(), "{status}: {stderr}");
    assert!(stdout.starts_with("disabled "), "{stdout}");
    let me = server.get_as("/api/auth/me", &access).await;
    me.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    let login = json!({ "email": "dora@example.com", "password": PASSWORD });
    let res = server.post("/api/auth/login", &login).await;
    res.assert_error(StatusCode::FORBIDDEN, "account_disabled");
}

#[tokio::test]
async fn the_cli_lists_shows_and_changes_users_as_tables_or_json() {
    let dir = TempDir::new().expect("a temporary directory");
    let (url, _db) = database_url_for(Backend::from_env()).await;
    let env = [("AUTHGATE_DATABASE_URL", url.as_str())];
    let server = Server::start(dir.path(), &env).await;
    let (ada, access) = register(&server, "ada@example.com").await;
    register(&server, "bob@example.com").await;

    let (status, table, stderr) =
        run(dir.path(), &["user", "list", "--query", "AD"], &env, "").await;
    assert!(status.success(), "{status}: {stderr}");
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("EMAIL"),
        "{table}"
    );
    assert_eq!(lines.len(), 2, "a header and ada: {table}");
    assert!(lines[1].contains("ada@example.com") && lines[1].contains("enabled"));

    let (status, json, stderr) = run(dir.path(), &["user", "list", "--json"], &env, "").await;
    assert!(status.success(), "{status}: {stderr}");
    let listed: Value = serde_json::from_str(&json).expect("--json prints JSON");
    assert_eq!(listed["users"].as_array().unwrap().len(), 2, "{listed}");

    let args = ["user", "set-role", "ada@example.com", "admin", "--json"];
    let (status, out, stderr) = run(dir.path(), &args, &env, "").await;
    assert!(status.success(), "{status}: {stderr}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["user"]["role"],
        "admin"
    );
    // At once: ada's token now administers.
    let users = server.get_as("/api/auth/admin/users", &access).await;
    assert_eq!(users.status, StatusCode::OK, "{}", users.body);

    let (status, shown, _) = run(dir.path(), &["user", "show", &ada], &env, "").await;
    assert!(status.success());
    assert!(shown.contains("sessions        1"), "{shown}");

    // Ada is the only administrator: the operator cannot delete or demote her either.
    let (status, _, stderr) = run(dir.path(), &["user", "delete", &ada, "--yes"], &env, "").await;
    assert!(!status.success());
    assert!(stderr.contains("last_admin"), "{stderr}");
    let (status, _, stderr) =
        run(dir.path(), &["user", "delete", "bob@example.com"], &env, "").await;
    assert!(!status.success() && stderr.contains("--yes"), "{stderr}");

    // Audit events are stored off the request path: poll until the change is there.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, trail, stderr) =
            run(dir.path(), &["audit", "--type", "user_updated"], &env, "").await;
        assert!(status.success(), "{status}: {stderr}");
        if trail.contains("user_updated") {
            assert!(trail.contains("by operator"), "{trail}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no user_updated event: {trail}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn without_a_running_server_the_cli_says_so_and_exits_1() {
    let dir = TempDir::new().expect("a temporary directory");

    let (status, _, stderr) = run(dir.path(), &["user", "list"], &[], "").await;

    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("admin socket") && stderr.contains("authgate serve"),
        "{stderr}"
    );
}
