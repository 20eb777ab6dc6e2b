//! The server: [`App::build`] assembles everything and binds the port; [`App::run`] serves
//! until the shutdown future completes, then drains in-flight requests.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use authgate_core::hashing::PasswordHasher;
use authgate_core::keys::{load_signer, KEY_RELOAD_INTERVAL};
use authgate_core::{AuthService, Store};
use authgate_mail::{
    transport_from_settings, MailSettings, MailTransport, MailWorker, TemplateRenderer,
    WorkerConfig,
};
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::config::Config;
use crate::error::Error;

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long each background writer (queued audit events, the mail being sent) may take to
/// finish at shutdown.
const BACKGROUND_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Sender of mails when `AUTHGATE_MAIL_FROM` is not set.
const DEFAULT_MAIL_FROM: &str = "authgate <no-reply@localhost>";
/// How often expired and revoked sessions are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// How long a dead session is kept before it is deleted.
const PRUNE_AFTER: chrono::Duration = chrono::Duration::days(1);

/// A ready-to-run authgate server: store open and migrated, keys loaded, port bound.
pub struct App {
    listener: TcpListener,
    local_addr: SocketAddr,
    router: Router,
    metrics: Option<MetricsListener>,
    service: AuthService,
    mail: Arc<dyn MailTransport>,
    public_url: String,
    audit_retention: Duration,
}

impl App {
    /// Opens and migrates the store, loads the signing keys, builds the service and the
    /// router, and binds `config.bind` (port 0 picks a free port). When no public URL is
    /// configured it becomes `http://{the bound address}`.
    pub async fn build(mut config: Config) -> Result<App, Error> {
        for warning in config.warnings() {
            tracing::warn!("{warning}");
        }
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| Error::Io {
                context: format!("cannot listen on {}", config.bind),
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| Error::Io {
            context: "cannot read the bound address".into(),
            source,
        })?;
        config.bind = local_addr;
        tracing::info!(config = %config.summary(), "effective configuration");

        let store = crate::store::connect(&config).await?;
        store
            .migrate()
            .await
            .map_err(Error::store("cannot migrate the database"))?;
        let service = build_service(&config, store).await?;
        let (service, mail) = mail_parts(&config, service)?;
        let mut http_config = config.http_config();
        http_config.pages = crate::pages::hosted_pages(&config, &http_config.allowed_origins)?;
        let handle = metrics_handle();
        let metrics = match (config.metrics_bind, handle.clone()) {
            (Some(bind), Some(handle)) => {
                Some(MetricsListener::bind(bind, &service, handle).await?)
            }
            _ => None,
        };
        if metrics.is_none() {
            http_config.metrics = handle;
        }
        let router = authgate_http::router(service.clone(), http_config);
        Ok(App {
            listener,
            local_addr,
            router,
            metrics,
            service,
            mail,
            public_url: config.public_url(),
            audit_retention: config.audit_retention,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
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
    /// requests finish (up to 30 s) and returns. Also prunes dead sessions every hour.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let App {
            listener,
            local_addr,
            router,
            metrics,
            service,
            mail,
            audit_retention,
            ..
        } = self;
        let metrics_server = metrics.map(MetricsListener::serve);
        let retention =
            chrono::Duration::from_std(audit_retention).unwrap_or(chrono::Duration::days(90));
        let pruner = tokio::spawn(prune_sessions(service.clone(), retention));
        let key_reloader = tokio::spawn(reload_signing_keys(service.clone()));
        let (mail_stop, mail_stopped) = oneshot::channel::<()>();
        let worker = MailWorker::new(
            service.store().clone(),
            mail,
            service.mail_ready(),
            WorkerConfig::default(),
        );
        let mail_worker = tokio::spawn(worker.run(async move {
            let _ = mail_stopped.await;
        }));
        tracing::info!("listening on http://{local_addr}");

        let (signalled_tx, signalled_rx) = oneshot::channel::<()>();
        let shutdown = async move {
            shutdown.await;
            tracing::info!("shutting down: no new connections; finishing in-flight requests");
            let _ = signalled_tx.send(());
        };
        let server = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .into_future();
        let drain_deadline = async move {
            if signalled_rx.await.is_ok() {
                tokio::time::sleep(DRAIN_TIMEOUT).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        let result = tokio::select! {
            r = server => r.map_err(|source| Error::Io { context: "server failed".into(), source }),
            () = drain_deadline => {
                tracing::warn!("in-flight requests did not finish within {DRAIN_TIMEOUT:?}; closing them");
                Ok(())
            }
        };
        pruner.abort();
        key_reloader.abort();
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

/// The mail template renderer (plugged into the service) and the transport the worker sends
/// with: SMTP when `AUTHGATE_SMTP_URL` is set, else the `.eml` outbox.
fn mail_parts(
    config: &Config,
    service: AuthService,
) -> Result<(AuthService, Arc<dyn MailTransport>), Error> {
    let problem = |var: &str, e: authgate_mail::MailError| {
        Error::Config(crate::config::ConfigError {
            problems: vec![format!("{var}: {e}")],
        })
    };
    let renderer = TemplateRenderer::new(config.templates_dir.as_deref())
        .map_err(|e| problem("AUTHGATE_TEMPLATES_DIR", e))?;
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
        transport_from_settings(&settings).map_err(|e| problem(mail_variable(&e), e))?;
    tracing::info!(transport = %transport.describe(), "mail delivery");
    Ok((service.with_mail_renderer(Arc::new(renderer)), transport))
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

/// `GET /metrics` on a listener of its own.
struct MetricsListener {
    listener: TcpListener,
    addr: SocketAddr,
    router: Router,
}

impl MetricsListener {
    async fn bind(
        bind: SocketAddr,
        service: &AuthService,
        handle: PrometheusHandle,
    ) -> Result<MetricsListener, Error> {
        let io = |context: String| move |source| Error::Io { context, source };
        let listener = TcpListener::bind(bind).await.map_err(io(format!(
            "cannot listen on {bind} (AUTHGATE_METRICS_BIND)"
        )))?;
        let addr = listener
            .local_addr()
            .map_err(io("cannot read the metrics address".into()))?;
        tracing::info!("metrics on http://{addr}/metrics");
        Ok(MetricsListener {
            listener,
            addr,
            router: authgate_http::metrics_router(service.clone(), handle),
        })
    }

    /// Serves until the task is aborted (metrics need no graceful drain).
    fn serve(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            if let Err(e) = axum::serve(self.listener, self.router).await {
                tracing::warn!(error = %e, "the metrics listener failed");
            }
        })
    }
}

/// Loads the signer, makes the hasher and assembles the service (shared with the CLI's
/// user commands).
pub(crate) async fn build_service(
    config: &Config,
    store: Arc<dyn Store>,
) -> Result<AuthService, Error> {
    let auth = config.auth_config();
    let signer = load_signer(store.as_ref(), &auth, config.jwt_secret.as_ref())
        .await
        .map_err(Error::auth("cannot load the signing keys"))?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let hasher = PasswordHasher::new(config.hash, cores, config.hash_max_queue)
        .map_err(Error::auth("invalid password hashing parameters"))?;
    Ok(AuthService::new(store, hasher, Arc::new(signer), auth).with_limits(config.limits.clone()))
}

/// Every hour (and once at start), deletes sessions that died more than a day ago and
/// forgets rate-limit state that no longer limits anything.
async fn prune_sessions(service: AuthService, audit_retention: chrono::Duration) {
    let store = service.store().clone();
    let mut tick = tokio::time::interval(PRUNE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        service.limiter().prune();
        match service
            .prune_audit(chrono::Utc::now() - audit_retention)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "deleted audit events past their retention"),
            Err(e) => tracing::warn!(error = %e, "pruning audit events failed; will retry"),
        }
        match store.prune_sessions(chrono::Utc::now() - PRUNE_AFTER).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "deleted expired and revoked sessions"),
            Err(e) => tracing::warn!(error = %e, "pruning sessions failed; will retry"),
        }
    }
}

/// Every [`KEY_RELOAD_INTERVAL`], reads the signing keys again so that a rotation (`authgate
/// keys rotate`, or another instance) takes effect here without a restart.
async fn reload_signing_keys(service: AuthService) {
    let mut tick = tokio::time::interval(KEY_RELOAD_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate, and the keys were just loaded
    loop {
        tick.tick().await;
        if let Err(e) = service.reload_signing_keys().await {
            tracing::warn!(error = %e, "reloading the signing keys failed; will retry");
        }
    }
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("received SIGINT"),
        () = term => tracing::info!("received SIGTERM"),
    }
}

/// Buckets (seconds) of `authgate_http_request_duration_seconds`: a login hashes a password,
/// so the upper buckets reach a few seconds.
const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide Prometheus recorder, installed on first use. A recorder can be installed
/// only once per process, and tests build many [`App`]s in one process, so every app shares
/// this handle. `None` when another recorder was installed first (no `/metrics` then).
fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("authgate_http_request_duration_seconds".into()),
                    DURATION_BUCKETS,
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Prefix("authgate_password_hash_".into()),
                        DURATION_BUCKETS,
                    )
                })
                .and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::warn!("metrics disabled: cannot install the Prometheus recorder: {e}");
                    None
                }
            }
        })
        .clone()
}
