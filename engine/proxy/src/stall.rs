//! A timer for "no progress for this long": armed when an I/O operation has to wait, disarmed
//! when it makes progress, so only an unbroken wait counts (the request body and response write
//! timeouts). The sleep is allocated once and re-armed, not re-created per wait.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

pub struct StallTimer {
    timeout: Option<Duration>,
    sleep: Option<Pin<Box<Sleep>>>,
    armed: bool,
}

impl StallTimer {
    /// `None`: waits never expire.
    pub fn new(timeout: Option<Duration>) -> Self {
        Self { timeout, sleep: None, armed: false }
    }

    /// The operation has to wait: `Ready(timeout)` once it has waited `timeout` without progress.
    pub fn poll_waiting(&mut self, cx: &mut Context<'_>) -> Poll<Duration> {
        let Some(timeout) = self.timeout else { return Poll::Pending };
        let deadline = Instant::now() + timeout;
        let sleep = self.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if !self.armed {
            sleep.as_mut().reset(deadline);
            self.armed = true;
        }
        sleep.as_mut().poll(cx).map(|()| timeout)
    }

    /// The operation made progress: the next wait starts a new count.
    pub fn progressed(&mut self) {
        self.armed = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn only_an_unbroken_wait_expires() {
        let mut timer = StallTimer::new(Some(Duration::from_secs(1)));
        let waiting = |timer: &mut StallTimer| {
            let waker = futures_util::task::noop_waker();
            timer.poll_waiting(&mut Context::from_waker(&waker)).is_ready()
        };
        assert!(!waiting(&mut timer));
        tokio::time::advance(Duration::from_millis(900)).await;
        assert!(!waiting(&mut timer));
        timer.progressed();
        tokio::time::advance(Duration::from_millis(900)).await;
        assert!(!waiting(&mut timer), "progress restarted the count");
        tokio::time::advance(Duration::from_millis(200)).await;
        assert!(!waiting(&mut timer));
        tokio::time::advance(Duration::from_millis(900)).await;
        assert!(waiting(&mut timer));
        assert!(!waiting(&mut StallTimer::new(None)));
    }
}
