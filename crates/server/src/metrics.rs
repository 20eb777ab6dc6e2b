//! Prometheus metrics: the process-wide recorder, and `GET /metrics` on a listener of its
//! own when `AUTHGATE_METRICS_BIND` is set.

use std::net::SocketAddr;
use std::sync::OnceLock;

use authgate_core::AuthService;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::error::Error;

/// Buckets (seconds) of `authgate_http_request_duration_seconds`: a login hashes a password,
/// so the upper buckets reach a few seconds.
const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide Prometheus recorder, installed on first use. A recorder can be installed
/// only once per process, and tests build many apps in one process, so every app shares
/// this handle. `None` when another recorder was installed first (no `/metrics` then).
pub(crate) fn recorder() -> Option<PrometheusHandle> {
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

/// `GET /metrics` on a listener of its own.
pub(crate) struct MetricsListener {
    listener: TcpListener,
    /// The bound address.
    pub(crate) addr: SocketAddr,
    router: Router,
}

impl MetricsListener {
    /// Binds `bind` for the metrics of `service`.
    pub(crate) async fn bind(
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
    pub(crate) fn serve(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            if let Err(e) = axum::serve(self.listener, self.router).await {
                tracing::warn!(error = %e, "the metrics listener failed");
            }
        })
    }
}
