//! Assembling the service from the configuration: the signing keys, the password hasher,
//! the limits, the clock and (for the server) the mail templates and transport.

use std::sync::Arc;

use authgate_core::clock::{Clock, SystemClock};
use authgate_core::hashing::PasswordHasher;
use authgate_core::keys::load_signer;
use authgate_core::limits::SharedLimits;
use authgate_core::{AuthService, Store};
use authgate_mail::{transport_from_settings, MailSettings, MailTransport, TemplateRenderer};
use secrecy::SecretString;

use crate::config::{Config, ConfigError};
use crate::error::Error;

/// Sender of mails when `AUTHGATE_MAIL_FROM` is not set.
const DEFAULT_MAIL_FROM: &str = "authgate <no-reply@localhost>";

/// The service on `store` as the configuration describes it, reading time from `clock`
/// (shared by the server and the CLI's commands). Mails use the plain built-in renderer
/// unless `renderer` is given.
pub(crate) async fn service(
    config: &Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    renderer: Option<Arc<TemplateRenderer>>,
) -> Result<AuthService, Error> {
    let auth = config.auth_config();
    let signer = load_signer(
        store.as_ref(),
        &auth,
        config.jwt_secret.as_ref(),
        clock.now(),
    )
    .await
    .map_err(Error::auth("cannot load the signing keys"))?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let hasher = PasswordHasher::new(config.hash, cores, config.hash_max_queue)
        .map_err(Error::auth("invalid password hashing parameters"))?;
    let shared_limits = shared_limits(config, store.as_ref())?;
    let mut builder = AuthService::builder(store, hasher, Arc::new(signer), auth)
        .limits(config.limits.clone())
        .clock(clock);
    if let Some(shared) = shared_limits {
        builder = builder.shared_limits(shared);
    }
    if let Some(renderer) = renderer {
        builder = builder.mail_renderer(renderer);
    }
    Ok(builder.build())
}

/// The store's shared limits when `AUTHGATE_SHARED_LIMITS` puts the limits in the database.
fn shared_limits(
    config: &Config,
    store: &dyn Store,
) -> Result<Option<Arc<dyn SharedLimits>>, Error> {
    if !config
        .scale
        .shared_limits
        .in_database(config.database_url.kind())
    {
        return Ok(None);
    }
    match store.shared_limits() {
        Some(shared) => Ok(Some(shared)),
        None => Err(Error::Config(ConfigError {
            problems: vec![format!(
                "AUTHGATE_SHARED_LIMITS: the {} store cannot keep shared limits",
                store.backend_name()
            )],
        })),
    }
}

/// The real time, for commands run by hand.
pub(crate) fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock::new())
}

/// The account-mail templates (the built-in ones, or those of `AUTHGATE_TEMPLATES_DIR`).
pub(crate) fn mail_renderer(config: &Config) -> Result<Arc<TemplateRenderer>, Error> {
    TemplateRenderer::new(config.templates_dir.as_deref())
        .map(Arc::new)
        .map_err(|e| mail_problem("AUTHGATE_TEMPLATES_DIR", e))
}

/// The transport the mail worker sends with: SMTP when `AUTHGATE_SMTP_URL` is set, else the
/// `.eml` outbox.
pub(crate) fn mail_transport(config: &Config) -> Result<Arc<dyn MailTransport>, Error> {
    let from = config
        .mail_from
        .clone()
        .unwrap_or_else(|| DEFAULT_MAIL_FROM.to_owned());
    let settings = MailSettings {
        smtp_url: config
            .smtp_url
            .as_ref()
            .map(|u| SecretString::from(u.expose().to_owned())),
        smtp_username: config.smtp_username.clone(),
        smtp_password: config.smtp_password.clone(),
        smtp_ca_file: config.smtp_ca_file.clone(),
        outbox_dir: config.mail_outbox.clone(),
        ..MailSettings::new(from)
    };
    let transport =
        transport_from_settings(&settings).map_err(|e| mail_problem(mail_variable(&e), e))?;
    tracing::info!(transport = %transport.describe(), "mail delivery");
    Ok(transport)
}

/// A start-up mail error as a configuration error naming its variable.
fn mail_problem(var: &str, e: authgate_mail::MailError) -> Error {
    Error::Config(ConfigError {
        problems: vec![format!("{var}: {e}")],
    })
}

/// The setting a start-up mail error is about, named as its environment variable.
fn mail_variable(error: &authgate_mail::MailError) -> &'static str {
    use authgate_mail::MailError;
    match error {
        MailError::Sender(_) => "AUTHGATE_MAIL_FROM",
        MailError::CaFile(_) => "AUTHGATE_SMTP_CA_FILE",
        MailError::Outbox(_) => "AUTHGATE_MAIL_OUTBOX",
        MailError::Template(_) => "AUTHGATE_TEMPLATES_DIR",
        _ => "AUTHGATE_SMTP_URL",
    }
}
