//! `--plan`: records every change (command, upload, tunnel, local step) instead of carrying it
//! out, and runs read-only queries through the executor it wraps, so the plan reflects the
//! servers' real state. A server that cannot be reached (a new project whose servers do not
//! exist yet) is said once and then planned as a new server: its queries answer nothing.

use super::{empty_success, BoxFuture, Effect, Executor, Job, LineSink, LocalJob, Tunnel, LOCAL};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use wharf_ssh::{Output, SshError};

pub struct PlanExecutor {
    inner: Box<dyn Executor>,
    /// What would change, per host ("local" for this machine), in order.
    planned: Mutex<Vec<(String, String)>>,
    /// Hosts that could not be reached, with why.
    unreachable: Mutex<BTreeMap<String, String>>,
}

impl PlanExecutor {
    pub fn new(inner: Box<dyn Executor>) -> Self {
        PlanExecutor { inner, planned: Mutex::new(vec![]), unreachable: Mutex::new(BTreeMap::new()) }
    }

    fn record(&self, host: &str, what: String) {
        self.planned.lock().unwrap_or_else(|e| e.into_inner()).push((host.to_string(), what));
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
            if job.effect == Effect::Change {
                self.record(job.host, job.shown.to_string());
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
        self.record(host, format!("upload {path} (mode {mode:o}, {} bytes)", content.len()));
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
