//! The one place where commands meet servers and this machine: the [`Executor`] trait that the
//! [`Commander`](crate::commander::Commander) runs every remote command, upload and tunnel, every
//! local command (Kamal's `run_locally`: the build, the local registry, local logins) and the
//! programs that plugins run through, and its three implementations:
//!
//! - [`SshExecutor`]: the real thing, over `wharf-ssh`'s pooled connections;
//! - [`PlanExecutor`]: `--plan`: records what would change and still runs read-only queries,
//!   so a plan sees the servers' real state;
//! - [`FakeExecutor`]: for fast orchestration tests: records every command and answers from a
//!   script, without servers, SSH or root.
//!
//! The commander decides *what* runs (and prints, with `-v`, what it runs); an executor decides
//! only *how* it reaches the host.

mod batch;
mod fake;
mod here;
mod plan;
mod ssh;

pub use fake::{Answer, FakeExecutor, Recorded};
pub use plan::PlanExecutor;
pub use ssh::SshExecutor;

/// The host name under which local commands, plugins' programs and terminal hand-offs are
/// recorded (by [`FakeExecutor`] and [`PlanExecutor`]).
pub const LOCAL: &str = "local";

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use wharf_ssh::{Line, Output, SshError};

/// A boxed future, so that executors can be trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Whether a command changes the server or only reads from it (`--plan` runs only queries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Change,
    Query,
}

/// One command for one host.
#[derive(Clone, Debug)]
pub struct Job<'a> {
    pub host: &'a str,
    /// The shell text that runs on the host.
    pub command: &'a str,
    /// The same with secrets masked: what plans and errors show.
    pub shown: &'a str,
    pub stdin: Option<&'a [u8]>,
    pub effect: Effect,
}

/// What a command of a batch does when it exits non-zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// The batch stops there (the commander then reports the command's failure).
    Stop,
    /// The batch goes on (Kamal's `raise_on_non_zero_exit: false`).
    Continue,
    /// The batch goes on only when the command fails: a question whose success means that what
    /// follows must wait for the caller (see `Commander::probe_then`).
    StopOnSuccess,
}

impl OnFailure {
    /// Whether the batch ends after a command that answered `out`.
    pub fn stops_after(self, out: &Output) -> bool {
        match self {
            OnFailure::Stop => !out.success(),
            OnFailure::StopOnSuccess => out.success(),
            OnFailure::Continue => false,
        }
    }
}

/// What one entry of a batch does.
#[derive(Clone, Debug)]
pub enum Step<'a> {
    Run(Job<'a>),
    /// [`Executor::upload`]: `content` to `path` on `host` with `mode`.
    Upload {
        host: &'a str,
        content: &'a [u8],
        path: &'a str,
        mode: u32,
    },
}

/// One entry of a batch.
#[derive(Clone, Debug)]
pub struct BatchJob<'a> {
    pub step: Step<'a>,
    pub on_failure: OnFailure,
}

/// One command for this machine.
#[derive(Clone, Debug)]
pub struct LocalJob<'a> {
    /// The shell text, run with `sh -c`.
    pub command: &'a str,
    /// The same with secrets masked.
    pub shown: &'a str,
    pub dir: &'a Path,
    pub env: &'a [(String, String)],
    pub stdin: Option<&'a [u8]>,
    pub effect: Effect,
}

/// Called with each line of output as it arrives (remote builds show their progress with `-v`).
pub type LineSink<'a> = &'a mut (dyn FnMut(Line<'_>) + Send);

/// An open reverse tunnel (`ssh -R`), closed by [`Tunnel::close`] or when dropped.
pub trait Tunnel: Send {
    fn close(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// Where commands run. See the module documentation.
pub trait Executor: Send + Sync {
    /// Runs a command; a non-zero exit is an [`Output`], not an error (the commander decides).
    fn run<'a>(&'a self, job: Job<'a>, on_line: Option<LineSink<'a>>) -> BoxFuture<'a, Result<Output, SshError>>;

    /// Runs `jobs` (all for `host`) in order, stopping after the first that fails with
    /// [`OnFailure::Stop`]; the outputs of those that ran. Executors that can send them as one
    /// exchange do (SSH: one remote script, one round trip); the default runs them one by one.
    fn run_batch<'a>(&'a self, jobs: Vec<BatchJob<'a>>) -> BoxFuture<'a, Result<Vec<Output>, SshError>> {
        Box::pin(run_one_by_one(self, jobs))
    }

    /// Writes `content` to `path` on `host` with `mode`, atomically.
    fn upload<'a>(
        &'a self,
        host: &'a str,
        content: &'a [u8],
        path: &'a str,
        mode: u32,
    ) -> BoxFuture<'a, Result<(), SshError>>;

    /// Forwards `127.0.0.1:remote_port` on `host` to `local` on this machine.
    fn forward_remote_port<'a>(
        &'a self,
        host: &'a str,
        remote_port: u16,
        local: SocketAddr,
    ) -> BoxFuture<'a, Result<Box<dyn Tunnel>, SshError>>;

    /// Hands the terminal to `line`, a local command (`ssh -t HOST ...`, as Kamal's `exec`
    /// does for `app exec -i` and `logs --follow`), and waits for it; its exit status.
    fn hand_off(&self, line: &str) -> std::io::Result<i32> {
        let status = std::process::Command::new("sh").arg("-c").arg(line).status()?;
        Ok(status.code().unwrap_or(255))
    }

    /// Runs a command on this machine; a non-zero exit is an [`Output`], not an error.
    fn run_local(&self, job: LocalJob<'_>) -> std::io::Result<Output> {
        here::run(&job)
    }

    /// Where plugins' granted programs run instead of this machine (`None`: here, with the
    /// plugin host's own limits).
    fn process_runner(&self) -> Option<Arc<dyn wharf_plugin_host::ProcessRunner>> {
        None
    }

    /// A step that happens on this machine (a hook, a local build): whether to carry it out.
    /// A plan records it and answers no.
    fn local_step(&self, _description: &str) -> bool {
        true
    }

    /// Whether this executor only plans (nothing changes anywhere).
    fn is_plan(&self) -> bool {
        false
    }

    /// Starts connecting to `hosts` in the background, for commands that come later (after a
    /// build): nothing runs on them, and a host that cannot be reached is reported by the first
    /// command that needs it, as without this.
    fn warm(&self, _hosts: &[String]) {}

    /// Masks these values in what the executor itself shows (connection logs).
    fn set_redactor(&self, _redactor: wharf_ssh::Redactor) {}

    /// What a plan recorded, ready to print; `None` for executors that carry things out.
    fn report(&self) -> Option<String> {
        None
    }

    /// Closes connections.
    fn close(&self) -> BoxFuture<'_, ()>;
}

/// An exit status of 0 with no output: what a change answers under `--plan`.
pub fn empty_success() -> Output {
    Output { exit_status: 0, exit_signal: None, stdout: vec![], stderr: vec![] }
}

/// [`Executor::run_batch`] one job after another: the outputs of those that ran, stopping after
/// the first that fails with [`OnFailure::Stop`].
pub async fn run_one_by_one<'a, E: Executor + ?Sized>(
    executor: &'a E,
    jobs: Vec<BatchJob<'a>>,
) -> Result<Vec<Output>, SshError> {
    let mut outputs = vec![];
    for b in jobs {
        let out = match b.step {
            Step::Run(job) => executor.run(job, None).await?,
            Step::Upload { host, content, path, mode } => match executor.upload(host, content, path, mode).await {
                Ok(()) => empty_success(),
                Err(SshError::CommandFailed { exit_status, stderr, .. }) => {
                    Output { exit_status, exit_signal: None, stdout: vec![], stderr: stderr.into_bytes() }
                }
                Err(e) => return Err(e),
            },
        };
        let stop = b.on_failure.stops_after(&out);
        outputs.push(out);
        if stop {
            break;
        }
    }
    Ok(outputs)
}
