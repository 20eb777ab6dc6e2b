//! The administrative subcommands: each is one or two requests to the running server on its
//! admin socket, printed as a table for people or as the server's JSON (`--json`).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::admin_client::{request, Answer};
use crate::cli::UserCommand;
use crate::cli_admin::{AuditArgs, ListUsers, UserRef};
use crate::config::Config;
use crate::error::Error;

/// The admin routes' common prefix.
const BASE: &str = "/api/auth/admin";

/// Runs a `user` subcommand other than `create` against the running server.
pub(crate) async fn user(command: UserCommand, config: &Config) -> Result<(), Error> {
    let socket = socket(config)?;
    let s = socket.as_path();
    match command {
        UserCommand::Create(_) => unreachable!("`user create` writes to the store directly"),
        UserCommand::List(args) => list(s, &args).await,
        UserCommand::Show(u) => {
            let id = resolve(s, &u.user).await?;
            let body = call(s, "GET", &format!("{BASE}/users/{id}"), None).await?;
            print(u.json, &body, || user_detail(&body));
            Ok(())
        }
        UserCommand::SetRole(a) => {
            let id = resolve(s, &a.user.user).await?;
            let patch = json!({ "role": a.role });
            let body = call(s, "PATCH", &format!("{BASE}/users/{id}"), Some(&patch)).await?;
            print(a.user.json, &body, || users_table(&[body["user"].clone()]));
            Ok(())
        }
        UserCommand::Disable(u) => set_disabled(s, &u, "disable").await,
        UserCommand::Enable(u) => set_disabled(s, &u, "enable").await,
        UserCommand::Delete(a) => {
            if !a.yes {
                return Err(Error::Input(format!(
                    "`user delete` erases {} with its sessions, tokens and mail for good; \
                     add --yes to do it",
                    a.user.user
                )));
            }
            let id = resolve(s, &a.user.user).await?;
            let body = call(s, "DELETE", &format!("{BASE}/users/{id}"), None).await?;
            print(a.user.json, &body, || format!("deleted {id}"));
            Ok(())
        }
        UserCommand::Sessions(u) => {
            let id = resolve(s, &u.user).await?;
            let body = call(s, "GET", &format!("{BASE}/users/{id}/sessions"), None).await?;
            print(u.json, &body, || sessions_table(&body["sessions"]));
            Ok(())
        }
        UserCommand::RevokeSessions(a) => {
            let id = resolve(s, &a.user.user).await?;
            let path = match &a.session {
                Some(sid) => format!("{BASE}/users/{id}/sessions/{}", encode(sid)),
                None => format!("{BASE}/users/{id}/sessions"),
            };
            let body = call(s, "DELETE", &path, None).await?;
            print(a.user.json, &body, || match body["revoked"].as_u64() {
                Some(n) => format!("ended {n} session(s) of {id}"),
                None => format!(
                    "ended session {} of {id}",
                    a.session.as_deref().unwrap_or("")
                ),
            });
            Ok(())
        }
        UserCommand::SendReset(a) => {
            let id = resolve(s, &a.user.user).await?;
            let req = json!({ "endSessions": a.end_sessions });
            let path = format!("{BASE}/users/{id}/send-reset");
            let body = call(s, "POST", &path, Some(&req)).await?;
            print(a.user.json, &body, || format!("reset link queued for {id}"));
            Ok(())
        }
    }
}

/// `authgate audit`.
pub(crate) async fn audit(args: AuditArgs, config: &Config) -> Result<(), Error> {
    let socket = socket(config)?;
    let s = socket.as_path();
    let user = match &args.user {
        Some(u) => Some(resolve_for_audit(s, u).await?),
        None => None,
    };
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("limit", &args.limit.to_string());
    for (key, value) in [
        ("user", user.as_deref()),
        ("type", args.kind.as_deref()),
        ("since", args.since.as_deref()),
        ("cursor", args.cursor.as_deref()),
    ] {
        if let Some(v) = value {
            q.append_pair(key, v);
        }
    }
    let body = call(s, "GET", &format!("{BASE}/audit?{}", q.finish()), None).await?;
    print(args.json, &body, || {
        with_cursor(audit_table(&body["events"]), &body["nextCursor"])
    });
    Ok(())
}

/// The admin socket of the configuration, or an error saying it is off.
fn socket(config: &Config) -> Result<PathBuf, Error> {
    config.admin_socket_path().ok_or_else(|| {
        Error::Input(
            "AUTHGATE_ADMIN_SOCKET is off: the user and audit commands need the running \
             server's admin socket"
                .into(),
        )
    })
}

async fn list(s: &Path, args: &ListUsers) -> Result<(), Error> {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("limit", &args.limit.to_string());
    if let Some(v) = &args.query {
        q.append_pair("query", v);
    }
    if let Some(v) = &args.role {
        q.append_pair("role", v);
    }
    if args.disabled || args.enabled {
        q.append_pair("disabled", if args.disabled { "true" } else { "false" });
    }
    if let Some(v) = &args.cursor {
        q.append_pair("cursor", v);
    }
    let body = call(s, "GET", &format!("{BASE}/users?{}", q.finish()), None).await?;
    let users = body["users"].as_array().cloned().unwrap_or_default();
    print(args.json, &body, || {
        with_cursor(users_table(&users), &body["nextCursor"])
    });
    Ok(())
}

async fn set_disabled(s: &Path, u: &UserRef, action: &str) -> Result<(), Error> {
    let id = resolve(s, &u.user).await?;
    let body = call(s, "POST", &format!("{BASE}/users/{id}/{action}"), None).await?;
    print(u.json, &body, || format!("{action}d {id}"));
    Ok(())
}

/// One request; a 4xx or 5xx answer becomes an error with the server's message.
async fn call(s: &Path, method: &str, path: &str, body: Option<&Value>) -> Result<Value, Error> {
    let Answer { status, body } = request(s, method, path, body).await?;
    if status < 400 {
        return Ok(body);
    }
    let message = body["message"].as_str().unwrap_or("request failed");
    let mut text = format!(
        "{message} ({status} {})",
        body["code"].as_str().unwrap_or("")
    );
    if let Some(details) = body["details"].as_object() {
        for (field, problems) in details {
            let problems: Vec<&str> = problems
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            text.push_str(&format!("\n{field}: {}", problems.join(", ")));
        }
    }
    Err(Error::Input(text))
}

/// The id of the account named by `who`: an id as it is, else the one account whose email
/// or username is `who` (any case).
async fn resolve(s: &Path, who: &str) -> Result<String, Error> {
    if uuid_like(who) {
        return Ok(who.to_owned());
    }
    let lower = who.trim().to_lowercase();
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("query", &lower).append_pair("limit", "100");
    let body = call(s, "GET", &format!("{BASE}/users?{}", q.finish()), None).await?;
    let users = body["users"].as_array().cloned().unwrap_or_default();
    let same = |v: &Value| v.as_str().is_some_and(|x| x.to_lowercase() == lower);
    users
        .iter()
        .find(|u| same(&u["email"]) || same(&u["username"]))
        .and_then(|u| u["id"].as_str().map(str::to_owned))
        .ok_or_else(|| Error::Input(format!("no account has the id, email or username {who:?}")))
}

/// Like [`resolve`], but an erased account's id (which no longer resolves) is kept as given.
async fn resolve_for_audit(s: &Path, who: &str) -> Result<String, Error> {
    if uuid_like(who) {
        Ok(who.to_owned())
    } else {
        resolve(s, who).await
    }
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

/// Prints the JSON (`--json`) or the table.
fn print(json: bool, body: &Value, table: impl FnOnce() -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(body).expect("JSON serializes")
        );
    } else {
        println!("{}", table());
    }
}

fn with_cursor(table: String, cursor: &Value) -> String {
    match cursor.as_str() {
        Some(c) => format!("{table}\nmore: --cursor {c}"),
        None => table,
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Left-aligned columns, two spaces apart, with a header row.
fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut out = vec![line(header.iter().map(|h| h.to_string()).collect())];
    if rows.is_empty() {
        out.push("(none)".into());
    }
    out.extend(rows.into_iter().map(line));
    out.join("\n")
}

fn users_table(users: &[Value]) -> String {
    let rows = users
        .iter()
        .map(|u| {
            vec![
                text(&u["id"]),
                text(&u["email"]),
                text(&u["username"]),
                text(&u["role"]),
                if u["disabled"] == true {
                    "disabled"
                } else {
                    "enabled"
                }
                .into(),
                text(&u["lastLoginAt"]),
            ]
        })
        .collect();
    table(
        &["ID", "EMAIL", "USERNAME", "ROLE", "STATE", "LAST LOGIN"],
        rows,
    )
}

fn user_detail(body: &Value) -> String {
    let u = &body["user"];
    let rows = [
        ("id", text(&u["id"])),
        ("email", text(&u["email"])),
        ("email verified", text(&u["emailVerified"])),
        ("username", text(&u["username"])),
        ("name", text(&u["name"])),
        ("role", text(&u["role"])),
        ("disabled", text(&u["disabledAt"])),
        ("created", text(&u["createdAt"])),
        ("last login", text(&u["lastLoginAt"])),
        ("sessions", text(&body["sessionCount"])),
    ];
    rows.iter()
        .map(|(k, v)| format!("{k:<15} {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn sessions_table(sessions: &Value) -> String {
    let rows = sessions
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    vec![
                        text(&s["id"]),
                        text(&s["createdAt"]),
                        text(&s["lastUsedAt"]),
                        text(&s["ip"]),
                        text(&s["userAgent"]),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    table(&["ID", "CREATED", "LAST USED", "IP", "USER AGENT"], rows)
}

fn audit_table(events: &Value) -> String {
    let rows = events
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    vec![
                        text(&e["at"]),
                        text(&e["type"]),
                        text(&e["outcome"]),
                        text(&e["userId"]),
                        text(&e["ip"]),
                        text(&e["detail"]),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    table(&["AT", "TYPE", "OUTCOME", "USER", "IP", "DETAIL"], rows)
}
