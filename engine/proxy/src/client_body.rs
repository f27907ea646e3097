//! A client's request body on its way to the target: a client that pauses longer than
//! `--http-body-timeout` between two pieces of it is given up on (nginx's `client_body_timeout`;
//! the clock only runs while the proxy is waiting for the client, not while the target is slow to
//! take the body), and a body the client got wrong (a malformed chunk, a connection closed
//! early) is reported as the client's error, so that it gets 400 or 408 rather than a 502.

use crate::stall::StallTimer;
use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ClientBodyError {
    #[error("client sent no request body data for {0}")]
    Timeout(String),
    #[error("invalid request body: {0}")]
    Invalid(hyper::Error),
}

impl ClientBodyError {
    /// The client's error somewhere in `error`'s chain of sources, if it is one.
    pub fn find<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a ClientBodyError> {
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(e) = current {
            if let Some(found) = e.downcast_ref::<ClientBodyError>() {
                return Some(found);
            }
            current = e.source();
        }
        None
    }
}

pub struct ClientBody {
    inner: Incoming,
    stall: StallTimer,
}

impl ClientBody {
    pub fn new(inner: Incoming, timeout: Option<Duration>) -> Self {
        Self { inner, stall: StallTimer::new(timeout) }
    }
}

impl Body for ClientBody {
    type Data = Bytes;
    type Error = ClientBodyError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Pending => {
                self.stall.poll_waiting(cx).map(|t| Some(Err(ClientBodyError::Timeout(crate::duration::format(t)))))
            }
            Poll::Ready(frame) => {
                self.stall.progressed();
                Poll::Ready(frame.map(|f| f.map_err(ClientBodyError::Invalid)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
