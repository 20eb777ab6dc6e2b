//! authgate's mail delivery.
//!
//! - [`TemplateRenderer`]: the account mails (verify email, reset password, password changed)
//!   from MiniJinja templates, built in or overridden from an operator folder; plug it into
//!   the core with `AuthServiceBuilder::mail_renderer`.
//! - [`MailTransport`]: [`SmtpTransport`] (lettre, rustls) or [`OutboxTransport`] (`.eml`
//!   files for development), chosen from [`MailSettings`] by [`transport_from_settings`].
//! - [`MailWorker`]: sends what the core queued in the store, with leases, timeouts and
//!   exponential back-off.
//!
//! Wiring, in the server:
//! ```no_run
//! # async fn demo(builder: authgate_core::service::AuthServiceBuilder) -> Result<(), authgate_mail::MailError> {
//! use std::sync::Arc;
//! use authgate_mail::{transport_from_settings, MailSettings, MailWorker, TemplateRenderer, WorkerConfig};
//!
//! let renderer = Arc::new(TemplateRenderer::new(None)?); // or Some(templates_dir)
//! let service = builder.mail_renderer(renderer).build();
//! let transport = transport_from_settings(&MailSettings::new("authgate <no-reply@example.com>"))?;
//! let worker = MailWorker::new(service.store().clone(), transport, service.mail_ready(), WorkerConfig::default());
//! tokio::spawn(worker.run(async { /* shutdown signal */ }));
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod error;
mod smtp_url;
mod templates;
mod transport;
mod worker;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::MailError;
pub use smtp_url::{SmtpEndpoint, SmtpSecurity};
pub use templates::TemplateRenderer;
pub use transport::{
    build_message, load_ca_file, parse_from, transport_from_settings, MailSettings, MailTransport,
    OutboxTransport, SmtpTransport, DEFAULT_OUTBOX_DIR,
};
pub use worker::{MailWorker, WorkerConfig};
