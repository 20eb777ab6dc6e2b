//! The one place where `sqlx` errors become [`StoreError`]s, for every SQL backend.
//!
//! Unique violations are recognised by the constraint name (PostgreSQL, SQLSTATE 23505:
//! `users_email_normalized_key`) or the message (SQLite: `UNIQUE constraint failed:
//! users.email_normalized`), both of which name the column, so the same rule serves both
//! dialects.
//!
//! "Try again later" errors become [`StoreError::Unavailable`]; each dialect's codes are only
//! looked at on that dialect's errors (a PostgreSQL SQLSTATE is never read as an SQLite code).

use authgate_core::StoreError;
use sqlx::error::DatabaseError;
use sqlx::postgres::PgDatabaseError;
use sqlx::sqlite::SqliteError;

/// Unique constraints (or the columns in their names) whose violation is a user-facing
/// conflict, and the field each one names.
const CONFLICT_FIELDS: &[(&str, &str)] = &[
    // SQLite `users.email_normalized`; PostgreSQL index `users_email_normalized_key`.
    ("email_normalized", "email"),
    // SQLite `users.username_normalized`; PostgreSQL index `users_username_normalized_key`.
    ("username_normalized", "username"),
    // SQLite names the column, PostgreSQL the primary key constraint.
    ("signing_keys.kid", "kid"),
    ("signing_keys_pkey", "kid"),
];

/// SQLite primary result codes that mean "try again later" rather than "this is wrong":
/// `SQLITE_BUSY` (5), `SQLITE_LOCKED` (6), `SQLITE_CANTOPEN` (14).
const SQLITE_UNAVAILABLE_CODES: &[i64] = &[5, 6, 14];

/// PostgreSQL SQLSTATE classes meaning the server cannot serve us now: `08` connection
/// exception, `53` insufficient resources (e.g. 53300 too many connections).
const PG_UNAVAILABLE_CLASSES: &[&str] = &["08", "53"];

/// PostgreSQL SQLSTATEs for a server shutting down, crashed, or still starting up.
const PG_UNAVAILABLE_CODES: &[&str] = &["57P01", "57P02", "57P03"];

/// Converts a `sqlx` error into the backend-neutral [`StoreError`].
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) => {
            if db.is_unique_violation() {
                let name = db.constraint().unwrap_or_else(|| db.message());
                if let Some((_, field)) = CONFLICT_FIELDS.iter().find(|(col, _)| name.contains(col))
                {
                    return StoreError::Conflict { field };
                }
            }
            if is_unavailable(db.as_ref()) {
                return StoreError::Unavailable(db.message().to_owned());
            }
            StoreError::Backend(db.to_string())
        }
        // `Protocol`: what a connection cut during its handshake looks like (e.g. an empty
        // answer to the TLS request `sslmode=prefer` sends first); a new connection may work.
        e @ (sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed) => StoreError::Unavailable(e.to_string()),
        other => StoreError::Backend(other.to_string()),
    }
}

/// Whether the database said "not now" rather than "no", in its own dialect.
fn is_unavailable(db: &dyn DatabaseError) -> bool {
    if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
        let code = pg.code();
        return PG_UNAVAILABLE_CODES.contains(&code)
            || PG_UNAVAILABLE_CLASSES.iter().any(|c| code.starts_with(c));
    }
    sqlite_code(db).is_some_and(|c| SQLITE_UNAVAILABLE_CODES.contains(&(c & 0xff)))
}

/// The (extended) result code of an SQLite error; `None` for any other database.
fn sqlite_code(db: &dyn DatabaseError) -> Option<i64> {
    db.try_downcast_ref::<SqliteError>()?
        .code()
        .and_then(|c| c.parse::<i64>().ok())
}

/// Converts a migration failure into [`StoreError`].
pub(crate) fn migrate_err(e: sqlx::migrate::MigrateError) -> StoreError {
    match e {
        sqlx::migrate::MigrateError::Execute(inner) => db_err(inner),
        sqlx::migrate::MigrateError::ExecuteMigration(inner, version) => match db_err(inner) {
            StoreError::Backend(m) => StoreError::Backend(format!("migration {version}: {m}")),
            other => other,
        },
        other => StoreError::Backend(other.to_string()),
    }
}

/// Whether SQLite answered `SQLITE_BUSY` or `SQLITE_LOCKED` without waiting (it does so
/// when waiting could deadlock, e.g. two connections switching a new file to WAL at once).
pub(crate) fn is_sqlite_busy(e: &sqlx::Error) -> bool {
    let code = match e {
        sqlx::Error::Database(db) => sqlite_code(db.as_ref()),
        _ => None,
    };
    code.is_some_and(|c| matches!(c & 0xff, 5 | 6))
}
