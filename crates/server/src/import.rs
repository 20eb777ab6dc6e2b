//! `authgate import FILE`: users exported from an Express + Mongoose app (mongoexport's
//! JSON lines, or a JSON array) with their bcrypt hashes. Each record is imported on its
//! own; a refused one is reported on stderr as `line N: field: problem` and skipped.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use authgate_core::error::ValidationDetails;
use authgate_core::service::ImportRecord;
use authgate_core::{AuthConfig, AuthError, AuthService, Store};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::assemble::system_clock;
use crate::cli::ImportArgs;
use crate::config::{Config, DatabaseKind};
use crate::error::{describe, Error};
use crate::store::open_migrated;

/// Where valid records go: the database, or (`--dry-run`) nowhere.
enum Target {
    Write(AuthService),
    DryRun {
        existing: Option<Arc<dyn Store>>,
        seen: HashSet<String>,
    },
}

/// Imports every record of `args.file`, prints `{"imported": n, "rejected": m}` on stdout,
/// and fails (exit code 1) when any record was rejected.
pub(crate) async fn run(config: Config, args: ImportArgs) -> Result<(), Error> {
    let text = read(&args.file)?;
    let records =
        split_records(&text).map_err(|e| Error::Input(format!("{}: {e}", args.file.display())))?;
    let auth = config.auth_config();
    let mut target = if args.dry_run {
        let existing = existing_store(&config).await;
        let seen = HashSet::new();
        Target::DryRun { existing, seen }
    } else {
        let store = open_migrated(&config).await?;
        Target::Write(crate::assemble::service(&config, store, system_clock(), None).await?)
    };
    let (mut imported, mut rejected) = (0, 0);
    for (line, value) in &records {
        let result = match value {
            Err(problem) => Err(AuthError::field("record", problem)),
            Ok(value) => import_one(&mut target, value, &auth).await,
        };
        match result {
            Ok(()) => imported += 1,
            Err(AuthError::Validation { details, .. }) => {
                rejected += 1;
                for (field, problems) in details {
                    eprintln!("line {line}: {field}: {}", problems.join(", "));
                }
            }
            Err(AuthError::Conflict { field }) => {
                rejected += 1;
                eprintln!("line {line}: {field}: is already taken");
            }
            Err(e) => {
                return Err(Error::Input(format!(
                    "line {line}: import stopped ({imported} imported before it): {}",
                    describe(&e)
                )))
            }
        }
    }
    let mut summary = serde_json::json!({ "imported": imported, "rejected": rejected });
    if args.dry_run {
        summary["dryRun"] = Value::Bool(true);
    }
    println!("{summary}");
    match rejected {
        0 => Ok(()),
        n => Err(Error::Input(format!(
            "{n} of {} records were rejected (see the lines above)",
            records.len()
        ))),
    }
}

/// Imports (or, in a dry run, checks) one JSON record.
async fn import_one(
    target: &mut Target,
    value: &Value,
    auth: &AuthConfig,
) -> Result<(), AuthError> {
    let (record, mut problems) = parse_record(value);
    if problems.is_empty() {
        return target.import(record, auth).await;
    }
    if value.is_object() {
        // Name the other fields' problems too, so one run shows everything to fix.
        if let Err(AuthError::Validation { details, .. }) =
            record.validate(auth, system_clock().now())
        {
            for (field, p) in details {
                problems.entry(field).or_insert(p);
            }
        }
    }
    Err(AuthError::Validation {
        message: "Validation failed".into(),
        details: problems,
    })
}

impl Target {
    async fn import(&mut self, record: ImportRecord, auth: &AuthConfig) -> Result<(), AuthError> {
        let (existing, seen) = match self {
            Target::Write(service) => return service.import_user(record).await.map(drop),
            Target::DryRun { existing, seen } => (existing, seen),
        };
        let new = record.validate(auth, system_clock().now())?;
        let keys = [
            ("email", &new.email_normalized),
            ("username", &new.username_normalized),
        ];
        for (field, key) in keys {
            let Some(key) = key else { continue };
            let taken_in_db = match (existing.as_ref(), field) {
                (None, _) => false,
                (Some(store), "email") => store.find_user_by_email(key).await?.is_some(),
                (Some(store), _) => store.find_user_by_username(key).await?.is_some(),
            };
            if taken_in_db || !seen.insert(format!("{field}:{key}")) {
                return Err(AuthError::Conflict { field });
            }
        }
        Ok(())
    }
}

/// The existing database for a dry run to check conflicts against, without creating it.
async fn existing_store(config: &Config) -> Option<Arc<dyn Store>> {
    if config.database_url.kind() == DatabaseKind::Sqlite {
        let url = config.database_url.url().expose();
        let path = url
            .strip_prefix("sqlite://")
            .or(url.strip_prefix("sqlite:"))?;
        let path = path.split('?').next().unwrap_or_default();
        if path.contains(":memory:") || !Path::new(path).exists() {
            return None;
        }
    }
    let store = crate::store::connect(config).await;
    let checked = match &store {
        Ok(store) => store
            .find_user_by_email("")
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match checked {
        Ok(_) => store.ok(),
        Err(e) => {
            tracing::warn!("not checking existing accounts in the dry run: {e}");
            None
        }
    }
}

fn read(path: &Path) -> Result<String, Error> {
    let io = |source| Error::Io {
        context: format!("cannot read {}", path.display()),
        source,
    };
    if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).map_err(io)
    } else {
        std::fs::read_to_string(path).map_err(io)
    }
}

/// A record's line number (JSON lines) or position (array), and the record or why it is
/// not JSON.
type Numbered = (usize, Result<Value, String>);

/// The records of an export; fails only when a JSON array is not valid JSON.
fn split_records(text: &str) -> Result<Vec<Numbered>, String> {
    let text = text.trim_start_matches('\u{feff}');
    if text.trim_start().starts_with('[') {
        let array: Vec<Value> =
            serde_json::from_str(text).map_err(|e| format!("not a valid JSON array: {e}"))?;
        return Ok(array
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i + 1, Ok(v)))
            .collect());
    }
    let lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    Ok(lines
        .map(|(i, line)| {
            let parsed = serde_json::from_str(line).map_err(|e| {
                let text = e.to_string();
                let what = text.split(" at line ").next().unwrap_or("invalid");
                format!("is not valid JSON ({what} at column {})", e.column())
            });
            (i + 1, parsed)
        })
        .collect())
}

/// Reads the Mongoose fields of one document; the problems name the field.
fn parse_record(value: &Value) -> (ImportRecord, ValidationDetails) {
    let mut problems = ValidationDetails::new();
    let Some(doc) = value.as_object() else {
        problems.insert("record".into(), vec!["must be a JSON object".into()]);
        return (ImportRecord::default(), problems);
    };
    let mut text = |key: &str| string(doc, key, &mut problems);
    let record = ImportRecord {
        email: text("email"),
        username: text("username"),
        name: text("name"),
        first_name: text("firstName"),
        last_name: text("lastName"),
        role: text("role"),
        password_hash: text("password"),
        created_at: None,
        email_verified: None,
    };
    let verified = match doc.get("emailVerified").filter(|v| !v.is_null()) {
        Some(v) => Some(("emailVerified", v)),
        None => doc
            .get("isVerified")
            .filter(|v| !v.is_null())
            .map(|v| ("isVerified", v)),
    };
    let email_verified = verified.and_then(|(key, v)| match v.as_bool() {
        None => fail(&mut problems, key, "must be true or false"),
        b => b,
    });
    let created_at = match doc.get("createdAt").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => date(v).or_else(|| {
            let problem = r#"must be an RFC 3339 date, {"$date": "..."} or {"$date": {"$numberLong": "..."}}"#;
            fail(&mut problems, "createdAt", problem)
        }),
    };
    (
        ImportRecord {
            created_at,
            email_verified,
            ..record
        },
        problems,
    )
}

/// A string field; absent, `null` and blank are all "not given".
fn string(doc: &Map<String, Value>, key: &str, problems: &mut ValidationDetails) -> Option<String> {
    match doc.get(key)? {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        _ => fail(problems, key, "must be a string"),
    }
}

/// `"2021-03-04T05:06:07Z"`, `{"$date": "..."}`, `{"$date": 1614834367000}` or
/// `{"$date": {"$numberLong": "1614834367000"}}`.
fn date(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
            .ok()
            .map(|d| d.with_timezone(&Utc)),
        Value::Number(n) => DateTime::from_timestamp_millis(n.as_i64()?),
        Value::Object(o) if o.len() == 1 => match o.get("$date").or(o.get("$numberLong"))? {
            Value::String(s) if o.contains_key("$numberLong") => {
                DateTime::from_timestamp_millis(s.parse().ok()?)
            }
            inner => date(inner),
        },
        _ => None,
    }
}

fn fail<T>(problems: &mut ValidationDetails, field: &str, problem: &str) -> Option<T> {
    problems.insert(field.to_owned(), vec![problem.to_owned()]);
    None
}
