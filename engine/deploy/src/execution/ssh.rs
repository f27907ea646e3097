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

/// Scripts up to this size, with no input, go in the exec request itself (one argument of the
/// server's shell, under Linux's 128 KiB limit for one); larger ones on standard input.
const MAX_INLINE_SCRIPT: usize = 100_000;

impl SshExecutor {
    /// Runs `jobs` as one script (see [`batch`]).
    ///
    /// A script that carries input (a file's content, a command's stdin: an env file's
    /// secrets, a registry password) goes on the standard input of a shell started ahead
    /// ([`Pool::exec_script`]): in a command line, anyone on the server could read it (`ps`).
    /// Any other script goes in the command line: OpenSSH's server opens a session channel with
    /// a window of 0 and widens it only once the command starts, so on a channel of its own,
    /// standard input would wait a round trip more.
    async fn run_script(&self, host: &str, jobs: &[BatchJob<'_>]) -> Result<Vec<Output>, SshError> {
        let script = batch::script(jobs);
        let out = if script.carries_input || script.text.len() > MAX_INLINE_SCRIPT {
            self.pool.exec_script(host, script.text.as_bytes(), ExecOptions::default()).await?
        } else {
            let command = format!("sh -c {}", wharf_ssh::shell_quote(&script.text));
            self.pool.exec_with(host, &command, ExecOptions::default(), None).await?
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
            // A command with input and nothing to stream: its input goes in a script (see
            // `run_script`), on a shell started ahead: a round trip sooner.
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

    fn warm(&self, hosts: &[String]) {
        for host in hosts {
            let (pool, host) = (self.pool.clone(), host.clone());
            tokio::spawn(async move {
                // A failure is left to the first command for the host to report.
                let _ = pool.warm(&host).await;
            });
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::{Effect, Job, OnFailure};
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use std::time::Duration;
    use wharf_ssh::{HostKeyPolicy, SshConfigFiles};

    fn run<'a>(host: &'a str, command: &'a str, stdin: Option<&'a [u8]>) -> BatchJob<'a> {
        BatchJob {
            step: Step::Run(Job { host, command, shown: command, stdin, effect: Effect::Change }),
            on_failure: OnFailure::Stop,
        }
    }

    /// What a batch carries for its commands (a file's content, a command's stdin) is never in
    /// a command line on the server, where anyone there could read it: a command of the same
    /// batch lists them all while the batch runs.
    #[test]
    fn a_batch_input_is_in_no_command_line_on_the_server() {
        let Some((_lab_lock, lab)) = wharf_testkit::lab::lab() else { return };
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(batch_input_is_in_no_command_line(lab));
    }

    async fn batch_input_is_in_no_command_line(lab: &wharf_testkit::lab::Lab) {
        let host = lab.var("HOSTLAB_HOSTS").split_whitespace().next().expect("a lab host").to_string();
        let executor = SshExecutor::new(SshOptions {
            keys: Some(vec![lab.var("HOSTLAB_KEY").into()]),
            identity_agent: Some("none".into()),
            config: SshConfigFiles::Disabled,
            user_known_hosts_files: Some(vec![lab.var("HOSTLAB_KNOWN_HOSTS").into()]),
            global_known_hosts_files: Some(vec![]),
            verify_host_key: Some(HostKeyPolicy::Always),
            connect_timeout: Some(Duration::from_secs(10)),
            ..Default::default()
        });
        let env_file: &'static [u8] = b"SECRET_TOKEN=in-no-command-line-4242\n";
        let password: &'static [u8] = b"registry-password-in-no-command-line";
        let path = format!("/tmp/wharf-executor-test-{}.env", std::process::id());
        let upload = BatchJob {
            step: Step::Upload { host: &host, content: env_file, path: &path, mode: 0o600 },
            on_failure: OnFailure::Stop,
        };
        let login = run(&host, "cat >/dev/null", Some(password));
        let list = run(&host, "ps -eo args; cat /tmp/wharf-executor-test-*.env", None);
        let outs = tokio::time::timeout(Duration::from_secs(60), executor.run_batch(vec![upload, login, list]))
            .await
            .expect("the batch answers")
            .expect("the batch runs");
        let listed = outs[2].stdout_str();
        assert!(listed.contains("ps -eo args"), "{listed}");
        assert!(listed.contains("SECRET_TOKEN=in-no-command-line-4242"), "the file was written: {listed}");
        let processes: Vec<&str> = listed.lines().filter(|l| !l.starts_with("SECRET_TOKEN=")).collect();
        for secret in [env_file, password] {
            for shape in [String::from_utf8_lossy(secret).trim().to_string(), STANDARD.encode(secret)] {
                let showing: Vec<&&str> = processes.iter().filter(|l| l.contains(&shape)).collect();
                assert!(showing.is_empty(), "{shape:?} is in a command line on the server: {showing:?}");
            }
        }
        executor.pool.exec(&host, &format!("rm -f {path}")).await.expect("cleanup");
    }
}
