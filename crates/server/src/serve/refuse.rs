//! Connections over the cap: each gets one `503 overloaded` in the contract's JSON (with
//! `Retry-After`) and is closed; the whole exchange is bounded by the header read timeout.

use std::convert::Infallible;

use authgate_core::AuthError;
use authgate_http::error::ApiError;
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpStream;

use super::conn::{Handshaken, Protocols};

/// Answers one request on `stream` with 503 `overloaded` and closes it.
pub(super) async fn overloaded(protocols: &Protocols, stream: TcpStream) {
    let limit = protocols.header_read_timeout;
    let answer = async {
        let service =
            TowerToHyperService::new(tower::service_fn(|_req: Request<Incoming>| async {
                Ok::<_, Infallible>(ApiError::Auth(AuthError::Overloaded).into_response())
            }));
        let result = match protocols.handshake(stream).await? {
            Handshaken::Plain(s) => {
                protocols
                    .h1_once
                    .serve_connection(TokioIo::new(s), service)
                    .await
            }
            Handshaken::Tls { stream, h2 } => {
                let builder = if h2 {
                    &protocols.h2
                } else {
                    &protocols.h1_once
                };
                builder
                    .serve_connection(TokioIo::new(*stream), service)
                    .await
            }
        };
        result.err()
    };
    if let Ok(Some(e)) = tokio::time::timeout(limit, answer).await {
        tracing::debug!(error = %e, "a refused connection ended with an error");
    }
}
