//! `authgate import`: an Express + Mongoose app's users, exported with mongoexport, are
//! imported by the real binary; they log in with their old passwords, which are then
//! upgraded to argon2id.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use authgate_core::store::UserStore;
use authgate_server::{App, Config};
use authgate_store_sql::SqliteStore;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tokio::sync::oneshot;

const BIN: &str = env!("CARGO_BIN_EXE_authgate");
const ADA_PASSWORD: &str = "Analytical7Engine";
const PLAIN_PASSWORD: &str = "Hunter2Hunter2Hunter2";

fn db_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("a.db").display())
}

/// A bcrypt hash as an Express app's `bcrypt.hash(password, saltRounds)` makes it.
fn bcrypt(password: &str) -> String {
    bcrypt::hash(password, 4).unwrap()
}

/// Runs `authgate import args...` on `dir/a.db` with a clean `AUTHGATE_*` environment.
fn import(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AUTHGATE_") {
            cmd.env_remove(name);
        }
    }
    cmd.current_dir(dir)
        .env("AUTHGATE_DATABASE_URL", db_url(dir))
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
    let (file, hashes) = mongoexport(dir.path());

    let out = import(dir.path(), &[file.to_str().unwrap()]);
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

    let store = SqliteStore::connect(&db_url(dir.path())).await.unwrap();
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

    let env = HashMap::from([
        ("AUTHGATE_BIND".to_owned(), "127.0.0.1:0".to_owned()),
        ("AUTHGATE_DATABASE_URL".to_owned(), db_url(dir.path())),
    ]);
    let app = App::build(Config::from_sources(None, &env).unwrap())
        .await
        .unwrap();
    let addr = app.local_addr().to_string();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    assert_eq!(
        login(&client, &addr, "ada@example.com", "Wrong7Password").await,
        401
    );
    assert_eq!(
        login(&client, &addr, "Ada@Example.com", ADA_PASSWORD).await,
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
        login(&client, &addr, "ada@example.com", ADA_PASSWORD).await,
        200
    );
    assert_eq!(
        login(&client, &addr, "grace@example.com", "Compiler7Grace").await,
        200
    );

    stop.send(()).unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(10), server).await;
    assert!(stopped.expect("prompt shutdown").unwrap().is_ok());
}

#[tokio::test]
async fn a_json_array_is_imported_and_reported_by_position() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.json");
    let export =
        |users: Value| std::fs::write(&file, serde_json::to_string_pretty(&users).unwrap());
    let hash = bcrypt("Whatever7x");

    export(json!([
        {"email": "a@example.com", "password": hash, "createdAt": {"$date": "2019-05-06T07:08:09Z"}},
        {"username": "bee", "email": "b@example.com", "password": hash},
    ]))
    .unwrap();
    let out = import(dir.path(), &["users.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(summary(&out), json!({"imported": 2, "rejected": 0}));

    export(json!([
        {"email": "c@example.com", "password": hash},
        {"email": "A@example.com", "password": hash},
        {"email": "d@example.com", "password": PLAIN_PASSWORD},
    ]))
    .unwrap();
    let out = import(dir.path(), &["users.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(summary(&out), json!({"imported": 1, "rejected": 2}));
    assert_eq!(reported_lines(&out), BTreeSet::from([2, 3]));
    assert!(stderr(&out).contains("line 2: email: is already taken"));
    assert_nothing_secret_printed(&out, &[hash]);

    let store = SqliteStore::connect(&db_url(dir.path())).await.unwrap();
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
    let (file, hashes) = mongoexport(dir.path());

    let out = import(dir.path(), &[file.to_str().unwrap(), "--dry-run"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let expected = json!({"imported": 3, "rejected": 4, "dryRun": true});
    assert_eq!(summary(&out), expected);
    assert_eq!(reported_lines(&out), BTreeSet::from([2, 4, 7, 8]));
    assert_nothing_secret_printed(&out, &hashes);
    assert!(!dir.path().join("a.db").exists(), "no database was created");

    // Against an existing database, accounts already there are conflicts, and none is added.
    let one = json!({"email": "ada@example.com", "password": hashes[0]}).to_string();
    std::fs::write(dir.path().join("one.json"), one).unwrap();
    assert_eq!(import(dir.path(), &["one.json"]).status.code(), Some(0));
    let out = import(dir.path(), &[file.to_str().unwrap(), "--dry-run"]);
    assert_eq!(
        summary(&out),
        json!({"imported": 2, "rejected": 5, "dryRun": true})
    );
    assert!(stderr(&out).contains("line 1: email: is already taken"));
    let store = SqliteStore::connect(&db_url(dir.path())).await.unwrap();
    assert!(store
        .find_user_by_email("grace@example.com")
        .await
        .unwrap()
        .is_none());
}
