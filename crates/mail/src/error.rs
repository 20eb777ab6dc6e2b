//! [`MailError`]: what building or sending a mail may fail with.
//!
//! The texts are stored as a queued mail's last error and logged, so no variant ever carries
//! a message body (which holds the one-time link) or a credential.

/// A mail configuration, template or delivery failure.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The mail settings are unusable (bad SMTP URL, bad From address). Start-up error.
    #[error("mail configuration: {0}")]
    Config(String),
    /// A template could not be loaded, compiled or rendered. Start-up error.
    #[error("mail template: {0}")]
    Template(String),
    /// The message could not be assembled (e.g. an invalid recipient address).
    #[error("cannot build message: {0}")]
    Message(String),
    /// The SMTP server could not be reached or refused the mail.
    #[error("smtp: {message}")]
    Smtp {
        /// What went wrong (lettre's description, with the server's reply if any).
        message: String,
        /// The server rejected the mail with a 5xx reply: retrying will not help.
        permanent: bool,
    },
    /// The send did not finish in time.
    #[error("send timed out after {0} s")]
    Timeout(u64),
    /// The outbox folder could not be written.
    #[error("outbox: {0}")]
    Outbox(String),
}

impl MailError {
    /// True for failures that retrying cannot fix (a malformed address, a permanent SMTP
    /// rejection). The worker still retries them with back-off, but logs them as errors.
    pub fn is_permanent(&self) -> bool {
        match self {
            MailError::Config(_) | MailError::Template(_) | MailError::Message(_) => true,
            MailError::Smtp { permanent, .. } => *permanent,
            MailError::Timeout(_) | MailError::Outbox(_) => false,
        }
    }
}
