//! [`MailError`]: what building or sending a mail may fail with.
//!
//! The texts are stored as a queued mail's last error and logged, so no variant ever carries
//! a message body (which holds the one-time link) or a credential.

/// A mail configuration, template or delivery failure.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The SMTP settings are unusable (bad SMTP URL or credentials, TLS set-up). Start-up
    /// error.
    #[error("mail configuration: {0}")]
    Config(String),
    /// The From address is unusable (`AUTHGATE_MAIL_FROM`). Start-up error.
    #[error("mail configuration: {0}")]
    Sender(String),
    /// The file of extra trusted CA certificates is unusable (`AUTHGATE_SMTP_CA_FILE`).
    /// Start-up error.
    #[error("mail configuration: {0}")]
    CaFile(String),
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
    /// The SMTP server refused the connection set-up rather than the mail: TLS failed (e.g.
    /// an untrusted certificate) or authentication was refused (SMTP 53x). Every mail fails
    /// the same way until an operator fixes the settings, so it is retried, not given up.
    #[error("smtp: {0}")]
    SmtpSetup(String),
    /// The send did not finish in time.
    #[error("send timed out after {0} s")]
    Timeout(u64),
    /// The outbox folder could not be written.
    #[error("outbox: {0}")]
    Outbox(String),
}

impl MailError {
    /// True for failures of this mail that retrying cannot fix (a malformed address, a
    /// permanent SMTP rejection). The worker logs them as errors and soon gives up.
    pub fn is_permanent(&self) -> bool {
        match self {
            MailError::Config(_)
            | MailError::Sender(_)
            | MailError::CaFile(_)
            | MailError::Template(_)
            | MailError::Message(_) => true,
            MailError::Smtp { permanent, .. } => *permanent,
            MailError::SmtpSetup(_) | MailError::Timeout(_) | MailError::Outbox(_) => false,
        }
    }

    /// True for failures that need an operator although the mail itself is fine (TLS or
    /// SMTP authentication refused): logged as errors, retried like an outage.
    pub fn needs_operator(&self) -> bool {
        matches!(self, MailError::SmtpSetup(_))
    }
}
