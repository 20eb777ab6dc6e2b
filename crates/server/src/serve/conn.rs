//! One connection: the TLS handshake (bounded by the header read timeout), then HTTP/1.1
//! or, when TLS negotiated it by ALPN, HTTP/2, with the router as the service. A shutdown
//! signal closes the connection gracefully (idle ones at once, busy ones after their
//! request); an HTTP/2 connection with no request for the header read timeout is closed
//! the same way (HTTP/1.1 connections get that from hyper's header read timeout).

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tower::ServiceExt;

use super::ServeOptions;
use crate::tls::TlsConfig;

/// The HTTP settings every connection of a listener is served with.
pub(super) struct Protocols {
    /// HTTP/1.1 with the header read timeout.
    pub(super) h1: auto::Builder<TokioExecutor>,
    /// HTTP/1.1 that closes after one answer (the 503s over the cap).
    pub(super) h1_once: auto::Builder<TokioExecutor>,
    /// HTTP/2, for TLS connections that chose it by ALPN.
    pub(super) h2: auto::Builder<TokioExecutor>,
    /// The header read timeout (and TLS handshake timeout).
    pub(super) header_read_timeout: Duration,
    /// TLS, when HTTPS is built in.
    pub(super) tls: Option<Arc<TlsConfig>>,
}

impl Protocols {
    /// The builders for `options`.
    pub(super) fn new(options: &ServeOptions) -> Protocols {
        let timeout = options.header_read_timeout;
        let mut h1 = auto::Builder::new(TokioExecutor::new()).http1_only();
        h1.http1()
            .timer(TokioTimer::new())
            .header_read_timeout(timeout);
        let mut h1_once = h1.clone();
        h1_once.http1().keep_alive(false);
        let mut h2 = auto::Builder::new(TokioExecutor::new()).http2_only();
        h2.http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(Some(timeout))
            .keep_alive_timeout(timeout);
        Protocols {
            h1,
            h1_once,
            h2,
            header_read_timeout: timeout,
            tls: options.tls.clone(),
        }
    }
}

/// A stream after the optional TLS handshake, and whether it speaks HTTP/2.
pub(super) enum Handshaken {
    /// Plain TCP (HTTP/1.1).
    Plain(TcpStream),
    /// TLS; `h2` when ALPN chose HTTP/2.
    Tls {
        /// The decrypted stream.
        stream: Box<tokio_rustls::server::TlsStream<TcpStream>>,
        /// ALPN chose `h2`.
        h2: bool,
    },
}

impl Protocols {
    /// Completes the TLS handshake when TLS is on; `None` when it fails or takes longer than
    /// the header read timeout.
    pub(super) async fn handshake(&self, stream: TcpStream) -> Option<Handshaken> {
        let Some(tls) = &self.tls else {
            return Some(Handshaken::Plain(stream));
        };
        let accept = tls.acceptor().accept(stream);
        match tokio::time::timeout(self.header_read_timeout, accept).await {
            Ok(Ok(stream)) => {
                let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                Some(Handshaken::Tls {
                    stream: Box::new(stream),
                    h2,
                })
            }
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "TLS handshake failed");
                None
            }
            Err(_) => {
                tracing::debug!("TLS handshake timed out");
                None
            }
        }
    }
}

/// A connection to serve.
pub(super) struct Conn {
    pub(super) protocols: Arc<Protocols>,
    pub(super) router: Router,
    pub(super) peer: SocketAddr,
    /// Becomes `true` at shutdown; held until the connection ends (the drain waits for it).
    pub(super) stop: watch::Receiver<bool>,
}

impl Conn {
    /// Serves the connection until the client or the server closes it.
    pub(super) async fn serve(self, stream: TcpStream) {
        let Some(stream) = self.protocols.handshake(stream).await else {
            return;
        };
        match stream {
            Handshaken::Plain(s) => self.serve_http(s, false).await,
            Handshaken::Tls { stream, h2 } => self.serve_http(*stream, h2).await,
        }
    }

    async fn serve_http<I>(mut self, io: I, h2: bool)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let activity = Arc::new(Activity::new());
        // The router as this connection's service: each request carries the peer address
        // (as `axum::serve` gives it) and counts as activity.
        let (router, peer, tracker) = (self.router.clone(), self.peer, activity.clone());
        let service =
            TowerToHyperService::new(tower::service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                let busy = tracker.begin();
                let call = router.clone().oneshot(req);
                async move {
                    let response = call.await;
                    drop(busy);
                    response
                }
            }));
        let builder = if h2 {
            &self.protocols.h2
        } else {
            &self.protocols.h1
        };
        let mut conn = pin!(builder.serve_connection(TokioIo::new(io), service));
        let idle_limit = self.protocols.header_read_timeout;
        let mut idle_check = tokio::time::interval(idle_limit / 2);
        let mut closing = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, peer = %self.peer, "connection ended with an error");
                    }
                    break;
                }
                changed = self.stop.changed(), if !closing => {
                    if changed.is_err() || *self.stop.borrow() {
                        closing = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
                _ = idle_check.tick(), if h2 && !closing => {
                    if activity.idle_for() >= idle_limit {
                        closing = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        }
    }
}

/// When the connection last had a request in flight.
struct Activity {
    started: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `started` when the last request ended.
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_ms: AtomicU64::new(0),
        }
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy(self.clone())
    }

    /// How long no request has been in flight (zero while one is).
    fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Duration::ZERO;
        }
        let last = Duration::from_millis(self.last_ms.load(Ordering::Acquire));
        self.started.elapsed().saturating_sub(last)
    }
}

/// A request in flight; ending it records the time.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let now = u64::try_from(self.0.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.0.last_ms.store(now, Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}
