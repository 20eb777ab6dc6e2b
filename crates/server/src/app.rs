//! The server: [`App::build`] assembles everything and binds the port; [`App::run`] serves
//! until the shutdown future completes, then drains in-flight requests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use authgate_core::clock::{Clock, SystemClock};
use authgate_core::AuthService;
use authgate_mail::{MailTransport, MailWorker, WorkerConfig};
use axum::Router;
use tokio::sync::oneshot;

use crate::admin_socket::AdminSocket;
use crate::background::{delete_expired_state, reload_signing_keys};
use crate::config::Config;
use crate::error::Error;
use crate::listeners::Listeners;
use crate::metrics::MetricsListener;

/// How long each background writer (queued audit events, the mail being sent) may take to
/// finish at shutdown.
const BACKGROUND_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A ready-to-run authgate server: store open and migrated, keys loaded, port bound.
pub struct App {
    listeners: Listeners,
    router: Router,
    metrics: Option<MetricsListener>,
    service: AuthService,
    mail: Arc<dyn MailTransport>,
    public_url: String,
    audit_retention: Duration,
    admin: Option<(AdminSocket, Router)>,
}

impl App {
    /// Opens and migrates the store, loads the signing keys, builds the service and the
    /// router, and binds `config.bind` (port 0 picks a free port). When no public URL is
    /// configured it becomes `http://{the bound address}`.
    pub async fn build(config: Config) -> Result<App, Error> {
        App::build_with_clock(config, Arc::new(SystemClock::new())).await
    }

    /// [`App::build`] with the time read from `clock` (tests pass a manual clock and
    /// advance it instead of sleeping).
    pub async fn build_with_clock(mut config: Config, clock: Arc<dyn Clock>) -> Result<App, Error> {
        let listeners = Listeners::bind(&mut config).await?;
        tracing::info!(config = %config.summary(), "effective configuration");

        let store = crate::store::open_migrated(&config).await?;
        let renderer = crate::assemble::mail_renderer(&config)?;
        let mail = crate::assemble::mail_transport(&config)?;
        let service = crate::assemble::service(&config, store, clock, Some(renderer)).await?;
        let mut http_config = config.http_config();
        http_config.pages = crate::pages::hosted_pages(&config, &http_config.allowed_origins)?;
        let recorder = crate::metrics::recorder();
        let metrics = match (config.metrics_bind, recorder.clone()) {
            (Some(bind), Some(handle)) => {
                Some(MetricsListener::bind(bind, &service, handle).await?)
            }
            _ => None,
        };
        if metrics.is_none() {
            http_config.metrics = recorder;
        }
        let admin = crate::admin_socket::bind_configured(&config)?.map(|socket| {
            let router = authgate_http::admin_socket_router(service.clone(), http_config.clone());
            (socket, router)
        });
        let router = authgate_http::router(service.clone(), http_config);
        Ok(App {
            listeners,
            router,
            metrics,
            service,
            mail,
            public_url: config.public_url(),
            audit_retention: config.audit_retention,
            admin,
        })
    }

    /// Where the admin socket listens, when there is one.
    pub fn admin_socket_path(&self) -> Option<&std::path::Path> {
        self.admin.as_ref().map(|(socket, _)| socket.path())
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listeners.local_addr()
    }

    /// The plain-HTTP redirect listener's address, when `AUTHGATE_HTTP_REDIRECT_ADDR` is set.
    pub fn redirect_addr(&self) -> Option<SocketAddr> {
        self.listeners.redirect_addr()
    }

    /// Where `GET /metrics` is served on its own, when `AUTHGATE_METRICS_BIND` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|m| m.addr)
    }

    /// The public base URL in force (without trailing slash).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The service behind the API (e.g. to create users in tests).
    pub fn service(&self) -> &AuthService {
        &self.service
    }

    /// Serves until `shutdown` completes; then stops accepting connections, lets in-flight
    /// requests finish (up to 30 s) and returns. Meanwhile deletes expired state every hour,
    /// reloads the signing keys every minute and sends queued mail.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let metrics_server = self.metrics.map(MetricsListener::serve);
        let service = self.service;
        let retention =
            chrono::Duration::from_std(self.audit_retention).unwrap_or(chrono::Duration::days(90));
        let housekeeping = tokio::spawn(delete_expired_state(service.clone(), retention));
        let key_reloader = tokio::spawn(reload_signing_keys(service.clone()));
        let invalidations = tokio::spawn(service.clone().follow_invalidations());
        let (mail_stop, mail_stopped) = oneshot::channel::<()>();
        let worker = MailWorker::new(
            service.store().clone(),
            self.mail,
            service.mail_ready(),
            WorkerConfig::default(),
        );
        let mail_worker = tokio::spawn(worker.run(async move {
            let _ = mail_stopped.await;
        }));
        let admin = self.admin.map(|(socket, router)| {
            tracing::info!(path = %socket.path().display(), "admin socket listening");
            tokio::spawn(socket.serve(router))
        });

        let result = self.listeners.serve(self.router, shutdown).await;
        housekeeping.abort();
        key_reloader.abort();
        invalidations.abort();
        if let Some(task) = admin {
            task.abort();
            let _ = task.await;
        }
        if tokio::time::timeout(BACKGROUND_DRAIN_TIMEOUT, service.flush())
            .await
            .is_err()
        {
            tracing::warn!("background work or audit events were still pending at shutdown");
        }
        if let Some(task) = metrics_server {
            task.abort();
        }
        let _ = mail_stop.send(());
        if tokio::time::timeout(BACKGROUND_DRAIN_TIMEOUT, mail_worker)
            .await
            .is_err()
        {
            tracing::warn!("the mail worker did not stop in time; unsent mail stays queued");
        }
        tracing::info!("stopped");
        result
    }
}
