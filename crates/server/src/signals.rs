//! The signals that stop the server.

use std::future::Future;

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
///
/// On Unix the handlers are installed when this is called, not when the future is first
/// polled: the server polls it only once it is serving, and a signal arriving before then
/// (say, from a supervisor that saw the port open) would otherwise kill the process with
/// the signal's default action instead of stopping it cleanly.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let interrupt = signal(SignalKind::interrupt()).ok();
        let terminate = signal(SignalKind::terminate()).ok();
        async move {
            tokio::select! {
                () = receive(interrupt) => tracing::info!("received SIGINT"),
                () = receive(terminate) => tracing::info!("received SIGTERM"),
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("received Ctrl-C");
        } else {
            std::future::pending::<()>().await;
        }
    }
}

/// Waits for `signal`; forever if its handler could not be installed.
#[cfg(unix)]
async fn receive(signal: Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(mut s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}
