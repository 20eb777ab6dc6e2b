//! `authgate import`: an Express + Mongoose app's users, exported with mongoexport, are
//! imported by the real binary; they log in with their old passwords, which are then
//! upgraded to argon2id. The database is the one `AUTHGATE_TEST_BACKEND` names (SQLite by
//! default, `postgres`, `mongodb`), made as the HTTP suite makes it, and read back through
//! the server's own store selection.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use authgate_core::Store;
use authgate_server::{App, Config};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tokio::sync::oneshot;

#[path = "support/backend.rs"]
mod backend;
use backend::{database_url_for, Backend, DbGuard};

const BIN: &str = env!("CARGO_BIN_EXE_authgate");
const ADA_PASSWORD: &str = "Analytical7Engine";
const PLAIN_PASSWORD: &str = "Hunter2Hunter2Hunter2";

/// A hash that Node's bcryptjs 2.4 wrote (`bcrypt.hashSync("Express7Legacy", 4)`): the `$2a$`
/// prefix Express apps using bcryptjs store.
const BCRYPTJS_HASH: &str = "$2a$04$/ApBn/NbEwJXacaFLssASu51ONi.9SOg2/fN3Y6doI7a1aBAz2DbS";
const BCRYPTJS_PASSWORD: &str = "Express7Legacy";

/// A fresh database on the backend under test: its URL, and the guard that removes it.
async fn fresh_database() -> (String, DbGuard) {
    database_url_for(Backend::from_env()).await
}

/// The settings of a server (or a store connection) on `db_url`.
fn config(db_url: &str) -> Config {
    let env = HashMap::from([
        ("AUTHGATE_BIND".to_owned(), "127.0.0.1:0".to_owned()),
        ("AUTHGATE_DATABASE_URL".to_owned(), db_url.to_owned()),
        // Never the default ./mail-outbox, which would land in the source tree.
        ("AUTHGATE_MAIL_OUTBOX".to_owned(), outbox()),
    ]);
    Config::from_sources(None, &env).expect("a valid test configuration")
}

/// A mail outbox outside the source tree (these tests send no mail; the server makes it).
fn outbox() -> String {
    let dir = std::env::temp_dir().join("authgate-import-tests-outbox");
    dir.display().to_string()
}

/// The store at `db_url`, opened as the server opens it, migrated (harmless when it is).
async fn open_store(db_url: &str) -> Arc<dyn Store> {
    let store = authgate_server::store::connect(&config(db_url))
        .await
        .expect("opening the store");
    store.migrate().await.expect("migrating the store");
    store
}

/// A bcrypt hash as an Express app's `bcrypt.hash(password, saltRounds)` makes it.
fn bcrypt(password: &str) -> String {
    bcrypt::hash(password, 4).unwrap()
}

/// Runs `authgate import args...` in `dir` on `db_url` with a clean `AUTHGATE_*` environment.
fn import(dir: &Path, db_url: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AUTHGATE_") {
            cmd.env_remove(name);
        }
    }
    cmd.current_dir(dir)
        .env("AUTHGATE_DATABASE_URL", db_url)
        .env("AUTHGATE_LOG", "warn")
        .arg("import")
        .args(args)
        .output()
        .expect("authgate runs")
}

fn summary(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("a JSON summary on stdout")
}

/// The line numbers that `line N: field: problem` reports name.
fn reported_lines(out: &Output) -> BTreeSet<usize> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("line ")?.split(':').next()?.parse().ok())
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// mongoexport's JSON lines: 3 good users (lines 1, 3, 6) and 4 bad ones (2, 4, 7, 8).
fn mongoexport(dir: &Path) -> (std::path::PathBuf, Vec<String>) {
    let hashes = vec![
        bcrypt(ADA_PASSWORD),
        bcrypt("Compiler7Grace"),
        bcrypt("Kernel7Linus"),
    ];
    let lines = [
        json!({"_id": {"$oid": "5f1d7f3e2b3c4a0012345678"}, "email": "ada@example.com",
               "password": hashes[0], "name": "Ada Lovelace", "role": "admin",
               "emailVerified": true, "createdAt": {"$date": "2021-03-04T05:06:07.890Z"},
               "updatedAt": {"$date": "2022-01-01T00:00:00Z"}, "__v": 0})
        .to_string(),
        r#"{"email": "broken@example.com", "password": "#.to_owned(),
        json!({"_id": {"$oid": "5f1d7f3e2b3c4a0012345679"}, "email": "grace@example.com",
               "password": hashes[1], "firstName": "Grace", "lastName": "Hopper",
               "isVerified": false, "createdAt": {"$date": {"$numberLong": "1000000000000"}}})
        .to_string(),
        json!({"email": "plain@example.com", "password": PLAIN_PASSWORD}).to_string(),
        String::new(),
        json!({"email": "linus@example.com", "username": "linus_t", "password": hashes[2],
               "createdAt": "2020-01-02T03:04:05Z"})
        .to_string(),
        json!({"email": "ADA@Example.com", "password": bcrypt("Another7Ada")}).to_string(),
        json!({"email": "not-an-email", "password": bcrypt("Whatever7x")}).to_string(),
    ];
    let file = dir.join("users.json");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    (file, hashes)
}

fn assert_nothing_secret_printed(out: &Output, hashes: &[String]) {
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(out));
    assert!(
        !all.contains(PLAIN_PASSWORD),
        "a password was printed: {all}"
    );
    assert!(!all.contains("$2b$04$"), "a hash was printed: {all}");
    assert!(hashes.iter().all(|h| !all.contains(h.as_str())));
}

/// An authgate serving `db_url` in-process, and a client for it.
struct TestServer {
    client: reqwest::Client,
    addr: String,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<Result<(), authgate_server::Error>>,
}

impl TestServer {
    async fn start(db_url: &str) -> TestServer {
        let app = App::build(config(db_url)).await.expect("the server starts");
        let addr = app.local_addr().to_string();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run(async {
            let _ = stopped.await;
        }));
        TestServer {
            client: reqwest::Client::new(),
            addr,
            stop,
            server,
        }
    }

    /// Stops the server and checks that it stopped promptly and cleanly.
    async fn stop(self) {
        self.stop.send(()).unwrap();
        let stopped = tokio::time::timeout(Duration::from_secs(10), self.server).await;
        assert!(stopped.expect("prompt shutdown").unwrap().is_ok());
    }
}

async fn login(client: &reqwest::Client, addr: &str, email: &str, password: &str) -> u16 {
    let body = json!({ "email": email, "password": password });
    let res = client
        .post(format!("http://{addr}/api/auth/login"))
        .json(&body)
        .send()
        .await
        .expect("the server answers");
    res.status().as_u16()
}

#[tokio::test]
async fn imported_users_log_in_with_their_old_password_and_are_upgraded_to_argon2id() {
    let dir = tempfile::tempdir().unwrap();
    let (db_url, _db) = fresh_database().await;
    let (file, hashes) = mongoexport(dir.path());

    let out = import(dir.path(), &db_url, &[file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(summary(&out), json!({"imported": 3, "rejected": 4}));
    assert_eq!(reported_lines(&out), BTreeSet::from([2, 4, 7, 8]));
    let err = stderr(&out);
    assert!(err.contains("line 2: record: is not valid JSON"), "{err}");
    assert!(err.contains("line 4: password: must be a bcrypt"), "{err}");
    assert!(err.contains("line 7: email: is already taken"), "{err}");
    assert!(
        err.contains("line 8: email: must be a valid email address"),
        "{err}"
    );
    assert_nothing_secret_printed(&out, &hashes);

    let store = open_store(&db_url).await;
    let ada = store
        .find_user_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ada.password_hash, hashes[0],
        "kept as exported until a login"
    );
    assert_eq!(
        (ada.user.role.as_str(), ada.user.email_verified),
        ("admin", true)
    );
    let when: DateTime<Utc> = "2021-03-04T05:06:07.890Z".parse().unwrap();
    assert_eq!(ada.user.created_at, when);
    let grace = store
        .find_user_by_email("grace@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(grace.user.name.as_deref(), Some("Grace Hopper"));
    assert_eq!(grace.user.created_at.timestamp_millis(), 1_000_000_000_000);
    let linus = store
        .find_user_by_username("linus_t")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((linus.user.name, linus.user.role.as_str()), (None, "user"));
    assert!(store
        .find_user_by_email("plain@example.com")
        .await
        .unwrap()
        .is_none());

    let server = TestServer::start(&db_url).await;
    let (client, addr) = (&server.client, server.addr.as_str());
    assert_eq!(
        login(client, addr, "ada@example.com", "Wrong7Password").await,
        401
    );
    assert_eq!(
        login(client, addr, "Ada@Example.com", ADA_PASSWORD).await,
        200
    );
    let ada = store
        .find_user_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(
        ada.password_hash.starts_with("$argon2id$"),
        "rehashed at login"
    );
    assert_eq!(
        login(client, addr, "ada@example.com", ADA_PASSWORD).await,
        200
    );
    assert_eq!(
        login(client, addr, "grace@example.com", "Compiler7Grace").await,
        200
    );

    server.stop().await;
}

#[tokio::test]
async fn a_json_array_is_imported_and_reported_by_position() {
    let dir = tempfile::tempdir().unwrap();
    let (db_url, _db) = fresh_database().await;
    let file = dir.path().join("users.json");
    let export =
        |users: Value| std::fs::write(&file, serde_json::to_string_pretty(&users).unwrap());
    let hash = bcrypt("Whatever7x");

    export(json!([
        {"email": "a@example.com", "password": hash, "createdAt": {"$date": "2019-05-06T07:08:09Z"}},
        {"username": "bee", "email": "b@example.com", "password": hash},
    ]))
    .unwrap();
    let out = import(dir.path(), &db_url, &["users.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(summary(&out), json!({"imported": 2, "rejected": 0}));

    export(json!([
        {"email": "c@example.com", "password": hash},
        {"email": "A@example.com", "password": hash},
        {"email": "d@example.com", "password": PLAIN_PASSWORD},
    ]))
    .unwrap();
    let out = import(dir.path(), &db_url, &["users.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(summary(&out), json!({"imported": 1, "rejected": 2}));
    assert_eq!(reported_lines(&out), BTreeSet::from([2, 3]));
    assert!(stderr(&out).contains("line 2: email: is already taken"));
    assert_nothing_secret_printed(&out, &[hash]);

    let store = open_store(&db_url).await;
    assert!(store
        .find_user_by_email("c@example.com")
        .await
        .unwrap()
        .is_some());
    let a = store
        .find_user_by_email("a@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        a.user.created_at,
        "2019-05-06T07:08:09Z".parse::<DateTime<Utc>>().unwrap()
    );
}

#[tokio::test]
async fn a_dry_run_reports_the_same_problems_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (db_url, _db) = fresh_database().await;
    let (file, hashes) = mongoexport(dir.path());

    let out = import(dir.path(), &db_url, &[file.to_str().unwrap(), "--dry-run"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let expected = json!({"imported": 3, "rejected": 4, "dryRun": true});
    assert_eq!(summary(&out), expected);
    assert_eq!(reported_lines(&out), BTreeSet::from([2, 4, 7, 8]));
    assert_nothing_secret_printed(&out, &hashes);
    if let Some(path) = db_url.strip_prefix("sqlite://") {
        assert!(!Path::new(path).exists(), "no database was created");
    }

    // Against an existing database, accounts already there are conflicts, and none is added.
    let one = json!({"email": "ada@example.com", "password": hashes[0]}).to_string();
    std::fs::write(dir.path().join("one.json"), one).unwrap();
    let out = import(dir.path(), &db_url, &["one.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = import(dir.path(), &db_url, &[file.to_str().unwrap(), "--dry-run"]);
    assert_eq!(
        summary(&out),
        json!({"imported": 2, "rejected": 5, "dryRun": true})
    );
    assert!(stderr(&out).contains("line 1: email: is already taken"));
    let store = open_store(&db_url).await;
    assert!(store
        .find_user_by_email("grace@example.com")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_bcryptjs_2a_hash_imports_logs_in_and_is_upgraded_to_argon2id() {
    let dir = tempfile::tempdir().unwrap();
    let (db_url, _db) = fresh_database().await;
    let record = json!({"email": "node@example.com", "password": BCRYPTJS_HASH,
                        "name": "Node User", "createdAt": {"$date": "2018-07-08T09:10:11Z"}});
    std::fs::write(dir.path().join("node.json"), record.to_string()).unwrap();

    let out = import(dir.path(), &db_url, &["node.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(summary(&out), json!({"imported": 1, "rejected": 0}));
    assert_nothing_secret_printed(&out, &[BCRYPTJS_HASH.to_owned()]);
    let store = open_store(&db_url).await;
    let stored = |store: Arc<dyn Store>| async move {
        store
            .find_user_by_email("node@example.com")
            .await
            .unwrap()
            .expect("imported")
            .password_hash
    };
    assert_eq!(stored(Arc::clone(&store)).await, BCRYPTJS_HASH);

    let server = TestServer::start(&db_url).await;
    let (client, addr) = (&server.client, server.addr.as_str());
    let wrong = login(client, addr, "node@example.com", "Express7Legacz").await;
    assert_eq!(wrong, 401);
    let right = login(client, addr, "node@example.com", BCRYPTJS_PASSWORD).await;
    assert_eq!(right, 200);
    let upgraded = stored(Arc::clone(&store)).await;
    assert!(upgraded.starts_with("$argon2id$"), "rehashed at login");
    let again = login(client, addr, "node@example.com", BCRYPTJS_PASSWORD).await;
    assert_eq!(again, 200, "the argon2id hash verifies the same password");
    server.stop().await;
}
