//! How a mail leaves authgate: [`SmtpTransport`] (lettre over rustls) or, with no SMTP server
//! configured, [`OutboxTransport`] (one `.eml` file per mail, plus a `.txt` of its text, for
//! offline development).
//! [`MailSettings`] plus [`transport_from_settings`] pick one from the configuration.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use authgate_core::store::OutgoingMail;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
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
    /// `AUTHGATE_SMTP_CA_FILE`: PEM certificates trusted as roots for the SMTP server's TLS
    /// certificate, in addition to the WebPKI roots (a relay with a private CA).
    pub smtp_ca_file: Option<PathBuf>,
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
            smtp_ca_file: None,
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
            .field("smtp_ca_file", &self.smtp_ca_file)
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
            let extra_root = match &settings.smtp_ca_file {
                Some(path) => Some(load_ca_file(path)?),
                None => None,
            };
            Ok(Arc::new(SmtpTransport::new(
                endpoint,
                from,
                settings.smtp_timeout,
                extra_root,
            )?))
        }
        None => Ok(Arc::new(OutboxTransport::new(&settings.outbox_dir, from)?)),
    }
}

/// Parses a From address such as `authgate <no-reply@example.com>`.
pub fn parse_from(from: &str) -> Result<Mailbox, MailError> {
    from.trim()
        .parse()
        .map_err(|e| MailError::Sender(format!("mail From address {from:?} is invalid: {e}")))
}

/// Reads a PEM file of one or more CA certificates to trust for the SMTP server.
pub fn load_ca_file(path: &Path) -> Result<Certificate, MailError> {
    let problem = |what: String| MailError::CaFile(format!("{}: {what}", path.display()));
    let pem = std::fs::read(path).map_err(|e| problem(format!("cannot read it ({e})")))?;
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
        return Err(problem("holds no PEM certificate".into()));
    }
    let certificate =
        Certificate::from_pem(&pem).map_err(|e| problem(format!("not a PEM certificate ({e})")))?;
    // rustls parses the certificates only when they join a root store: do it now.
    tls_parameters("localhost", Some(certificate.clone()))
        .map_err(|e| problem(format!("not a usable CA certificate ({e})")))?;
    Ok(certificate)
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

/// Delivery over SMTP with lettre (tokio, rustls with the ring provider, WebPKI roots plus
/// an optional extra CA).
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
    /// TLS trusts the WebPKI roots and `extra_root` (see [`load_ca_file`]). Nothing connects
    /// yet: an unreachable server shows at the first send.
    pub fn new(
        endpoint: SmtpEndpoint,
        from: Mailbox,
        timeout: Duration,
        extra_root: Option<Certificate>,
    ) -> Result<Self, MailError> {
        let tls = || {
            tls_parameters(&endpoint.host, extra_root.clone())
                .map_err(|e| MailError::Config(format!("SMTP TLS setup for {endpoint}: {e}")))
        };
        let tls = match endpoint.security {
            SmtpSecurity::None => {
                if endpoint.username.is_some() {
                    tracing::warn!(smtp = %endpoint, "SMTP credentials will be sent without TLS");
                }
                if extra_root.is_some() {
                    tracing::warn!(smtp = %endpoint, "the extra CA is unused: smtp:// has no TLS");
                }
                Tls::None
            }
            SmtpSecurity::StartTls => Tls::Required(tls()?),
            SmtpSecurity::ImplicitTls => Tls::Wrapper(tls()?),
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(endpoint.host.clone())
                .tls(tls)
                .port(endpoint.port)
                .timeout(Some(timeout));
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

/// TLS for `host` (also the name the certificate must carry), trusting the WebPKI roots and
/// `extra_root`.
fn tls_parameters(
    host: &str,
    extra_root: Option<Certificate>,
) -> Result<TlsParameters, lettre::transport::smtp::Error> {
    let mut builder = TlsParameters::builder(host.to_owned());
    if let Some(root) = extra_root {
        builder = builder.add_root_certificate(root);
    }
    builder.build_rustls()
}

/// Sorts lettre's error: a refused TLS or authentication set-up (every mail would fail the
/// same way) apart from a failure of this mail, permanent (5xx) or not.
fn smtp_error(e: lettre::transport::smtp::Error) -> MailError {
    let message = e.to_string();
    let auth_refused = e
        .status()
        .is_some_and(|code| code.to_string().starts_with("53"));
    if auth_refused || e.is_tls() || tls_handshake_failed(&e) {
        return MailError::SmtpSetup(message);
    }
    MailError::Smtp {
        message,
        permanent: e.is_permanent(),
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
            .map_err(smtp_error)
    }

    fn describe(&self) -> String {
        self.endpoint.to_string()
    }
}

/// Development delivery: each mail becomes `<dir>/<time>-<id>.eml` (the same RFC 5322
/// message SMTP would carry) and `<dir>/<time>-<id>.txt` (recipient, subject and the text
/// body as plain UTF-8: the `.eml` encodes long lines quoted-printable, which breaks links
/// apart, while here a link is one line to copy), and an info log line says where.
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
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| outbox_error(&self.dir, e))?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let id: String = mail
            .id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let stem = format!("{stamp}-{id}");
        let text = self.dir.join(format!("{stem}.txt"));
        write_whole(&self.dir, &text, readable_text(mail).as_bytes()).await?;
        let path = self.dir.join(format!("{stem}.eml"));
        write_whole(&self.dir, &path, &message.formatted()).await?;
        tracing::info!(mail_id = %mail.id, "mail written to {} (links unbroken in {})", path.display(), text.display());
        Ok(())
    }

    fn describe(&self) -> String {
        format!("outbox {}", self.dir.display())
    }
}

/// True when a connection error comes from a failed TLS handshake (e.g. an untrusted
/// certificate): lettre labels it a connection error, and tokio-rustls reports it as an I/O
/// error of kind `InvalidData` (a refused or reset connection has other kinds).
fn tls_handshake_failed(e: &lettre::transport::smtp::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::InvalidData;
        }
        source = cause.source();
    }
    false
}

/// The outbox `.txt` of `mail`: who, what, and the text body exactly as rendered.
fn readable_text(mail: &OutgoingMail) -> String {
    format!(
        "To: {}\nSubject: {}\n\n{}",
        mail.to, mail.subject, mail.text_body
    )
}

/// Writes `path` in `dir` under a temporary name first, so a reader never sees half a file.
async fn write_whole(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), MailError> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let partial = dir.join(format!(".{name}.partial"));
    tokio::fs::write(&partial, bytes)
        .await
        .map_err(|e| outbox_error(&partial, e))?;
    tokio::fs::rename(&partial, path)
        .await
        .map_err(|e| outbox_error(path, e))
}

fn outbox_error(path: &Path, e: std::io::Error) -> MailError {
    MailError::Outbox(format!("cannot write {}: {e}", path.display()))
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

    #[test]
    fn a_ca_file_that_is_missing_or_holds_no_usable_certificate_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let bad_base64 = dir.path().join("bad-base64.pem");
        std::fs::write(
            &bad_base64,
            "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let not_der = dir.path().join("not-der.pem");
        std::fs::write(
            &not_der,
            "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        for path in [missing, junk, bad_base64, not_der] {
            let mut settings = MailSettings::new("authgate <no-reply@example.com>");
            settings.smtp_url = Some("smtps://mx.example.com".to_owned().into());
            settings.smtp_ca_file = Some(path.clone());
            let err = transport_from_settings(&settings).unwrap_err();
            assert!(matches!(err, MailError::CaFile(_)), "{path:?}: {err:?}");
            assert!(
                err.to_string().contains(&path.display().to_string()),
                "{err}"
            );
        }
    }
}
