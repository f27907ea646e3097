//! The executor that runs commands on real servers, over `wharf-ssh`'s connection pool (one
//! connection per host, reused by every command).

use super::{batch, BatchJob, BoxFuture, Executor, Job, LineSink, Step, Tunnel};
use std::net::SocketAddr;
use wharf_ssh::{ExecOptions, Output, Pool, RemoteForward, SshError, SshOptions};

pub struct SshExecutor {
    pool: Pool,
}

impl SshExecutor {
    pub fn new(options: SshOptions) -> Self {
        SshExecutor { pool: Pool::new(options) }
    }
}

/// Scripts up to this size go in the exec request itself (one argument of the server's shell,
/// under Linux's 128 KiB limit for one); larger ones on standard input.
const MAX_INLINE_SCRIPT: usize = 100_000;

impl SshExecutor {
    /// Runs `jobs` as one script (see [`batch`]). The script goes in the command line, not on
    /// standard input: OpenSSH's server opens a session channel with a window of 0 and widens
    /// it only once the command starts, so input would wait a round trip more.
    async fn run_script(&self, host: &str, jobs: &[BatchJob<'_>]) -> Result<Vec<Output>, SshError> {
        let script = batch::script(jobs);
        let out = if script.text.len() <= MAX_INLINE_SCRIPT {
            let command = format!("sh -c {}", wharf_ssh::shell_quote(&script.text));
            self.pool.exec_with(host, &command, ExecOptions::default(), None).await?
        } else {
            let options = ExecOptions { stdin: Some(script.text.into_bytes()), ..Default::default() };
            self.pool.exec_with(host, "sh", options, None).await?
        };
        batch::parse(&out.stdout, &out.stderr, &script.marker, jobs.len()).ok_or_else(|| SshError::Protocol {
            host: host.to_string(),
            message: format!(
                "a batch of {} commands answered unexpectedly (exit status {}): {}",
                jobs.len(),
                out.exit_status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        })
    }
}

impl Executor for SshExecutor {
    fn run<'a>(&'a self, job: Job<'a>, on_line: Option<LineSink<'a>>) -> BoxFuture<'a, Result<Output, SshError>> {
        Box::pin(async move {
            // A command with input and nothing to stream: its input goes in the script (see
            // `run_script`), a round trip sooner.
            if let (Some(stdin), None) = (job.stdin, &on_line) {
                if stdin.len() < MAX_INLINE_SCRIPT / 2 {
                    let host = job.host;
                    let jobs = [BatchJob { step: Step::Run(job), on_failure: super::OnFailure::Continue }];
                    return self.run_script(host, &jobs).await?.pop().ok_or_else(|| SshError::Protocol {
                        host: host.to_string(),
                        message: "the command did not run".into(),
                    });
                }
            }
            let options = ExecOptions { stdin: job.stdin.map(<[u8]>::to_vec), ..Default::default() };
            self.pool.exec_with(job.host, job.command, options, on_line).await
        })
    }

    fn run_batch<'a>(&'a self, jobs: Vec<BatchJob<'a>>) -> BoxFuture<'a, Result<Vec<Output>, SshError>> {
        Box::pin(async move {
            let host = match jobs.first().map(|b| &b.step) {
                None => return Ok(vec![]),
                Some(Step::Run(job)) if jobs.len() == 1 => return Ok(vec![self.run(job.clone(), None).await?]),
                Some(Step::Run(job)) => job.host,
                Some(Step::Upload { host, .. }) => host,
            };
            self.run_script(host, &jobs).await
        })
    }

    /// (The commander's uploads go through `run_batch`, as one-step scripts.)
    fn upload<'a>(
        &'a self,
        host: &'a str,
        content: &'a [u8],
        path: &'a str,
        mode: u32,
    ) -> BoxFuture<'a, Result<(), SshError>> {
        Box::pin(self.pool.upload(host, content, path, mode))
    }

    fn forward_remote_port<'a>(
        &'a self,
        host: &'a str,
        remote_port: u16,
        local: SocketAddr,
    ) -> BoxFuture<'a, Result<Box<dyn Tunnel>, SshError>> {
        Box::pin(async move {
            let forward = self.pool.forward_remote_port(host, remote_port, local).await?;
            Ok(Box::new(forward) as Box<dyn Tunnel>)
        })
    }

    fn set_redactor(&self, redactor: wharf_ssh::Redactor) {
        self.pool.set_redactor(redactor);
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.pool.close())
    }
}

impl Tunnel for RemoteForward {
    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let _ = (*self).close().await;
        })
    }
}
