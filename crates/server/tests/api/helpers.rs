//! The harness: [`TestApp`] (one authgate per test, in-process, on 127.0.0.1 port 0, with a
//! database of its own) and a typed client whose methods return the raw
//! [`reqwest::Response`], so each test asserts on status, headers and body itself.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

use authgate_core::AuthService;
use authgate_server::{App, Config};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A password every default policy accepts (upper, lower, digit; not common).
pub const PASSWORD: &str = "Analytical7Engine";
/// Another acceptable password, for changes and resets.
pub const NEW_PASSWORD: &str = "Difference9Engine";
/// The User-Agent every test client sends (sessions record it).
pub const USER_AGENT: &str = "authgate-api-tests/1.0";

/// The store a test server runs on, chosen by `AUTHGATE_TEST_BACKEND` (default `sqlite`).
///
/// A new backend is a new variant here, its name in [`Backend::from_env`], and an arm in
/// [`database_url_for`] that makes a fresh, empty database and a guard that removes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file in a temporary directory.
    Sqlite,
}

impl Backend {
    /// The backend named by `AUTHGATE_TEST_BACKEND`; panics on a name it does not know, so a
    /// typo never silently runs the suite on SQLite.
    pub fn from_env() -> Backend {
        match std::env::var("AUTHGATE_TEST_BACKEND")
            .as_deref()
            .map(str::trim)
        {
            Err(_) | Ok("") | Ok("sqlite") => Backend::Sqlite,
            Ok(other) => panic!("AUTHGATE_TEST_BACKEND={other:?}: this suite knows `sqlite`"),
        }
    }
}

/// Keeps a test database alive; dropping it removes the database.
pub enum DbGuard {
    /// The directory holding the SQLite file.
    Sqlite { _dir: tempfile::TempDir },
}

/// The one place a test database is made: a fresh, empty database of `backend`, as the URL
/// to give `AUTHGATE_DATABASE_URL`, and its guard.
pub async fn database_url_for(backend: Backend) -> (String, DbGuard) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let url = format!("sqlite://{}", dir.path().join("authgate.db").display());
            (url, DbGuard::Sqlite { _dir: dir })
        }
    }
}

/// Installs a log subscriber once per process when `TEST_LOG` is set (`1` means `debug`,
/// anything else is a filter such as `info,authgate_core=debug`). Tests are silent otherwise.
fn init_test_log() {
    static INIT: LazyLock<()> = LazyLock::new(|| {
        let Ok(value) = std::env::var("TEST_LOG") else {
            return;
        };
        let filter = match value.trim() {
            "" | "1" | "true" | "yes" => "debug".to_owned(),
            other => other.to_owned(),
        };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    });
    LazyLock::force(&INIT);
}

/// A running authgate and a client for it. Dropping it stops the server.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`: the base URL, also the public URL and allowed origin.
    pub address: String,
    /// A client that follows no redirects and keeps no cookies.
    pub api: reqwest::Client,
    /// The service behind the API, for set-ups the API cannot make (verified users).
    pub service: AuthService,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
    _db: DbGuard,
    /// Files the server writes (the mail outbox), never in the source tree.
    _scratch: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.server.abort();
    }
}

static NEXT_USER: AtomicU64 = AtomicU64::new(1);

/// A fresh email address (unique within the test process).
pub fn unique_email() -> String {
    format!(
        "user{}@example.com",
        NEXT_USER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A registered user and the tokens of the session registration opened.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub email: String,
    pub password: String,
    pub id: String,
    pub access: String,
    pub refresh: String,
}

/// The tokens of one session.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    /// An authgate with every setting at its default.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(&[]).await
    }

    /// An authgate with some `AUTHGATE_*` settings given.
    pub async fn spawn_with(settings: &[(&str, &str)]) -> TestApp {
        init_test_log();
        let (database_url, db) = database_url_for(Backend::from_env()).await;
        let scratch = tempfile::tempdir().expect("a temporary directory");
        let outbox = scratch.path().join("mail-outbox").display().to_string();
        let mut env: HashMap<String, String> = HashMap::from([
            ("AUTHGATE_BIND".into(), "127.0.0.1:0".into()),
            ("AUTHGATE_DATABASE_URL".into(), database_url),
            ("AUTHGATE_MAIL_OUTBOX".into(), outbox),
        ]);
        for (key, value) in settings {
            env.insert((*key).to_owned(), (*value).to_owned());
        }
        let config = Config::from_sources(None, &env)
            .unwrap_or_else(|e| panic!("test configuration refused: {e}"));
        let app = App::build(config)
            .await
            .unwrap_or_else(|e| panic!("the test server did not start: {e}"));
        let address = format!("http://{}", app.local_addr());
        let service = app.service().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = app
                .run(async {
                    let _ = rx.await;
                })
                .await;
        });
        TestApp {
            address,
            api: client_builder().build().expect("a reqwest client"),
            service,
            shutdown: Some(tx),
            server,
            _db: db,
            _scratch: scratch,
        }
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A client that keeps cookies, as a browser would.
    pub fn browser(&self) -> reqwest::Client {
        client_builder()
            .cookie_store(true)
            .build()
            .expect("a reqwest client")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.api.get(self.url(path)).send().await.expect("GET sent")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.api
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST sent")
    }

    /// A POST with a raw body and content type (`None`: no Content-Type header).
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Response {
        let mut req = self.api.post(self.url(path)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send().await.expect("POST sent")
    }

    pub async fn register(&self, body: &Value) -> Response {
        self.post_json("/api/auth/register", body).await
    }

    pub async fn login(&self, body: &Value) -> Response {
        self.post_json("/api/auth/login", body).await
    }

    pub async fn me(&self, access: &str) -> Response {
        self.api
            .get(self.url("/api/auth/me"))
            .bearer_auth(access)
            .send()
            .await
            .expect("GET /me sent")
    }

    pub async fn refresh_body(&self, refresh: &str) -> Response {
        self.post_json("/api/auth/refresh", &json!({ "refreshToken": refresh }))
            .await
    }

    /// A refresh carried by the `refreshToken` cookie only, with extra headers (Origin...).
    pub async fn refresh_cookie(&self, refresh: &str, headers: &[(&str, &str)]) -> Response {
        let mut req = self
            .api
            .post(self.url("/api/auth/refresh"))
            .header("cookie", format!("refreshToken={refresh}"));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send().await.expect("POST /refresh sent")
    }

    pub async fn logout(&self, access: &str, body: Option<&Value>) -> Response {
        let mut req = self
            .api
            .post(self.url("/api/auth/logout"))
            .bearer_auth(access);
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.expect("POST /logout sent")
    }

    pub async fn sessions(&self, access: &str) -> Response {
        self.api
            .get(self.url("/api/auth/sessions"))
            .bearer_auth(access)
            .send()
            .await
            .expect("GET /sessions sent")
    }

    pub async fn delete_session(&self, access: &str, id: &str) -> Response {
        self.api
            .delete(self.url(&format!("/api/auth/sessions/{id}")))
            .bearer_auth(access)
            .send()
            .await
            .expect("DELETE /sessions/:id sent")
    }

    pub async fn change_password(&self, access: &str, current: &str, new: &str) -> Response {
        self.api
            .post(self.url("/api/auth/change-password"))
            .bearer_auth(access)
            .json(&json!({ "currentPassword": current, "newPassword": new }))
            .send()
            .await
            .expect("POST /change-password sent")
    }

    pub async fn forgot_password(&self, email: &str) -> Response {
        self.post_json("/api/auth/forgot-password", &json!({ "email": email }))
            .await
    }

    pub async fn reset_password(&self, token: &str, new_password: &str) -> Response {
        let body = json!({ "token": token, "newPassword": new_password });
        self.post_json("/api/auth/reset-password", &body).await
    }

    pub async fn verify_email(&self, token: &str) -> Response {
        self.get(&format!("/api/auth/verify-email/{token}")).await
    }

    pub async fn resend_verification(&self, access: &str) -> Response {
        self.api
            .post(self.url("/api/auth/resend-verification"))
            .bearer_auth(access)
            .send()
            .await
            .expect("POST /resend-verification sent")
    }

    /// Registers a fresh user by email (name, email, password); panics unless 201.
    pub async fn register_user(&self) -> TestUser {
        let email = unique_email();
        self.register_with(json!({ "name": "Ada Lovelace", "email": email, "password": PASSWORD }))
            .await
    }

    /// Registers with the given body (which must hold `password`, and `email` or `username`);
    /// panics unless 201.
    pub async fn register_with(&self, body: Value) -> TestUser {
        let answer = Answer::of(self.register(&body).await).await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "register: {}",
            answer.body
        );
        let login = body["email"].as_str().or(body["username"].as_str());
        TestUser {
            email: login.expect("an email or a username").to_owned(),
            password: body["password"].as_str().expect("a password").to_owned(),
            id: answer.str("/user/id").to_owned(),
            access: answer.str("/accessToken").to_owned(),
            refresh: answer.str("/refreshToken").to_owned(),
        }
    }

    /// Logs `user` in again (a second device); panics unless 200.
    pub async fn login_as(&self, user: &TestUser) -> Tokens {
        let answer = Answer::of(
            self.login(&json!({ "identifier": user.email, "password": user.password }))
                .await,
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "login: {}", answer.body);
        Tokens {
            access: answer.str("/accessToken").to_owned(),
            refresh: answer.str("/refreshToken").to_owned(),
        }
    }
}

fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT)
}

/// A response read whole: status, headers and the body as JSON.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// Reads the response; panics if the body is not JSON.
    pub async fn of(res: Response) -> Answer {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("a readable body");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{status}: body is not JSON ({e}): {text:?}"));
        Answer {
            status,
            headers,
            body,
        }
    }

    /// The string at a JSON pointer; panics if absent or not a string.
    pub fn str(&self, pointer: &str) -> &str {
        self.body
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no string at {pointer} in {}", self.body))
    }

    /// A header's value as text, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the contract's error shape: this status, this code, a non-empty message, and
    /// no field besides `message`, `code` and `details`.
    #[track_caller]
    pub fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        let message = self.body["message"].as_str().unwrap_or("");
        assert!(!message.trim().is_empty(), "no message: {}", self.body);
        let lower = message.to_lowercase();
        for leak in [
            "sql",
            "argon2",
            "$2b$",
            "panicked",
            "backtrace",
            "src/",
            ".rs:",
        ] {
            assert!(
                !lower.contains(leak),
                "the message leaks {leak:?}: {message}"
            );
        }
        let object = self.body.as_object().expect("an error is a JSON object");
        for key in object.keys() {
            assert!(
                ["message", "code", "details"].contains(&key.as_str()),
                "unexpected field {key:?} in {}",
                self.body
            );
        }
        let json = self.header("content-type").unwrap_or("");
        assert!(
            json.starts_with("application/json"),
            "content type {json:?}"
        );
    }

    /// Asserts a 400 `validation_error` whose `details` name `field` with a problem.
    #[track_caller]
    pub fn assert_invalid_field(&self, field: &str) {
        self.assert_error(StatusCode::BAD_REQUEST, "validation_error");
        let problems = self.body["details"][field].as_array();
        assert!(
            problems.is_some_and(|p| !p.is_empty() && p.iter().all(Value::is_string)),
            "details do not name {field:?}: {}",
            self.body
        );
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    /// The `Set-Cookie` header of the `refreshToken` cookie, if there is exactly one.
    pub fn refresh_set_cookie(&self) -> Option<String> {
        let all: Vec<String> = self
            .set_cookies()
            .into_iter()
            .filter(|c| c.starts_with("refreshToken="))
            .collect();
        assert!(all.len() <= 1, "several refreshToken cookies: {all:?}");
        all.into_iter().next()
    }
}

/// The value of a `Set-Cookie` header (`name=value; ...` -> `value`).
pub fn cookie_value(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().unwrap_or("");
    pair.split_once('=').map_or("", |(_, v)| v)
}

/// The attributes of a `Set-Cookie` header, lower-cased (`max-age=0`, `samesite=lax`...).
pub fn cookie_attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}

/// A JWT segment (0 header, 1 claims) decoded as JSON.
pub fn jwt_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a JWT has three parts");
    let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url segment");
    serde_json::from_slice(&bytes).expect("a JSON segment")
}

/// Encodes JSON as an unpadded base64url JWT segment.
pub fn jwt_segment(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON"))
}
