//! Reading the rest of a request body that its handler did not read (a refusal by
//! authentication, routing or a role check comes before the body is looked at), so
//! that the client hears the refusal instead of a connection reset in the middle of
//! its upload, and an HTTP/2 stream ends cleanly. What is drained is bounded by the
//! body limit and a deadline; past either, the connection is simply closed.

use std::{
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body as _, Frame, SizeHint};

use crate::app::App;

/// The longest a refusal waits for the rest of the body.
const DRAIN_DEADLINE: Duration = Duration::from_secs(5);

/// A request body the middleware can take back after the handler.
struct Shared(Arc<Mutex<Option<Body>>>);

impl hyper::body::Body for Shared {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map(|b| b.size_hint()).unwrap_or_default()
    }
}

/// Runs the request, then reads whatever of its body is left.
pub async fn drain_unread(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    if body.is_end_stream() {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let slot = Arc::new(Mutex::new(Some(body)));
    let response = next.run(Request::from_parts(parts, Body::new(Shared(slot.clone())))).await;
    let rest = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(rest) = rest.filter(|b| !b.is_end_stream()) {
        let limit = app.settings().limits.body_bytes;
        let _ = tokio::time::timeout(DRAIN_DEADLINE, Limited::new(rest, limit).collect()).await;
    }
    response
}
