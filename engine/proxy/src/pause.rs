//! A service's run state: running, paused (requests wait until resume, or 504 after the pause
//! limit) or stopped (maintenance: 503 with an optional message).

use crate::duration::nanos;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "u8", into = "u8")]
pub enum PauseState {
    Running,
    Paused,
    Stopped,
}

impl From<u8> for PauseState {
    fn from(v: u8) -> Self {
        match v {
            1 => PauseState::Paused,
            2 => PauseState::Stopped,
            _ => PauseState::Running,
        }
    }
}

impl From<PauseState> for u8 {
    fn from(s: PauseState) -> u8 {
        s as u8
    }
}

impl PauseState {
    pub fn as_str(self) -> &'static str {
        match self {
            PauseState::Running => "running",
            PauseState::Paused => "paused",
            PauseState::Stopped => "stopped",
        }
    }
}

/// What a request should do after consulting the controller.
#[derive(Debug, PartialEq)]
pub enum WaitAction {
    Proceed,
    TimedOut,
    Stopped(String),
}

/// Upstream's JSON form of the controller, kept in the state file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PauseSnapshot {
    pub state: PauseState,
    pub stop_message: String,
    #[serde(with = "nanos")]
    pub fail_after: Duration,
}

#[derive(Debug)]
struct Inner {
    state: PauseState,
    stop_message: String,
    fail_after: Duration,
}

pub struct PauseController {
    inner: Mutex<Inner>,
    /// Bumped on every change, so paused requests wake and look again.
    changes: watch::Sender<u64>,
}

impl Default for PauseController {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner {
                state: PauseState::Running,
                stop_message: String::new(),
                fail_after: Duration::ZERO,
            }),
            changes: watch::channel(0).0,
        }
    }
}

impl PauseController {
    pub fn from_snapshot(s: &PauseSnapshot) -> Self {
        let c = Self::default();
        c.set(s.state, s.stop_message.clone(), s.fail_after);
        c
    }

    pub fn snapshot(&self) -> PauseSnapshot {
        let i = self.inner.lock().unwrap();
        PauseSnapshot { state: i.state, stop_message: i.stop_message.clone(), fail_after: i.fail_after }
    }

    pub fn state(&self) -> PauseState {
        self.inner.lock().unwrap().state
    }

    pub fn pause(&self, fail_after: Duration) {
        self.set(PauseState::Paused, String::new(), fail_after);
    }

    pub fn stop(&self, message: String) {
        self.set(PauseState::Stopped, message, Duration::ZERO);
    }

    pub fn resume(&self) {
        self.set(PauseState::Running, String::new(), Duration::ZERO);
    }

    fn set(&self, state: PauseState, message: String, fail_after: Duration) {
        {
            let mut i = self.inner.lock().unwrap();
            i.state = state;
            i.stop_message = message;
            i.fail_after = fail_after;
        }
        self.changes.send_modify(|n| *n += 1);
    }

    /// Returns at once when running or stopped; while paused, waits for a change or the limit.
    pub async fn wait(&self) -> WaitAction {
        let mut changes = self.changes.subscribe();
        let fail_after = {
            let i = self.inner.lock().unwrap();
            match i.state {
                PauseState::Running => return WaitAction::Proceed,
                PauseState::Stopped => return WaitAction::Stopped(i.stop_message.clone()),
                PauseState::Paused => i.fail_after,
            }
        };
        let deadline = tokio::time::Instant::now() + fail_after;
        loop {
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() { return WaitAction::Proceed; }
                    let i = self.inner.lock().unwrap();
                    match i.state {
                        PauseState::Running => return WaitAction::Proceed,
                        PauseState::Stopped => return WaitAction::Stopped(i.stop_message.clone()),
                        PauseState::Paused => {}
                    }
                }
                _ = tokio::time::sleep_until(deadline) => return WaitAction::TimedOut,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn paused_requests_wait_for_resume() {
        let c = Arc::new(PauseController::default());
        c.pause(Duration::from_secs(5));
        let waiter = tokio::spawn({
            let c = c.clone();
            async move { c.wait().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished());
        c.resume();
        assert_eq!(waiter.await.unwrap(), WaitAction::Proceed);
    }

    #[tokio::test]
    async fn paused_requests_time_out_and_stop_wins() {
        let c = PauseController::default();
        c.pause(Duration::from_millis(20));
        assert_eq!(c.wait().await, WaitAction::TimedOut);
        c.stop("back soon".into());
        assert_eq!(c.wait().await, WaitAction::Stopped("back soon".into()));
        assert_eq!(
            serde_json::to_string(&c.snapshot()).unwrap(),
            r#"{"state":2,"stop_message":"back soon","fail_after":0}"#
        );
    }
}
