//! A set of targets deployed together (a service's active or rollout set): health checks for
//! each, round robin over the healthy ones, read targets with writer affinity, "all healthy"
//! for deploys to wait on, and draining.

use crate::health;
use crate::log_info;
use crate::options::TargetOptions;
use crate::target::{InflightGuard, Target, TargetState};
use http::HeaderMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub const WRITER_COOKIE_NAME: &str = "kamal-writer";
pub const AFFINITY_OPT_OUT_HEADER: &str = "x-writer-affinity";

#[derive(Default)]
struct Selection {
    writers: Vec<Arc<Target>>,
    readers: Vec<Arc<Target>>,
    writer_index: usize,
    reader_index: usize,
}

pub struct LoadBalancer {
    all: Vec<Arc<Target>>,
    selection: Mutex<Selection>,
    all_healthy: watch::Sender<bool>,
    stop_health_checks: CancellationToken,
    multi_target: bool,
    has_readers: bool,
    pub writer_affinity_timeout: Duration,
    read_targets_accept_websockets: bool,
}

/// The target a request was given.
pub struct Claim {
    pub target: Arc<Target>,
    pub guard: InflightGuard,
    /// Set when the answer should carry the writer-affinity cookie.
    pub set_writer_cookie: bool,
}

impl LoadBalancer {
    pub fn new(
        writers: &[String],
        readers: &[String],
        options: Arc<TargetOptions>,
        writer_affinity_timeout: Duration,
        read_targets_accept_websockets: bool,
    ) -> Arc<Self> {
        let all: Vec<Arc<Target>> = writers
            .iter()
            .map(|w| Target::new(w, false, options.clone()))
            .chain(readers.iter().map(|r| Target::new(r, true, options.clone())))
            .collect();
        Arc::new(Self {
            multi_target: all.len() > 1,
            has_readers: !readers.is_empty(),
            all,
            selection: Mutex::new(Selection::default()),
            all_healthy: watch::channel(false).0,
            stop_health_checks: CancellationToken::new(),
            writer_affinity_timeout,
            read_targets_accept_websockets,
        })
    }

    pub fn targets(&self) -> &[Arc<Target>] {
        &self.all
    }

    pub fn writer_names(&self) -> Vec<String> {
        self.all.iter().filter(|t| !t.readonly()).map(|t| t.address().to_string()).collect()
    }

    pub fn reader_names(&self) -> Vec<String> {
        self.all.iter().filter(|t| t.readonly()).map(|t| t.address().to_string()).collect()
    }

    /// Starts one health-check task per target.
    pub fn begin_health_checks(self: &Arc<Self>) {
        for target in &self.all {
            let lb: Weak<LoadBalancer> = Arc::downgrade(self);
            let target = target.clone();
            let stop = self.stop_health_checks.clone();
            let config = target.options.health_check_config.clone();
            let url = health::check_url(target.address(), &config);
            tokio::spawn(async move {
                let mut ticker = tokio::time::interval(config.interval.max(Duration::from_millis(10)));
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = ticker.tick() => {}
                    }
                    let result = tokio::select! {
                        _ = stop.cancelled() => return,
                        r = health::check(&url, &config) => r,
                    };
                    if let Err(reason) = &result {
                        log_info!("Healthcheck failed", "url" => url, "error" => reason);
                    }
                    let Some(lb) = lb.upgrade() else { return };
                    if let Some(state) = target.health_check_completed(result.is_ok()) {
                        log_info!("Target health updated", "target" => target.address(), "state" => state.as_str());
                        lb.update_healthy_targets();
                    }
                }
            });
        }
    }

    /// Marks every target healthy without checking (used by `--force`-less restores of old state
    /// is *not* this: restores re-check; this is for tests and forced deploys' bookkeeping).
    pub fn mark_all_healthy(&self) {
        for t in &self.all {
            t.set_state(TargetState::Healthy);
        }
        self.update_healthy_targets();
    }

    pub fn is_all_healthy(&self) -> bool {
        *self.all_healthy.borrow()
    }

    /// Waits until every target has passed a health check.
    pub async fn wait_until_healthy(&self, timeout: Duration) -> Result<(), String> {
        let mut rx = self.all_healthy.subscribe();
        let healthy = tokio::time::timeout(timeout, async { rx.wait_for(|healthy| *healthy).await.is_ok() }).await;
        match healthy {
            Ok(true) => Ok(()),
            _ => Err(format!(
                "target failed to become healthy within configured timeout ({})",
                crate::duration::format(timeout)
            )),
        }
    }

    pub fn dispose(&self) {
        self.stop_health_checks.cancel();
    }

    pub async fn drain_all(&self, timeout: Duration) {
        futures_util::future::join_all(self.all.iter().map(|t| t.drain(timeout))).await;
    }

    /// Picks a target for a request and registers it in flight. `None`: no healthy target (503).
    pub fn claim(&self, method: &http::Method, headers: &HeaderMap) -> Option<Claim> {
        let read_request = self.is_read_request(method, headers);
        let treat_as_read = read_request && !has_live_writer_cookie(headers);
        let target = {
            let mut sel = self.selection.lock().unwrap();
            if treat_as_read && !sel.readers.is_empty() {
                sel.reader_index = (sel.reader_index + 1) % sel.readers.len();
                sel.readers[sel.reader_index].clone()
            } else if !sel.writers.is_empty() {
                sel.writer_index = (sel.writer_index + 1) % sel.writers.len();
                sel.writers[sel.writer_index].clone()
            } else {
                return None;
            }
        };
        let guard = target.start_request().ok()?;
        let set_writer_cookie = self.writer_affinity_timeout > Duration::ZERO && self.has_readers && !read_request;
        Some(Claim { target, guard, set_writer_cookie })
    }

    fn is_read_request(&self, method: &http::Method, headers: &HeaderMap) -> bool {
        (method == http::Method::GET || method == http::Method::HEAD)
            && (self.read_targets_accept_websockets || !crate::target::is_websocket(headers))
    }

    fn update_healthy_targets(&self) {
        let mut healthy = 0;
        {
            let mut sel = self.selection.lock().unwrap();
            sel.writers.clear();
            sel.readers.clear();
            for t in &self.all {
                if t.state() == TargetState::Healthy {
                    healthy += 1;
                    if t.readonly() {
                        sel.readers.push(t.clone());
                    } else {
                        sel.writers.push(t.clone());
                    }
                }
            }
            // A single target that is healthy needs no more checks: taking it out of the pool
            // later would not help.
            if !self.multi_target && sel.writers.len() == 1 {
                self.stop_health_checks.cancel();
            }
        }
        if healthy == self.all.len() {
            self.all_healthy.send_replace(true);
        }
    }
}

/// The `Set-Cookie` value that routes this client's reads to writers for the affinity window.
pub fn writer_cookie(timeout: Duration) -> String {
    let expires = SystemTime::now() + timeout;
    let millis = expires.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    let cookie_expiry = httpdate(expires + Duration::from_secs(1));
    format!("{WRITER_COOKIE_NAME}={millis}; Path=/; Expires={cookie_expiry}; HttpOnly")
}

fn httpdate(t: SystemTime) -> String {
    let dt = time::OffsetDateTime::from(t);
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    dt.format(&fmt).unwrap_or_default()
}

fn has_live_writer_cookie(headers: &HeaderMap) -> bool {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64;
    crate::cookies::find(headers, WRITER_COOKIE_NAME)
        .and_then(|v| v.parse::<i64>().ok())
        .is_some_and(|expires| now < expires)
}
