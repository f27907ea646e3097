//! A client socket that holds its connection's place in the `connections` table (freed when the
//! socket closes, also after a websocket upgrade has carried it away from the HTTP server),
//! tells the table when a request's first bytes arrive, and gives up on a client that takes
//! none of the response for `--http-write-timeout` (nginx's `send_timeout`): a slow reader
//! cannot hold a connection for ever.

use crate::connections::Slot;
use crate::stall::StallTimer;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct TrackedIo<T> {
    /// Declared first: dropped (out of the table) before the socket closes.
    slot: Slot,
    inner: T,
    /// Runs while a write waits for the client to take data.
    stall: StallTimer,
}

impl<T> TrackedIo<T> {
    pub fn new(inner: T, slot: Slot, write_timeout: Option<Duration>) -> Self {
        Self { slot, inner, stall: StallTimer::new(write_timeout) }
    }

    fn on_write<R>(&mut self, cx: &mut Context<'_>, polled: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        match polled {
            Poll::Pending => self.stall.poll_waiting(cx).map(|timeout| {
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("client took none of the response for {}", crate::duration::format(timeout)),
                ))
            }),
            ready => {
                self.stall.progressed();
                ready
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TrackedIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.slot.conn().on_read();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TrackedIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        self.on_write(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.on_write(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.on_write(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
