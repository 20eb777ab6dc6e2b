//! The binary's error type, and how each kind of failure maps to an exit code.

use authgate_core::{AuthError, StoreError};

use crate::config::ConfigError;

/// Everything that can stop a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration was refused (exit code 2).
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The configured database selects a store this build does not have (exit code 2).
    #[error("{0}")]
    Unsupported(String),
    /// Bad input to a command, e.g. an empty password (exit code 1).
    #[error("{0}")]
    Input(String),
    /// The store failed.
    #[error("{context}: {source}")]
    Store {
        /// What was being done.
        context: &'static str,
        /// The store's error.
        source: StoreError,
    },
    /// A flow of the core failed.
    #[error("{context}: {}", describe(.source))]
    Auth {
        /// What was being done.
        context: &'static str,
        /// The core's error.
        source: AuthError,
    },
    /// An I/O operation failed (binding the port, reading standard input, ...).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl Error {
    /// The process exit code: 2 for configuration problems, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) | Error::Unsupported(_) => 2,
            _ => 1,
        }
    }

    /// Wraps a store error with what was being done.
    pub fn store(context: &'static str) -> impl FnOnce(StoreError) -> Error {
        move |source| Error::Store { context, source }
    }

    /// Wraps a core error with what was being done.
    pub fn auth(context: &'static str) -> impl FnOnce(AuthError) -> Error {
        move |source| Error::Auth { context, source }
    }
}

/// A core error as an operator should read it: unlike its `Display` (written for API
/// clients), internal causes and validation details are included.
pub fn describe(e: &AuthError) -> String {
    match e {
        AuthError::Validation { message, details } => {
            let fields: Vec<String> = details
                .iter()
                .map(|(f, problems)| format!("{f} {}", problems.join(", ")))
                .collect();
            format!("{message}: {}", fields.join("; "))
        }
        AuthError::Internal(cause) => format!("internal error: {cause}"),
        AuthError::StoreUnavailable(cause) => format!("store unavailable: {cause}"),
        other => other.to_string(),
    }
}
