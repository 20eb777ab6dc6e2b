//! Requests whose work finishes even when the client goes away.
//!
//! hyper drops a request's future when its client disconnects (or a proxy times out), and a
//! future dropped inside a store call can leave a transaction begun and never ended, or a
//! session created but never audited. So a request's work must not be cancellable.
//!
//! The obvious way, a task per request, costs every request a spawn and usually a wake-up
//! of another worker thread (and the answer's trip back): on `GET /me` that was a large
//! part of the time. [`Completing`] instead polls the work in place, where it runs anyway,
//! and only if it is dropped unfinished hands the rest of the work to a task of its own.
//! The answer of abandoned work is discarded; the work completes.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::Response;
use axum::middleware::Next;
use axum::response::IntoResponse;
use tracing::Instrument;

use crate::error::ApiError;

/// Middleware: runs the rest of the stack so that dropping the request cannot cancel it,
/// and answers a panic in it with the contract's 500 inside the request's span (so the
/// log line carries the request id).
pub(crate) async fn run_to_completion(req: Request, next: Next) -> Response<Body> {
    let work = next.run(req).instrument(tracing::Span::current());
    match Completing::new(work).await {
        Ok(response) => response,
        Err(panic) => ApiError::Auth(authgate_core::AuthError::Internal(format!(
            "handler panicked: {}",
            panic_message(panic.as_ref())
        )))
        .into_response(),
    }
}

/// A future polled where it is awaited that, if dropped before it finished, is finished by
/// a task of its own. Resolves to the work's output, or to the payload of its panic.
pub(crate) struct Completing<F: Future + Send + 'static> {
    /// `None` once the work finished (or panicked).
    work: Option<Pin<Box<F>>>,
}

impl<F: Future + Send + 'static> Completing<F> {
    /// Wraps `work`.
    pub(crate) fn new(work: F) -> Self {
        Completing {
            work: Some(Box::pin(work)),
        }
    }
}

impl<F: Future + Send + 'static> Future for Completing<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(work) = self.work.as_mut() else {
            // Polled again after it resolved: a caller's bug; nothing is left to run.
            return Poll::Pending;
        };
        let polled = catch_unwind(AssertUnwindSafe(|| work.as_mut().poll(cx)));
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => {
                self.work = None;
                Poll::Ready(Ok(output))
            }
            Err(panic) => {
                self.work = None;
                Poll::Ready(Err(panic))
            }
        }
    }
}

impl<F: Future + Send + 'static> Drop for Completing<F> {
    fn drop(&mut self) {
        let Some(work) = self.work.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    work.await;
                });
            }
            // Only at runtime shutdown, when nothing can run any more.
            Err(_) => tracing::warn!("a request's work was dropped unfinished at shutdown"),
        }
    }
}

/// The text a panic was raised with, when it was a string.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)")
}
