//! The one place where `sqlx` errors become [`StoreError`]s, for every SQL backend.
//!
//! Unique violations are recognised by the constraint name (PostgreSQL) or the message
//! (SQLite: `UNIQUE constraint failed: users.email_normalized`), both of which name the
//! column, so the same rule serves both dialects.

use authgate_core::StoreError;

/// Columns whose uniqueness is a user-facing conflict, and the field each one names.
const CONFLICT_FIELDS: &[(&str, &str)] = &[
    ("email_normalized", "email"),
    ("username_normalized", "username"),
    ("signing_keys.kid", "kid"),
    ("signing_keys_pkey", "kid"),
];

/// SQLite primary result codes that mean "try again later" rather than "this is wrong":
/// `SQLITE_BUSY` (5), `SQLITE_LOCKED` (6), `SQLITE_CANTOPEN` (14).
const SQLITE_UNAVAILABLE_CODES: &[i64] = &[5, 6, 14];

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
            let code = db.code().and_then(|c| c.parse::<i64>().ok());
            if code.is_some_and(|c| SQLITE_UNAVAILABLE_CODES.contains(&(c & 0xff))) {
                return StoreError::Unavailable(db.message().to_owned());
            }
            StoreError::Backend(db.to_string())
        }
        e @ (sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed) => StoreError::Unavailable(e.to_string()),
        other => StoreError::Backend(other.to_string()),
    }
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
        sqlx::Error::Database(db) => db.code().and_then(|c| c.parse::<i64>().ok()),
        _ => None,
    };
    code.is_some_and(|c| matches!(c & 0xff, 5 | 6))
}
