//! The harness: [`TestApp`] (one authgate per test, in-process, on 127.0.0.1 port 0, with a
//! database of its own) and a typed client whose methods return the raw
//! [`reqwest::Response`] (`client`), so each test asserts on status, headers and body itself
//! (`answer`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use authgate_core::clock::{Clock, ManualClock};
use authgate_core::secret::OpaqueToken;
use authgate_core::store::{NewOneTimeToken, OutgoingMail, TokenPurpose};
use authgate_core::AuthService;
use authgate_server::{App, Config};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod answer;
mod client;
pub(crate) mod nginx;
mod pages;

pub(crate) use answer::{cookie_attributes, cookie_value, jwt_part, jwt_segment, Answer};
pub(crate) use pages::Page;

/// A password every default policy accepts (upper, lower, digit; not common).
pub(crate) const PASSWORD: &str = "Analytical7Engine";
/// Another acceptable password, for changes and resets.
pub(crate) const NEW_PASSWORD: &str = "Difference9Engine";
/// The User-Agent every test client sends (sessions record it).
pub(crate) const USER_AGENT: &str = "authgate-api-tests/1.0";

#[path = "../support/backend.rs"]
mod backend;
pub(crate) use backend::{database_url_for, Backend, DbGuard};

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
pub(crate) struct TestApp {
    /// `http://127.0.0.1:<port>` (`https://` with built-in TLS): the base URL, also the
    /// public URL and allowed origin.
    pub address: String,
    /// `127.0.0.1:<port>` of the plain-HTTP redirect listener, when one is configured.
    pub(crate) redirect_addr: Option<std::net::SocketAddr>,
    /// A client that follows no redirects and keeps no cookies.
    pub api: reqwest::Client,
    /// The service behind the API, for set-ups the API cannot make (verified users).
    pub service: AuthService,
    /// The server's clock: it stands still unless a test advances it (tests never sleep
    /// to let time pass).
    pub(crate) clock: Arc<ManualClock>,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
    _db: DbGuard,
    /// Files the server writes (the mail outbox), never in the source tree.
    _scratch: tempfile::TempDir,
}

impl TestApp {
    /// Shuts the server down as SIGTERM would and waits until it has stopped: in-flight
    /// requests answered, background work flushed, the mail worker ended.
    pub(crate) async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let server = std::mem::replace(&mut self.server, tokio::spawn(async {}));
        let _ = server.await;
    }
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
pub(crate) fn unique_email() -> String {
    format!(
        "user{}@example.com",
        NEXT_USER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A registered user and the tokens of the session registration opened.
#[derive(Debug, Clone)]
pub(crate) struct TestUser {
    pub email: String,
    pub password: String,
    pub id: String,
    pub access: String,
    pub refresh: String,
}

/// The tokens of one session.
#[derive(Debug, Clone)]
pub(crate) struct Tokens {
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    /// An authgate with every setting at its default.
    pub(crate) async fn spawn() -> TestApp {
        TestApp::spawn_with(&[]).await
    }

    /// An authgate with some `AUTHGATE_*` settings given.
    pub(crate) async fn spawn_with(settings: &[(&str, &str)]) -> TestApp {
        init_test_log();
        let (database_url, db) = database_url_for(Backend::from_env()).await;
        let scratch = tempfile::tempdir().expect("a temporary directory");
        let outbox = scratch.path().join("mail-outbox").display().to_string();
        let socket = scratch.path().join("admin.sock").display().to_string();
        let mut env: HashMap<String, String> = HashMap::from([
            ("AUTHGATE_BIND".into(), "127.0.0.1:0".into()),
            ("AUTHGATE_DATABASE_URL".into(), database_url),
            ("AUTHGATE_MAIL_OUTBOX".into(), outbox),
            ("AUTHGATE_ADMIN_SOCKET".into(), socket),
        ]);
        for (key, value) in settings {
            env.insert((*key).to_owned(), (*value).to_owned());
        }
        let config = Config::from_sources(None, &env)
            .unwrap_or_else(|e| panic!("test configuration refused: {e}"));
        let clock = Arc::new(ManualClock::starting_now());
        let app = App::build_with_clock(config, clock.clone())
            .await
            .unwrap_or_else(|e| panic!("the test server did not start: {e}"));
        let scheme = if env.contains_key("AUTHGATE_TLS_CERT_FILE") {
            "https"
        } else {
            "http"
        };
        let address = format!("{scheme}://{}", app.local_addr());
        let redirect_addr = app.redirect_addr();
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
            redirect_addr,
            api: client_builder().build().expect("a reqwest client"),
            service,
            clock,
            shutdown: Some(tx),
            server,
            _db: db,
            _scratch: scratch,
        }
    }

    /// The absolute URL of `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A client that keeps cookies, as a browser would.
    pub(crate) fn browser(&self) -> reqwest::Client {
        client_builder()
            .cookie_store(true)
            .build()
            .expect("a reqwest client")
    }

    /// Registers a fresh user by email (name, email, password); panics unless 201.
    pub(crate) async fn register_user(&self) -> TestUser {
        let email = unique_email();
        self.register_with(json!({ "name": "Ada Lovelace", "email": email, "password": PASSWORD }))
            .await
    }

    /// Registers with the given body (which must hold `password`, and `email` or `username`);
    /// panics unless 201.
    pub(crate) async fn register_with(&self, body: Value) -> TestUser {
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

    /// A one-time token of `purpose` for the account of `email`, made through the store as
    /// the mail would carry it (tests that are not about the mail itself).
    pub(crate) async fn issue_token(&self, email: &str, purpose: TokenPurpose) -> String {
        self.issue_token_sent_to(email, email, purpose).await
    }

    /// A live one-time token of `purpose` for the account of `account_email`, as if mailed
    /// to `sent_to` (an address the account may no longer have).
    pub(crate) async fn issue_token_sent_to(
        &self,
        account_email: &str,
        sent_to: &str,
        purpose: TokenPurpose,
    ) -> String {
        let store = self.service.store();
        let user = store
            .find_user_by_email(&account_email.to_lowercase())
            .await
            .unwrap()
            .expect("a registered email");
        let token = OpaqueToken::generate();
        let now = self.clock.now();
        let record = NewOneTimeToken {
            hash: token.hash(),
            user_id: user.user.id.clone(),
            purpose,
            email: sent_to.to_lowercase(),
            created_at: now,
            expires_at: now + chrono::Duration::hours(1),
        };
        let mail = OutgoingMail {
            id: format!("test-{}", OpaqueToken::generate().expose()),
            to: sent_to.into(),
            subject: "t".into(),
            text_body: "t".into(),
            html_body: "t".into(),
        };
        store
            .create_one_time_token(&record, &mail, true)
            .await
            .unwrap();
        token.expose().to_owned()
    }

    /// The plain-text parts (`.txt` beside each `.eml`) of the first `count` mails in the
    /// outbox, oldest first, waiting up to 10 s for the mail worker to write them.
    pub(crate) async fn outbox_texts(&self, count: usize) -> Vec<String> {
        let dir = self._scratch.path().join("mail-outbox");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .map(|d| d.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            files.retain(|p| p.extension().is_some_and(|e| e == "txt"));
            files.sort();
            if files.len() >= count || std::time::Instant::now() > deadline {
                return files
                    .iter()
                    .filter_map(|p| std::fs::read_to_string(p).ok())
                    .collect();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The text of the first outbox mail containing `needle`, waiting up to 10 s for it.
    pub(crate) async fn outbox_text_containing(&self, needle: &str) -> Option<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let found = self
                .outbox_texts(0)
                .await
                .into_iter()
                .find(|t| t.contains(needle));
            if found.is_some() || std::time::Instant::now() > deadline {
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Logs `user` in again (a second device); panics unless 200.
    pub(crate) async fn login_as(&self, user: &TestUser) -> Tokens {
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
