//! The accept loop: every connection is served by hyper with a header read timeout, at most
//! `max_connections` at once (the next ones get a 503 and are closed), over TLS when it is
//! configured; accept errors back off instead of spinning. On shutdown: stop accepting, let
//! in-flight requests finish, and close what is left after a deadline.

mod accept;
mod conn;
mod refuse;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use crate::error::Error;
use crate::tls::TlsConfig;

use conn::Protocols;

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// How one listener treats its connections.
#[derive(Clone)]
pub(crate) struct ServeOptions {
    /// Time a client has to send a request's headers (and to finish a TLS handshake); also
    /// how long an idle keep-alive connection stays open.
    pub(crate) header_read_timeout: Duration,
    /// Connections served at once; the next ones are answered 503 and closed.
    pub(crate) max_connections: usize,
    /// TLS with the current certificate, when HTTPS is built in.
    pub(crate) tls: Option<Arc<TlsConfig>>,
}

/// Serves `router` on `listener` until `shutdown` completes, then lets in-flight requests
/// finish for up to [`DRAIN_TIMEOUT`].
pub(crate) async fn serve_until(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let protocols = Arc::new(Protocols::new(&options));
    let served = Arc::new(Semaphore::new(options.max_connections));
    let refusals = Arc::new(Semaphore::new(refusal_budget(options.max_connections)));
    // Every connection task holds a receiver: `closed()` completes when the last one ends.
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut errors = accept::AcceptErrors::default();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = errors.accept(&listener) => accepted,
            () = &mut shutdown => break,
        };
        if let Ok(permit) = served.clone().try_acquire_owned() {
            let conn = conn::Conn {
                protocols: protocols.clone(),
                router: router.clone(),
                peer,
                stop: stop_rx.clone(),
            };
            tokio::spawn(async move {
                conn.serve(stream).await;
                drop(permit);
            });
        } else if let Ok(permit) = refusals.clone().try_acquire_owned() {
            errors.note_refused(options.max_connections);
            let protocols = protocols.clone();
            tokio::spawn(async move {
                refuse::overloaded(&protocols, stream).await;
                drop(permit);
            });
        } else {
            // Too many 503s still being written: closing at once is all that is left.
            errors.note_dropped(options.max_connections);
            drop(stream);
        }
    }
    drop(listener);
    drop(stop_rx);
    tracing::info!("shutting down: no new connections; finishing in-flight requests");
    let _ = stop_tx.send(true);
    if tokio::time::timeout(DRAIN_TIMEOUT, stop_tx.closed())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests did not finish within {DRAIN_TIMEOUT:?}; closing them");
    }
    Ok(())
}

/// How many over-the-cap connections may be getting their 503 at once: an eighth of the
/// cap (at least 16), so a flood past the cap costs a bounded number of descriptors too.
fn refusal_budget(max_connections: usize) -> usize {
    (max_connections / 8).max(16)
}
