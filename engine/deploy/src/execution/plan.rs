//! `--plan`: records every change (command, upload, tunnel, local step) instead of carrying it
//! out, and runs read-only queries through the executor it wraps, so the plan reflects the
//! servers' real state. Each host's changes are numbered by the exchange they would go out in
//! (`[3]`: the third exchange with that host; a batch is one exchange). A server that cannot be reached (a new project whose servers do not
//! exist yet) is said once and then planned as a new server: its queries answer nothing.

use super::{empty_success, BatchJob, BoxFuture, Effect, Executor, Job, LineSink, LocalJob, Step, Tunnel, LOCAL};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use wharf_ssh::{Output, SshError};

pub struct PlanExecutor {
    inner: Box<dyn Executor>,
    /// What would change, per host ("local" for this machine), in order.
    planned: Mutex<Vec<(String, String)>>,
    /// Exchanges so far per host, and whether the current one is a batch (numbered once).
    exchanges: Mutex<BTreeMap<String, (usize, bool)>>,
    /// Hosts that could not be reached, with why.
    unreachable: Mutex<BTreeMap<String, String>>,
}

impl PlanExecutor {
    pub fn new(inner: Box<dyn Executor>) -> Self {
        PlanExecutor {
            inner,
            planned: Mutex::new(vec![]),
            exchanges: Mutex::new(BTreeMap::new()),
            unreachable: Mutex::new(BTreeMap::new()),
        }
    }

    fn record(&self, host: &str, what: String) {
        self.planned.lock().unwrap_or_else(|e| e.into_inner()).push((host.to_string(), what));
    }

    /// The number of `host`'s exchange that this command goes out in: a new one unless a batch
    /// is open.
    fn exchange(&self, host: &str) -> usize {
        let mut exchanges = self.exchanges.lock().unwrap_or_else(|e| e.into_inner());
        let (n, in_batch) = exchanges.entry(host.to_string()).or_insert((0, false));
        if !*in_batch {
            *n += 1;
        }
        *n
    }

    fn batch(&self, host: &str, open: bool) {
        let mut exchanges = self.exchanges.lock().unwrap_or_else(|e| e.into_inner());
        let entry = exchanges.entry(host.to_string()).or_insert((0, false));
        if open {
            entry.0 += 1;
        }
        entry.1 = open;
    }

    /// What was planned, per host in first-seen order.
    pub fn planned(&self) -> Vec<(String, String)> {
        self.planned.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

struct NoTunnel;

impl Tunnel for NoTunnel {
    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

impl Executor for PlanExecutor {
    fn run<'a>(&'a self, job: Job<'a>, on_line: Option<LineSink<'a>>) -> BoxFuture<'a, Result<Output, SshError>> {
        Box::pin(async move {
            let exchange = self.exchange(job.host);
            if job.effect == Effect::Change {
                self.record(job.host, format!("[{exchange}] {}", job.shown));
                return Ok(empty_success());
            }
            if self.unreachable.lock().unwrap_or_else(|e| e.into_inner()).contains_key(job.host) {
                return Ok(empty_success());
            }
            let host = job.host;
            match self.inner.run(job, on_line).await {
                Err(e) if e.is_connection_error() => {
                    let first = self
                        .unreachable
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(host.to_string(), e.to_string())
                        .is_none();
                    if first {
                        crate::output::say(&format!("{host} cannot be reached ({e}); planning as for a new server"));
                    }
                    Ok(empty_success())
                }
                other => other,
            }
        })
    }

    fn upload<'a>(
        &'a self,
        host: &'a str,
        content: &'a [u8],
        path: &'a str,
        mode: u32,
    ) -> BoxFuture<'a, Result<(), SshError>> {
        let exchange = self.exchange(host);
        self.record(host, format!("[{exchange}] upload {path} (mode {mode:o}, {} bytes)", content.len()));
        Box::pin(async { Ok(()) })
    }

    fn forward_remote_port<'a>(
        &'a self,
        host: &'a str,
        remote_port: u16,
        local: SocketAddr,
    ) -> BoxFuture<'a, Result<Box<dyn Tunnel>, SshError>> {
        self.record(host, format!("forward 127.0.0.1:{remote_port} to {local}"));
        Box::pin(async { Ok(Box::new(NoTunnel) as Box<dyn Tunnel>) })
    }

    fn hand_off(&self, line: &str) -> std::io::Result<i32> {
        self.record(LOCAL, format!("hand-off {line}"));
        Ok(0)
    }

    fn run_batch<'a>(&'a self, jobs: Vec<BatchJob<'a>>) -> BoxFuture<'a, Result<Vec<Output>, SshError>> {
        Box::pin(async move {
            let host = match jobs.first().map(|b| &b.step) {
                Some(Step::Run(job)) => job.host.to_string(),
                Some(Step::Upload { host, .. }) => host.to_string(),
                None => return Ok(vec![]),
            };
            self.batch(&host, true);
            let mut outputs = vec![];
            for b in jobs {
                let out = match b.step {
                    Step::Run(job) => self.run(job, None).await,
                    Step::Upload { host, content, path, mode } => {
                        self.upload(host, content, path, mode).await.map(|()| empty_success())
                    }
                };
                match out {
                    Ok(out) => {
                        // As the server's script would: a question can end the batch.
                        let stop = b.on_failure.stops_after(&out);
                        outputs.push(out);
                        if stop {
                            break;
                        }
                    }
                    Err(e) => {
                        self.batch(&host, false);
                        return Err(e);
                    }
                }
            }
            self.batch(&host, false);
            Ok(outputs)
        })
    }

    fn run_local(&self, job: LocalJob<'_>) -> std::io::Result<Output> {
        if job.effect == Effect::Change {
            self.record(LOCAL, job.shown.to_string());
            return Ok(empty_success());
        }
        self.inner.run_local(job)
    }

    fn local_step(&self, description: &str) -> bool {
        self.record(LOCAL, description.to_string());
        false
    }

    fn is_plan(&self) -> bool {
        true
    }

    fn set_redactor(&self, redactor: wharf_ssh::Redactor) {
        self.inner.set_redactor(redactor);
    }

    fn report(&self) -> Option<String> {
        let planned = self.planned.lock().unwrap_or_else(|e| e.into_inner());
        let mut hosts: Vec<&str> = vec![];
        for (h, _) in planned.iter() {
            if !hosts.contains(&h.as_str()) {
                hosts.push(h);
            }
        }
        let mut out = format!("Plan: {} command(s) on {} host(s); nothing was changed.\n", planned.len(), hosts.len());
        let unreachable = self.unreachable.lock().unwrap_or_else(|e| e.into_inner());
        if !unreachable.is_empty() {
            let names: Vec<&str> = unreachable.keys().map(String::as_str).collect();
            out.push_str(&format!("Not reached, planned as new servers: {}\n", names.join(", ")));
        }
        for h in hosts {
            out.push_str(&format!("\n{h}:\n"));
            for (host, cmd) in planned.iter() {
                if host == h {
                    out.push_str(&format!("  {cmd}\n"));
                }
            }
        }
        Some(out)
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        self.inner.close()
    }
}
