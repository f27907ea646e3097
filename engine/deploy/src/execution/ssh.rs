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

impl Executor for SshExecutor {
    fn run<'a>(&'a self, job: Job<'a>, on_line: Option<LineSink<'a>>) -> BoxFuture<'a, Result<Output, SshError>> {
        Box::pin(async move {
            let options = ExecOptions { stdin: job.stdin.map(<[u8]>::to_vec), ..Default::default() };
            self.pool.exec_with(job.host, job.command, options, on_line).await
        })
    }

    fn run_batch<'a>(&'a self, jobs: Vec<BatchJob<'a>>) -> BoxFuture<'a, Result<Vec<Output>, SshError>> {
        Box::pin(async move {
            let host = match jobs.first().map(|b| &b.step) {
                None => return Ok(vec![]),
                Some(Step::Run(job)) if jobs.len() == 1 => return Ok(vec![self.run(job.clone(), None).await?]),
                Some(Step::Upload { host, content, path, mode }) if jobs.len() == 1 => {
                    return match self.pool.upload(host, content, path, *mode).await {
                        Ok(()) => Ok(vec![super::empty_success()]),
                        Err(SshError::CommandFailed { exit_status, stderr, .. }) => Ok(vec![Output {
                            exit_status,
                            exit_signal: None,
                            stdout: vec![],
                            stderr: stderr.into_bytes(),
                        }]),
                        Err(e) => Err(e),
                    };
                }
                Some(Step::Run(job)) => job.host,
                Some(Step::Upload { host, .. }) => host,
            };
            let script = batch::script(&jobs);
            let options = ExecOptions { stdin: Some(script.into_bytes()), ..Default::default() };
            let out = self.pool.exec_with(host, "sh", options, None).await?;
            batch::parse(&out.stdout, jobs.len()).ok_or_else(|| SshError::Protocol {
                host: host.to_string(),
                message: format!(
                    "a batch of {} commands answered unexpectedly (exit status {}): {}",
                    jobs.len(),
                    out.exit_status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            })
        })
    }

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
