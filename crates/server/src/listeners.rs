//! The sockets the API answers on: its port (plain HTTP, or TLS when the certificate files
//! are set, kept fresh while serving) and the optional plain-HTTP listener that only
//! redirects to https; and serving them together until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::error::Error;
use crate::serve::{serve_until, ServeOptions};
use crate::tls::TlsConfig;

/// The API's bound port with how it is served, and the redirect listener if configured.
pub(crate) struct Listeners {
    api: TcpListener,
    local_addr: SocketAddr,
    options: ServeOptions,
    redirect: Option<(TcpListener, Router)>,
}

impl Listeners {
    /// Loads the TLS files (a bad one stops start-up naming its setting) and binds the API
    /// port; `config.bind` becomes the bound address (port 0 picks one), so the public URL
    /// derived from it is final before the redirect listener is bound.
    pub(crate) async fn bind(config: &mut Config) -> Result<Listeners, Error> {
        let tls = match &config.net.tls {
            Some(files) => Some(Arc::new(TlsConfig::load(files)?)),
            None => None,
        };
        let (api, local_addr) = bind(config.bind, "AUTHGATE_BIND").await?;
        config.bind = local_addr;
        let options = ServeOptions {
            header_read_timeout: config.net.header_read_timeout,
            max_connections: config.net.max_connections(),
            tls,
        };
        let redirect = match config.net.http_redirect_addr {
            Some(addr) => {
                let (listener, _) = bind(addr, "AUTHGATE_HTTP_REDIRECT_ADDR").await?;
                let origin = url::Url::parse(&config.public_url())
                    .map(|u| u.origin().ascii_serialization())
                    .unwrap_or_default();
                Some((listener, crate::redirect::router(origin)))
            }
            None => None,
        };
        Ok(Listeners {
            api,
            local_addr,
            options,
            redirect,
        })
    }

    /// The API's bound address.
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The redirect listener's address, when `AUTHGATE_HTTP_REDIRECT_ADDR` is set.
    pub(crate) fn redirect_addr(&self) -> Option<SocketAddr> {
        self.redirect
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// Serves `router` on the API port (and the redirect listener) until `shutdown`
    /// completes and in-flight requests have drained.
    pub(crate) async fn serve(
        self,
        router: Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let scheme = if self.options.tls.is_some() {
            "https"
        } else {
            "http"
        };
        tracing::info!("listening on {scheme}://{}", self.local_addr);
        let tls_reloader = self
            .options
            .tls
            .clone()
            .map(|tls| tokio::spawn(crate::tls::keep_fresh(tls)));
        let (stop_tx, stop_rx) = watch::channel(false);
        let redirect_server = self.redirect.map(|(listener, router)| {
            let plain = ServeOptions {
                tls: None,
                ..self.options.clone()
            };
            tracing::info!(
                "redirecting http://{} to https",
                listener
                    .local_addr()
                    .map_or_else(|_| "?".into(), |a| a.to_string())
            );
            tokio::spawn(serve_until(listener, router, plain, stopped(stop_rx)))
        });
        let shutdown = async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        };

        let result = serve_until(self.api, router, self.options, shutdown).await;
        if let Some(task) = redirect_server {
            let _ = task.await;
        }
        if let Some(task) = tls_reloader {
            task.abort();
        }
        result
    }
}

/// Binds `addr`; a failure names the setting (`var`).
async fn bind(addr: SocketAddr, var: &str) -> Result<(TcpListener, SocketAddr), Error> {
    let listener = TcpListener::bind(addr).await.map_err(|source| Error::Io {
        context: format!("cannot listen on {addr} ({var})"),
        source,
    })?;
    let local = listener.local_addr().map_err(|source| Error::Io {
        context: "cannot read the bound address".into(),
        source,
    })?;
    Ok((listener, local))
}

/// Completes once `stop` turns `true` (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}
