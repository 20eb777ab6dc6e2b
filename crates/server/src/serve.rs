//! Serving with a graceful drain: on shutdown, stop accepting, let in-flight requests
//! finish, and close what is left after a deadline.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::error::Error;

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` until `shutdown` completes, then lets in-flight requests
/// finish for up to [`DRAIN_TIMEOUT`].
pub(crate) async fn serve_until(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
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
    tokio::select! {
        r = server => r.map_err(|source| Error::Io { context: "server failed".into(), source }),
        () = drain_deadline => {
            tracing::warn!("in-flight requests did not finish within {DRAIN_TIMEOUT:?}; closing them");
            Ok(())
        }
    }
}
