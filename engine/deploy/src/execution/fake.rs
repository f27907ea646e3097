//! A scripted executor for fast orchestration tests (Kamal's test/cli stubs SSHKit the same
//! way): it records every command, upload and tunnel per host, and answers each command from a
//! script of rules (the first rule whose pattern the command contains wins; no rule: exit 0, no
//! output). A host can be made unreachable. Local commands (the build, the local registry),
//! the programs plugins run (a builder plugin's `docker buildx build`) and terminal hand-offs
//! (`ssh -t ...`, which answer 0) are recorded and answered the same way on host
//! [`LOCAL`](super::LOCAL). Nothing leaves the process.

use super::{
    empty_success, run_one_by_one, BatchJob, BoxFuture, Executor, Job, LineSink, LocalJob, Step, Tunnel, LOCAL,
};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use wharf_plugin_host::{ProcessRunner, ProgramOutput, ProgramRun};
use wharf_ssh::{Output, SshError};

/// What a scripted command answers.
#[derive(Clone, Debug)]
pub enum Answer {
    /// Exit 0 with this stdout.
    Stdout(String),
    /// This exit status with this stderr.
    Fails(u32, String),
}

/// One thing the fake was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub host: String,
    /// The command's shell text (secrets shown masked), `upload PATH` or `forward PORT`.
    pub command: String,
}

/// Commands on `host` ("*": any) that contain `pattern` (or equal it, `exact`) answer `answer`,
/// `times` more times (`None`: always).
struct Rule {
    host: String,
    pattern: String,
    exact: bool,
    answer: Answer,
    times: Option<usize>,
}

#[derive(Default)]
struct Script {
    rules: Vec<Rule>,
    unreachable: Vec<String>,
    log: Vec<Recorded>,
    /// What was uploaded: host, path, content.
    uploads: Vec<(String, String, Vec<u8>)>,
    /// Commands containing the pattern answer only after the delay (a slow network or server).
    delays: Vec<(String, std::time::Duration)>,
    /// The exchanges (batches) asked for, in order, one round trip each over SSH: the host, and
    /// the commands sent (`upload PATH` for an upload).
    exchanges: Vec<(String, Vec<String>)>,
    /// The hosts connected to ahead ([`Executor::warm`]), each with how many things had been
    /// recorded by then.
    warmed: Vec<(String, usize)>,
}

/// See the module documentation. Cloning shares the script and the record.
#[derive(Clone, Default)]
pub struct FakeExecutor {
    script: Arc<Mutex<Script>>,
}

impl FakeExecutor {
    pub fn new() -> Self {
        Self::default()
    }

    fn script(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Commands containing `pattern` (on any host) answer `answer`.
    pub fn answer(&self, pattern: &str, answer: Answer) -> &Self {
        self.rule("*", pattern, false, answer, None)
    }

    /// Commands containing `pattern` on `host` answer `answer`.
    pub fn answer_on(&self, host: &str, pattern: &str, answer: Answer) -> &Self {
        self.rule(host, pattern, false, answer, None)
    }

    /// The command `command` exactly, on `host` ("*": any), answers `answer`.
    pub fn answer_exactly(&self, host: &str, command: &str, answer: Answer) -> &Self {
        self.rule(host, command, true, answer, None)
    }

    /// The next `times` commands containing `pattern` (on any host) answer `answer`.
    pub fn answer_times(&self, pattern: &str, times: usize, answer: Answer) -> &Self {
        self.rule("*", pattern, false, answer, Some(times))
    }

    /// The next `times` commands containing `pattern` on `host` answer `answer`.
    pub fn answer_times_on(&self, host: &str, pattern: &str, times: usize, answer: Answer) -> &Self {
        self.rule(host, pattern, false, answer, Some(times))
    }

    fn rule(&self, host: &str, pattern: &str, exact: bool, answer: Answer, times: Option<usize>) -> &Self {
        self.script().rules.push(Rule { host: host.into(), pattern: pattern.into(), exact, answer, times });
        self
    }

    /// Commands containing `pattern` print `stdout` and succeed.
    pub fn stdout(&self, pattern: &str, stdout: &str) -> &Self {
        self.answer(pattern, Answer::Stdout(stdout.to_string()))
    }

    /// Commands containing `pattern` fail with `status` and `stderr`.
    pub fn fails(&self, pattern: &str, status: u32, stderr: &str) -> &Self {
        self.answer(pattern, Answer::Fails(status, stderr.to_string()))
    }

    /// Commands containing `pattern` answer `by` later than they are sent (while other steps go
    /// on): for what happens meanwhile, an interrupt say.
    pub fn delay(&self, pattern: &str, by: std::time::Duration) -> &Self {
        self.script().delays.push((pattern.to_string(), by));
        self
    }

    /// Every connection to `host` is refused.
    pub fn unreachable(&self, host: &str) -> &Self {
        self.script().unreachable.push(host.to_string());
        self
    }

    /// Everything recorded, in order.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.script().log.clone()
    }

    /// What the last upload of `path` to `host` wrote, as text.
    pub fn uploaded(&self, host: &str, path: &str) -> Option<String> {
        let script = self.script();
        let found = script.uploads.iter().rev().find(|(h, p, _)| h == host && p == path);
        found.map(|(_, _, content)| String::from_utf8_lossy(content).into_owned())
    }

    /// How many exchanges (batches of commands, one round trip each over SSH) `host` was sent.
    pub fn exchanges_on(&self, host: &str) -> usize {
        self.script().exchanges.iter().filter(|(h, _)| h == host).count()
    }

    /// The exchanges `host` was sent, in order: the commands each one carried.
    pub fn exchanges_of(&self, host: &str) -> Vec<Vec<String>> {
        self.script().exchanges.iter().filter(|(h, _)| h == host).map(|(_, sent)| sent.clone()).collect()
    }

    /// The commands run on `host`, in order.
    pub fn commands_on(&self, host: &str) -> Vec<String> {
        self.script().log.iter().filter(|r| r.host == host).map(|r| r.command.clone()).collect()
    }

    /// The hosts connected to ahead, in order, each with the commands recorded before
    /// ([`Self::recorded`]'s length then).
    pub fn warmed(&self) -> Vec<(String, usize)> {
        self.script().warmed.clone()
    }

    /// Every command run anywhere, in order.
    pub fn commands(&self) -> Vec<String> {
        self.script().log.iter().map(|r| r.command.clone()).collect()
    }

    fn refused(&self, host: &str) -> Option<SshError> {
        self.script()
            .unreachable
            .iter()
            .any(|h| h == host)
            .then(|| SshError::ConnectionRefused { host: host.to_string(), port: 22 })
    }

    fn record(&self, host: &str, command: String) {
        self.script().log.push(Recorded { host: host.to_string(), command });
    }

    fn answer_for(&self, host: &str, command: &str) -> Output {
        let mut script = self.script();
        let found = script.rules.iter_mut().find(|r| {
            (r.host == "*" || r.host == host)
                && if r.exact { command == r.pattern } else { command.contains(r.pattern.as_str()) }
                && r.times.is_none_or(|n| n > 0)
        });
        let Some(rule) = found else { return empty_success() };
        if let Some(n) = rule.times.as_mut() {
            *n -= 1;
        }
        match rule.answer.clone() {
            Answer::Stdout(s) => Output { exit_status: 0, exit_signal: None, stdout: s.into_bytes(), stderr: vec![] },
            Answer::Fails(status, e) => {
                Output { exit_status: status, exit_signal: None, stdout: vec![], stderr: e.into_bytes() }
            }
        }
    }
}

struct FakeTunnel;

impl Tunnel for FakeTunnel {
    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

impl Executor for FakeExecutor {
    fn run_batch<'a>(&'a self, jobs: Vec<BatchJob<'a>>) -> BoxFuture<'a, Result<Vec<Output>, SshError>> {
        let host = jobs.first().map(|b| match &b.step {
            Step::Run(job) => job.host,
            Step::Upload { host, .. } => host,
        });
        if let Some(host) = host {
            let sent = jobs
                .iter()
                .map(|b| match &b.step {
                    Step::Run(job) => job.shown.to_string(),
                    Step::Upload { path, .. } => format!("upload {path}"),
                })
                .collect();
            self.script().exchanges.push((host.to_string(), sent));
        }
        Box::pin(run_one_by_one(self, jobs))
    }

    fn run<'a>(&'a self, job: Job<'a>, _on_line: Option<LineSink<'a>>) -> BoxFuture<'a, Result<Output, SshError>> {
        let result = match self.refused(job.host) {
            Some(e) => Err(e),
            None => {
                self.record(job.host, job.shown.to_string());
                Ok(self.answer_for(job.host, job.shown))
            }
        };
        let delay = self.script().delays.iter().find(|(p, _)| job.shown.contains(p.as_str())).map(|(_, d)| *d);
        Box::pin(async move {
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            result
        })
    }

    fn upload<'a>(
        &'a self,
        host: &'a str,
        content: &'a [u8],
        path: &'a str,
        _mode: u32,
    ) -> BoxFuture<'a, Result<(), SshError>> {
        let result = match self.refused(host) {
            Some(e) => Err(e),
            None => {
                self.record(host, format!("upload {path}"));
                self.script().uploads.push((host.to_string(), path.to_string(), content.to_vec()));
                Ok(())
            }
        };
        Box::pin(async move { result })
    }

    fn forward_remote_port<'a>(
        &'a self,
        host: &'a str,
        remote_port: u16,
        _local: SocketAddr,
    ) -> BoxFuture<'a, Result<Box<dyn Tunnel>, SshError>> {
        let result = match self.refused(host) {
            Some(e) => Err(e),
            None => {
                self.record(host, format!("forward {remote_port}"));
                Ok(Box::new(FakeTunnel) as Box<dyn Tunnel>)
            }
        };
        Box::pin(async move { result })
    }

    fn warm(&self, hosts: &[String]) {
        let mut script = self.script();
        let at = script.log.len();
        script.warmed.extend(hosts.iter().map(|h| (h.clone(), at)));
    }

    fn hand_off(&self, line: &str) -> std::io::Result<i32> {
        self.record(LOCAL, format!("hand-off {line}"));
        Ok(0)
    }

    fn run_local(&self, job: LocalJob<'_>) -> std::io::Result<Output> {
        self.record(LOCAL, job.shown.to_string());
        Ok(self.answer_for(LOCAL, job.shown))
    }

    fn process_runner(&self) -> Option<Arc<dyn ProcessRunner>> {
        Some(Arc::new(self.clone()))
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// A plugin's program is recorded as its command line (`docker buildx build ...`, arguments
/// shell-quoted where needed) on [`LOCAL`], after the variables it is given that this process's
/// own environment does not have (`BUILDKIT_NO_CLIENT_TOKEN=1 docker ...`), and answered by the
/// script.
impl ProcessRunner for FakeExecutor {
    fn run(&self, program: &ProgramRun) -> ProgramOutput {
        let mut added: Vec<String> = program
            .env
            .iter()
            .filter(|(k, v)| std::env::var(k).ok().as_deref() != Some(v.as_str()))
            .map(|(k, v)| format!("{k}={}", quoted_if_needed(v)))
            .collect();
        added.sort();
        added.dedup();
        let line = added
            .into_iter()
            .chain(std::iter::once(program.program.clone()))
            .chain(program.args.iter().map(|a| quoted_if_needed(a)))
            .collect::<Vec<_>>()
            .join(" ");
        self.record(LOCAL, line.clone());
        let out = self.answer_for(LOCAL, &line);
        ProgramOutput {
            exit_code: Some(out.exit_status as i32),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// `arg` as a shell word: as it is when it needs no quoting, single-quoted otherwise.
fn quoted_if_needed(arg: &str) -> String {
    let plain = !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c));
    if plain {
        arg.to_string()
    } else {
        wharf_ssh::shell_quote(arg)
    }
}
