//! The executor that runs commands on real servers, over `wharf-ssh`'s connection pool (one
//! connection per host, reused by every command).

use super::{BoxFuture, Executor, Job, LineSink, Tunnel};
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
