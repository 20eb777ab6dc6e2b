//! The two error types of the core layer: [`StoreError`] (what a backend may say) and
//! [`AuthError`] (what a flow may answer). The HTTP layer maps `AuthError` to status codes.

use std::collections::BTreeMap;

/// A storage failure, neutral across backends. Every backend converts its own errors into
/// this inside the backend: a duplicate key is a `Conflict` whether SQLite, PostgreSQL or
/// MongoDB reported it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The addressed record does not exist.
    #[error("record not found")]
    NotFound,
    /// A unique constraint was violated; `field` names the user-facing field (`email`, `username`).
    #[error("{field} is already taken")]
    Conflict {
        /// The field whose uniqueness was violated.
        field: &'static str,
    },
    /// The store cannot be reached (connection refused, pool timed out, server gone).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else the backend reported. The text is for logs, never for clients.
    #[error("store error: {0}")]
    Backend(String),
}

/// Field-level validation problems: field name -> list of human sentences.
pub type ValidationDetails = BTreeMap<String, Vec<String>>;

/// Everything a flow of [`crate::AuthService`] can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Input failed validation; `details` names each field and its problems.
    #[error("{message}")]
    Validation {
        /// A sentence for the whole request.
        message: String,
        /// Problems per field.
        details: ValidationDetails,
    },
    /// Wrong email/username or password (never says which).
    #[error("Invalid email or password")]
    InvalidCredentials,
    /// The email or username is already registered.
    #[error("{field} is already taken")]
    Conflict {
        /// `email` or `username`.
        field: &'static str,
    },
    /// The requested role may not be chosen at registration.
    #[error("Role '{0}' cannot be self-assigned")]
    RoleNotAllowed(String),
    /// The account has been disabled by an administrator.
    #[error("This account is disabled")]
    AccountDisabled,
    /// Authenticated, but the account's role does not allow this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// Login refused until the email address is verified.
    #[error("Email address is not verified")]
    EmailNotVerified,
    /// No usable access token: missing, malformed, forged, expired or revoked.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The refresh token is unknown, expired, or belongs to a revoked session.
    #[error("Invalid or expired refresh token")]
    InvalidRefreshToken,
    /// A rotated refresh token was presented again: the session has been revoked.
    #[error("Refresh token reuse detected; the session has been revoked")]
    RefreshTokenReused,
    /// A one-time token (verification, reset) is unknown, expired or already used.
    #[error("Invalid or expired token")]
    InvalidToken,
    /// The current password given to change-password is wrong.
    #[error("Current password is incorrect")]
    WrongCurrentPassword,
    /// The email address is already verified.
    #[error("Email is already verified")]
    AlreadyVerified,
    /// The change would leave no enabled administrator (demoting, disabling or deleting the
    /// last one).
    #[error("This is the last administrator: appoint another one first")]
    LastAdmin,
    /// The addressed resource does not exist (or is not the caller's).
    #[error("{0}")]
    NotFound(&'static str),
    /// Too many requests; retry after the given number of seconds.
    #[error("Too many requests, try again later")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
        /// The limit that was reached (for `RateLimit-Limit`).
        limit: u32,
    },
    /// The password hashing queue is full; the server is overloaded.
    #[error("The server is busy, try again shortly")]
    Overloaded,
    /// The store could not be reached.
    #[error("The service is temporarily unavailable")]
    StoreUnavailable(String),
    /// An unexpected failure. The text goes to the log only.
    #[error("Internal error")]
    Internal(String),
}

impl AuthError {
    /// A validation error on a single field.
    pub fn field(field: &str, problem: impl Into<String>) -> Self {
        let mut details = ValidationDetails::new();
        details.insert(field.to_owned(), vec![problem.into()]);
        AuthError::Validation {
            message: "Validation failed".into(),
            details,
        }
    }
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { field } => AuthError::Conflict { field },
            StoreError::NotFound => AuthError::NotFound("Not found"),
            StoreError::Unavailable(m) => AuthError::StoreUnavailable(m),
            StoreError::Backend(m) => AuthError::Internal(m),
        }
    }
}
