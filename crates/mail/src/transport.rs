//! How a mail leaves authgate: [`SmtpTransport`] (lettre over rustls) or, with no SMTP server
//! configured, [`OutboxTransport`] (one `.eml` file per mail, for offline development).
//! [`MailSettings`] plus [`transport_from_settings`] pick one from the configuration.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use authgate_core::store::OutgoingMail;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use crate::error::MailError;
use crate::smtp_url::{SmtpEndpoint, SmtpSecurity};

/// Default folder of the outbox.
pub const DEFAULT_OUTBOX_DIR: &str = "./mail-outbox";

/// Sends one mail. Implemented by [`SmtpTransport`] and [`OutboxTransport`]; tests may add
/// their own.
#[async_trait]
pub trait MailTransport: Send + Sync + std::fmt::Debug {
    /// Delivers `mail` (to the SMTP server, or to the outbox folder).
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError>;
    /// Where mail goes, safe to log (no credentials), e.g. `smtps://mail.example.com:465`.
    fn describe(&self) -> String;
}

/// Mail settings, as the server's configuration gives them. `Debug` hides the secrets.
#[derive(Clone)]
pub struct MailSettings {
    /// `AUTHGATE_SMTP_URL`; none selects the outbox. May hold credentials, hence secret.
    pub smtp_url: Option<SecretString>,
    /// `AUTHGATE_SMTP_USERNAME`; overrides a user name in the URL.
    pub smtp_username: Option<String>,
    /// `AUTHGATE_SMTP_PASSWORD`; overrides a password in the URL.
    pub smtp_password: Option<SecretString>,
    /// `AUTHGATE_MAIL_FROM`, e.g. `authgate <no-reply@example.com>`.
    pub from: String,
    /// Folder of the outbox (used when `smtp_url` is none).
    pub outbox_dir: PathBuf,
    /// Socket timeout of one SMTP conversation step.
    pub smtp_timeout: Duration,
}

impl MailSettings {
    /// Settings for the outbox in [`DEFAULT_OUTBOX_DIR`], sending from `from`.
    pub fn new(from: impl Into<String>) -> Self {
        MailSettings {
            smtp_url: None,
            smtp_username: None,
            smtp_password: None,
            from: from.into(),
            outbox_dir: PathBuf::from(DEFAULT_OUTBOX_DIR),
            smtp_timeout: Duration::from_secs(30),
        }
    }
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |set: bool| if set { Some("<redacted>") } else { None };
        f.debug_struct("MailSettings")
            .field("smtp_url", &redacted(self.smtp_url.is_some()))
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &redacted(self.smtp_password.is_some()))
            .field("from", &self.from)
            .field("outbox_dir", &self.outbox_dir)
            .field("smtp_timeout", &self.smtp_timeout)
            .finish()
    }
}

/// The transport the settings ask for: SMTP when a URL is set, else the outbox (whose
/// folder is created now, so a bad path fails at start-up).
pub fn transport_from_settings(
    settings: &MailSettings,
) -> Result<Arc<dyn MailTransport>, MailError> {
    let from = parse_from(&settings.from)?;
    match &settings.smtp_url {
        Some(url) => {
            let endpoint = SmtpEndpoint::parse(
                url.expose_secret(),
                settings.smtp_username.as_deref(),
                settings.smtp_password.clone(),
            )?;
            Ok(Arc::new(SmtpTransport::new(
                endpoint,
                from,
                settings.smtp_timeout,
            )?))
        }
        None => Ok(Arc::new(OutboxTransport::new(&settings.outbox_dir, from)?)),
    }
}

/// Parses a From address such as `authgate <no-reply@example.com>`.
pub fn parse_from(from: &str) -> Result<Mailbox, MailError> {
    from.trim()
        .parse()
        .map_err(|e| MailError::Config(format!("mail From address {from:?} is invalid: {e}")))
}

/// Assembles the RFC 5322 message: multipart/alternative (text, then HTML), a Message-ID made
/// from the queue id (stable across retries), and the current Date.
pub fn build_message(from: &Mailbox, mail: &OutgoingMail) -> Result<Message, MailError> {
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e| MailError::Message(format!("invalid recipient address: {e}")))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(format!("<{}@{}>", mail.id, from.email.domain())))
        .date_now()
        .multipart(MultiPart::alternative_plain_html(
            mail.text_body.clone(),
            mail.html_body.clone(),
        ))
        .map_err(|e| MailError::Message(e.to_string()))
}

/// Delivery over SMTP with lettre (tokio, rustls with the ring provider, WebPKI roots).
pub struct SmtpTransport {
    endpoint: SmtpEndpoint,
    from: Mailbox,
    inner: AsyncSmtpTransport<Tokio1Executor>,
}

impl std::fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpTransport")
            .field("endpoint", &self.endpoint)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpTransport {
    /// A transport to `endpoint`, sending as `from`; `timeout` bounds each socket operation.
    /// Nothing connects yet: an unreachable server shows at the first send.
    pub fn new(
        endpoint: SmtpEndpoint,
        from: Mailbox,
        timeout: Duration,
    ) -> Result<Self, MailError> {
        let tls_err = |e: lettre::transport::smtp::Error| {
            MailError::Config(format!("SMTP TLS setup for {endpoint}: {e}"))
        };
        let mut builder = match endpoint.security {
            SmtpSecurity::None => {
                if endpoint.username.is_some() {
                    tracing::warn!(smtp = %endpoint, "SMTP credentials will be sent without TLS");
                }
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(endpoint.host.clone())
            }
            SmtpSecurity::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&endpoint.host)
                    .map_err(tls_err)?
            }
            SmtpSecurity::ImplicitTls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&endpoint.host).map_err(tls_err)?
            }
        };
        builder = builder.port(endpoint.port).timeout(Some(timeout));
        if let (Some(user), Some(password)) = (&endpoint.username, &endpoint.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        Ok(SmtpTransport {
            inner: builder.build(),
            endpoint,
            from,
        })
    }
}

#[async_trait]
impl MailTransport for SmtpTransport {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = build_message(&self.from, mail)?;
        self.inner
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError::Smtp {
                message: e.to_string(),
                permanent: e.is_permanent(),
            })
    }

    fn describe(&self) -> String {
        self.endpoint.to_string()
    }
}

/// Development delivery: each mail becomes `<dir>/<time>-<id>.eml` (the same RFC 5322
/// message SMTP would carry), and an info log line says where.
#[derive(Debug)]
pub struct OutboxTransport {
    dir: PathBuf,
    from: Mailbox,
}

impl OutboxTransport {
    /// An outbox in `dir`, created now if missing.
    pub fn new(dir: &Path, from: Mailbox) -> Result<Self, MailError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| MailError::Outbox(format!("cannot create {}: {e}", dir.display())))?;
        Ok(OutboxTransport {
            dir: dir.to_owned(),
            from,
        })
    }

    /// The folder mails are written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl MailTransport for OutboxTransport {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = build_message(&self.from, mail)?;
        let io_err = |path: &Path, e: std::io::Error| {
            MailError::Outbox(format!("cannot write {}: {e}", path.display()))
        };
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| io_err(&self.dir, e))?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let id: String = mail
            .id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let path = self.dir.join(format!("{stamp}-{id}.eml"));
        // Written under a temporary name first, so a reader never sees half a mail.
        let partial = self.dir.join(format!(".{stamp}-{id}.eml.partial"));
        tokio::fs::write(&partial, message.formatted())
            .await
            .map_err(|e| io_err(&partial, e))?;
        tokio::fs::rename(&partial, &path)
            .await
            .map_err(|e| io_err(&path, e))?;
        tracing::info!(mail_id = %mail.id, "mail written to {}", path.display());
        Ok(())
    }

    fn describe(&self) -> String {
        format!("outbox {}", self.dir.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_and_description_never_show_smtp_secrets() {
        let mut settings = MailSettings::new("authgate <no-reply@example.com>");
        settings.smtp_url = Some("smtps://ada:hunter2@mx.example.com".to_owned().into());
        settings.smtp_password = Some("hunter3".to_owned().into());
        let transport =
            transport_from_settings(&settings).expect("TLS set-up needs no system library");
        assert_eq!(transport.describe(), "smtps://mx.example.com:465");
        for text in [format!("{settings:?}"), format!("{transport:?}")] {
            assert!(!text.contains("hunter"), "{text}");
        }
    }
}
