//! The real `authgate` binary: durability across `kill -9`, graceful shutdown on SIGTERM,
//! start-up refusal of bad configuration, the `user create`, `migrate` and `--help`
//! commands, and logs that never carry a secret. Durability and shutdown run on SQLite files
//! on purpose (a file that must survive the process); `user create` and `migrate` run on the
//! backend `AUTHGATE_TEST_BACKEND` names.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::helpers::{database_url_for, jwt_part, Answer, Backend, PASSWORD};

const BIN: &str = env!("CARGO_BIN_EXE_authgate");
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// `authgate` with a clean `AUTHGATE_*` environment, working in `dir`, on `dir/authgate.db`.
fn authgate(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AUTHGATE_") {
            cmd.env_remove(name);
        }
    }
    let db = format!("sqlite://{}", dir.join("authgate.db").display());
    cmd.current_dir(dir)
        .env("AUTHGATE_DATABASE_URL", db)
        .stdin(Stdio::null());
    cmd
}

/// A port that was free a moment ago (the server must bind it itself, so it can be known).
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

/// A running `authgate serve`, its stderr going to a file in the test's directory.
pub(crate) struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    log: PathBuf,
    client: reqwest::Client,
}

impl Server {
    /// Starts `authgate serve` in `dir` and waits until `/health` answers.
    pub(crate) async fn start(dir: &Path, settings: &[(&str, &str)]) -> Server {
        Server::start_on(dir, free_port(), settings).await
    }

    /// [`Server::start`] on a given port of 127.0.0.1 (a node restarted behind a load
    /// balancer that knows its address); its log goes on after an earlier run's.
    pub(crate) async fn start_on(dir: &Path, port: u16, settings: &[(&str, &str)]) -> Server {
        let log = dir.join(format!("serve-{port}.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("a log file");
        let mut cmd = authgate(dir);
        cmd.arg("serve")
            .env("AUTHGATE_BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(file);
        for (key, value) in settings {
            cmd.env(key, value);
        }
        let child = cmd.spawn().expect("authgate starts");
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client"),
        };
        server.wait_until_healthy().await;
        server
    }

    async fn wait_until_healthy(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child's status") {
                panic!("authgate exited early ({status}): {}", self.stderr());
            }
            let health = self
                .client
                .get(format!("{}/health", self.base))
                .send()
                .await;
            if health.is_ok_and(|r| r.status() == StatusCode::OK) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "authgate did not start: {}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `GET path` with `access` as bearer token.
    pub(crate) async fn get_as(&self, path: &str, access: &str) -> Answer {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(access)
            .send();
        Answer::of(res.await.expect("request sent")).await
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> Answer {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .json(body)
            .send();
        Answer::of(res.await.expect("request sent")).await
    }

    /// Kills the process with SIGKILL and waits until it is gone (a crash: nothing is
    /// flushed or closed by the server).
    pub(crate) fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL sent");
        self.child.wait().expect("the process is gone");
    }

    /// `POST path` with `access` as bearer token.
    pub(crate) async fn post_as(&self, path: &str, body: &Value, access: &str) -> Answer {
        self.send_as(reqwest::Method::POST, path, body, access)
            .await
    }

    /// `method path` with a JSON body and `access` as bearer token.
    pub(crate) async fn send_as(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        access: &str,
    ) -> Answer {
        let res = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(access)
            .json(body)
            .send();
        Answer::of(res.await.expect("request sent")).await
    }

    /// `POST path` as if from `ip` (the server must trust 127.0.0.1 as a proxy).
    pub(crate) async fn post_from(&self, path: &str, body: &Value, ip: &str) -> Answer {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .header("x-forwarded-for", ip)
            .json(body)
            .send();
        Answer::of(res.await.expect("request sent")).await
    }

    /// Stops the server with SIGTERM (as systemd or Kubernetes do) and waits until it has
    /// drained and exited with status 0.
    pub(crate) async fn terminate(&mut self) {
        self.signal("TERM");
        self.assert_exits_with_0().await;
    }

    /// Sends `signal` (`INT`, `TERM`) to the server with kill(1).
    fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let status = std::process::Command::new("kill")
            .args(["-s", signal, &pid])
            .status()
            .expect("kill(1) runs");
        assert!(status.success(), "kill -s {signal} {pid} failed");
    }

    /// Waits (up to 30 s) for the process to exit on its own, and fails unless with status 0.
    async fn assert_exits_with_0(&mut self) {
        let status = self.exit_status(Duration::from_secs(30)).await;
        assert_eq!(
            status.code(),
            Some(0),
            "exit: {status}; stderr: {}",
            self.stderr()
        );
    }

    /// Waits for the process to exit on its own; kills it and fails after `limit`.
    async fn exit_status(&mut self, limit: Duration) -> ExitStatus {
        wait_for(&mut self.child, limit, &self.log).await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::env::var_os("TEST_LOG").is_some() {
            eprintln!("--- authgate stderr ({}) ---\n{}", self.base, self.stderr());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_for(child: &mut Child, limit: Duration, log: &Path) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = std::fs::read_to_string(log).unwrap_or_default();
            panic!("authgate did not exit within {limit:?}: {stderr}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs a short command to completion (stdin given or empty); returns status, stdout, stderr.
pub(crate) async fn run(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
) -> (ExitStatus, String, String) {
    let (out, err) = (dir.join("cmd.out"), dir.join("cmd.err"));
    let mut cmd = authgate(dir);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(File::create(&out).expect("a file"))
        .stderr(File::create(&err).expect("a file"));
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut child = cmd.spawn().expect("authgate starts");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("stdin written");
    drop(input);
    let status = wait_for(&mut child, START_TIMEOUT, &err).await;
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    (status, read(&out), read(&err))
}

fn registration(email: &str) -> Value {
    json!({ "email": email, "password": PASSWORD, "name": "Durable Dora" })
}

#[tokio::test]
async fn a_registered_user_survives_kill_9_right_after_the_201() {
    let dir = TempDir::new().expect("a temporary directory");
    let mut server = Server::start(dir.path(), &[]).await;
    let created = server
        .post("/api/auth/register", &registration("dora@example.com"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);

    server.child.kill().expect("SIGKILL sent");
    server.child.wait().expect("the process is gone");
    let restarted = Server::start(dir.path(), &[]).await;

    let login = json!({ "email": "dora@example.com", "password": PASSWORD });
    let res = restarted.post("/api/auth/login", &login).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["user"]["id"], created.body["user"]["id"]);
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_login_finish_and_exits_with_0() {
    let dir = TempDir::new().expect("a temporary directory");
    // A deliberately slow hash (most of a second) keeps the login in flight at the signal.
    let slow = [("AUTHGATE_HASH_ITERATIONS", "80")];
    let mut server = Server::start(dir.path(), &slow).await;
    let created = server
        .post("/api/auth/register", &registration("slow@example.com"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);

    let request = server
        .client
        .post(format!("{}/api/auth/login", server.base))
        .json(&json!({ "email": "slow@example.com", "password": PASSWORD }))
        .send();
    let login = tokio::spawn(async move {
        let res = request.await;
        (res, Instant::now())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.signal("TERM");
    let signalled = Instant::now();

    let (res, answered) = login.await.expect("the login task");
    let res = res.expect("the in-flight login got an answer");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        answered > signalled,
        "the login finished before the signal; make it slower"
    );
    server.assert_exits_with_0().await;
}

#[tokio::test]
async fn sigint_stops_an_idle_server_with_exit_status_0() {
    let dir = TempDir::new().expect("a temporary directory");
    let mut server = Server::start(dir.path(), &[]).await;

    server.signal("INT");

    server.assert_exits_with_0().await;
}

#[tokio::test]
async fn a_bad_config_value_stops_start_up_naming_the_variable() {
    let dir = TempDir::new().expect("a temporary directory");
    let bind = format!("127.0.0.1:{}", free_port());
    let env = [
        ("AUTHGATE_ACCESS_TOKEN_TTL", "abc"),
        ("AUTHGATE_BIND", bind.as_str()),
    ];

    let (status, _, stderr) = run(dir.path(), &["serve"], &env, "").await;

    assert!(
        !status.success(),
        "authgate started with a bad TTL: {status}"
    );
    assert!(
        stderr.contains("AUTHGATE_ACCESS_TOKEN_TTL"),
        "stderr: {stderr}"
    );
}

#[tokio::test]
async fn user_create_makes_an_admin_who_can_log_in_with_role_admin() {
    let dir = TempDir::new().expect("a temporary directory");
    let args = [
        "user",
        "create",
        "--email",
        "root@example.com",
        "--name",
        "Root",
        "--role",
        "admin",
    ];

    let (url, _db) = database_url_for(Backend::from_env()).await;
    let on_backend = [("AUTHGATE_DATABASE_URL", url.as_str())];

    let (status, stdout, stderr) =
        run(dir.path(), &args, &on_backend, &format!("{PASSWORD}\n")).await;

    assert!(status.success(), "{status}: {stderr}");
    let printed: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not the user as JSON ({e}): {stdout}"));
    assert_eq!(printed["email"], "root@example.com", "{printed}");
    assert_eq!(printed["role"], "admin", "{printed}");
    assert!(
        !stdout.contains(PASSWORD) && !stderr.contains(PASSWORD),
        "the password was printed"
    );

    let server = Server::start(dir.path(), &on_backend).await;
    let login = json!({ "email": "root@example.com", "password": PASSWORD });
    let res = server.post("/api/auth/login", &login).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["user"]["role"], "admin");
    assert_eq!(jwt_part(res.str("/accessToken"), 1)["role"], "admin");
}

#[tokio::test]
async fn migrate_creates_the_schema_and_exits_0_every_time() {
    let dir = TempDir::new().expect("a temporary directory");
    let (url, _db) = database_url_for(Backend::from_env()).await;
    let on_backend = [("AUTHGATE_DATABASE_URL", url.as_str())];

    for round in 0..2 {
        let (status, _, stderr) = run(dir.path(), &["migrate"], &on_backend, "").await;
        assert_eq!(status.code(), Some(0), "round {round}: {stderr}");
    }

    let server = Server::start(dir.path(), &on_backend).await;
    let ready = server
        .client
        .get(format!("{}/ready", server.base))
        .send()
        .await;
    assert_eq!(ready.expect("GET /ready").status(), StatusCode::OK);
    let user = server
        .post("/api/auth/register", &registration("migrated@example.com"))
        .await;
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.body);
}

#[tokio::test]
async fn the_start_up_log_shows_the_effective_configuration_with_secrets_redacted() {
    let dir = TempDir::new().expect("a temporary directory");
    let jwt_secret = "a-jwt-secret-that-must-never-be-logged-7f3e";
    let smtp = "smtp://mailer:smtp-pass-never-logged-9c1d@127.0.0.1:1";
    let settings = [
        ("AUTHGATE_JWT_SECRET", jwt_secret),
        ("AUTHGATE_SMTP_URL", smtp),
    ];
    let mut server = Server::start(dir.path(), &settings).await;
    server.signal("TERM");
    server.exit_status(Duration::from_secs(30)).await;

    let logs = server.stderr();
    let line = logs
        .lines()
        .find(|l| l.contains("effective configuration"))
        .unwrap_or_else(|| panic!("no configuration line:\n{logs}"));
    assert!(line.contains("jwt_secret=<redacted>"), "{line}");
    assert!(line.contains("access_token_ttl"), "{line}");
    assert!(!logs.contains(jwt_secret), "the JWT secret was logged");
    assert!(
        !logs.contains("smtp-pass-never-logged-9c1d"),
        "the SMTP password was logged"
    );
}

#[tokio::test]
async fn help_lists_the_serve_migrate_and_user_commands() {
    let dir = TempDir::new().expect("a temporary directory");

    let (status, stdout, stderr) = run(dir.path(), &["--help"], &[], "").await;

    assert!(status.success(), "{status}: {stderr}");
    for command in ["serve", "migrate", "user"] {
        let listed = stdout.lines().any(|l| l.trim_start().starts_with(command));
        assert!(listed, "{command} is not listed:\n{stdout}");
    }
}

#[tokio::test]
async fn debug_logs_never_contain_passwords_or_tokens_but_do_carry_audit_events() {
    let dir = TempDir::new().expect("a temporary directory");
    let settings = [("AUTHGATE_LOG", "debug"), ("AUTHGATE_LOG_FORMAT", "json")];
    let mut server = Server::start(dir.path(), &settings).await;
    let registered = server
        .post("/api/auth/register", &registration("quiet@example.com"))
        .await;
    let login = json!({ "email": "quiet@example.com", "password": PASSWORD });
    let logged_in = server.post("/api/auth/login", &login).await;
    let refresh = json!({ "refreshToken": logged_in.str("/refreshToken") });
    let refreshed = server.post("/api/auth/refresh", &refresh).await;
    for a in [&registered, &logged_in, &refreshed] {
        assert!(a.status.is_success(), "{}", a.body);
    }
    server.signal("TERM");
    let status = server.exit_status(Duration::from_secs(30)).await;
    assert!(status.success(), "{status}");

    let logs = server.stderr();
    let secrets = [
        ("the password", PASSWORD),
        (
            "the register refresh token",
            registered.str("/refreshToken"),
        ),
        ("the login refresh token", logged_in.str("/refreshToken")),
        ("the rotated refresh token", refreshed.str("/refreshToken")),
        ("the register access token", registered.str("/accessToken")),
        ("the login access token", logged_in.str("/accessToken")),
        ("the refreshed access token", refreshed.str("/accessToken")),
    ];
    for (what, secret) in secrets {
        assert!(!logs.contains(secret), "the logs contain {what}");
    }
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        let parsed: Result<Value, _> = serde_json::from_str(line);
        assert!(
            parsed.is_ok_and(|v| v.is_object()),
            "not a JSON log line: {line}"
        );
    }
    assert!(
        logs.contains("\"event\":\"login_succeeded\""),
        "no login audit line:\n{logs}"
    );
}
