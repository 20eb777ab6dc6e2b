//! The `authgate` binary's short commands and exit codes.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_authgate");
const PASSWORD: &str = "Analytical7Engine";

/// Runs `authgate args...` in `dir` on `dir/authgate.db` with a clean `AUTHGATE_*`
/// environment plus `env`, feeding `stdin`.
fn authgate(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AUTHGATE_") {
            cmd.env_remove(name);
        }
    }
    cmd.current_dir(dir)
        .env(
            "AUTHGATE_DATABASE_URL",
            format!("sqlite://{}", dir.join("authgate.db").display()),
        )
        .env("AUTHGATE_LOG", "warn")
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("authgate starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().expect("authgate exits")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_bad_value_exits_2_naming_the_variable_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let out = authgate(
        dir.path(),
        &["migrate"],
        &[("AUTHGATE_ACCESS_TOKEN_TTL", "abc")],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "error: AUTHGATE_ACCESS_TOKEN_TTL: \"abc\" is not a duration (examples: 15m, 2h, 7d)"
        ),
        "{stderr}"
    );
    assert!(!dir.path().join("authgate.db").exists(), "nothing was done");
}

#[test]
fn a_short_jwt_secret_exits_2_without_printing_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = authgate(
        dir.path(),
        &["migrate"],
        &[("AUTHGATE_JWT_SECRET", "tooshort-secret")],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("AUTHGATE_JWT_SECRET"), "{stderr}");
    assert!(!stderr.contains("tooshort-secret"), "{stderr}");
}

#[test]
fn a_config_file_is_read_and_the_environment_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("authgate.toml");
    std::fs::write(&file, "access_token_ttl = \"nope\"\n").unwrap();
    let file = file.to_str().unwrap();
    let out = authgate(dir.path(), &["--config", file, "migrate"], &[], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("access_token_ttl (config file"),
        "{}",
        text(&out.stderr)
    );
    let out = authgate(
        dir.path(),
        &["migrate", "--config", file],
        &[("AUTHGATE_ACCESS_TOKEN_TTL", "1h")],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn user_create_reads_the_password_from_stdin_and_prints_the_user() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "user",
        "create",
        "--email",
        "root@example.com",
        "--username",
        "root",
        "--name",
        "Root",
        "--role",
        "admin",
    ];
    let out = authgate(dir.path(), &args, &[], &format!("{PASSWORD}\n"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let user: Value = serde_json::from_slice(&out.stdout).expect("the user as JSON");
    assert_eq!(
        (user["email"].as_str(), user["username"].as_str()),
        (Some("root@example.com"), Some("root"))
    );
    assert_eq!(
        (user["role"].as_str(), user["emailVerified"].as_bool()),
        (Some("admin"), Some(true))
    );
    assert!(!text(&out.stdout).contains(PASSWORD) && !text(&out.stderr).contains(PASSWORD));

    let again = authgate(dir.path(), &args, &[], &format!("{PASSWORD}\n"));
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("is already taken"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn user_create_refuses_an_empty_or_weak_password() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["user", "create", "--email", "a@example.com", "--name", "A"];
    let empty = authgate(dir.path(), &args, &[], "\n");
    assert_eq!(empty.status.code(), Some(1));
    assert!(
        text(&empty.stderr).contains("the password is empty"),
        "{}",
        text(&empty.stderr)
    );
    let weak = authgate(dir.path(), &args, &[], "password\n");
    assert_eq!(weak.status.code(), Some(1));
    assert!(
        text(&weak.stderr).contains("password (stdin):"),
        "{}",
        text(&weak.stderr)
    );
}

#[test]
fn keys_rotate_prints_a_new_key_id_each_time() {
    let dir = tempfile::tempdir().unwrap();
    let kid = |out: Output| -> String {
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let printed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        printed["kid"].as_str().expect("a kid").to_owned()
    };
    let first = kid(authgate(dir.path(), &["keys", "rotate"], &[], ""));
    let second = kid(authgate(dir.path(), &["keys", "rotate"], &[], ""));
    assert_ne!(first, second);
}

#[test]
fn each_subcommand_explains_itself() {
    let dir = tempfile::tempdir().unwrap();
    for (args, phrase) in [
        (&["--help"][..], "AUTHGATE_ACCESS_TOKEN_TTL"),
        (&["serve", "--help"][..], "in-flight"),
        (&["migrate", "--help"][..], "schema"),
        (&["user", "create", "--help"][..], "standard input"),
        (&["keys", "rotate", "--help"][..], "jwks.json"),
    ] {
        let out = authgate(dir.path(), args, &[], "");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(
            text(&out.stdout).contains(phrase),
            "{args:?} help lacks {phrase:?}"
        );
    }
    let none = authgate(dir.path(), &[], &[], "");
    assert_eq!(none.status.code(), Some(2), "a subcommand is required");
}
