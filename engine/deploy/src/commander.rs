//! The execution context every command runs in (Kamal's `KAMAL` commander): the loaded
//! configuration, the [`Executor`] every remote command goes through, which hosts and roles are
//! selected (`-h`, `-r`, `-p`), the deploy lock, hooks, and the audit log.
//!
//! Commands from `wharf-commands` are run here: `exec` for changes, `capture` for read-only
//! queries. Under `--plan` the executor is a [`PlanExecutor`] that records changes and still
//! runs queries, so a plan sees the servers' real state.
//!
//! Fewer round trips: a change whose answer nothing waits for (an audit line, a `mkdir`, a
//! pull, the env file) can be *deferred* ([`Commander::defer`], [`Commander::defer_upload`]):
//! it is held back and sent with the next command this host must answer, or when the host's
//! part of an [`on`](Commander::on) block ends, all in one batch (one remote script over SSH:
//! one round trip). The batch stops at the first deferred change that fails, which is then
//! reported as if it had run alone, so the order of commands on a host and what a failure
//! stops are those of running them one by one.

use crate::error::{CliError, Result};
use crate::execution::{BatchJob, Effect, Executor, Job, LineSink, OnFailure, PlanExecutor, SshExecutor, Step, Tunnel};
use crate::hooks::{Hooks, HOOKS_WITH_SECRETS};
use crate::options::GlobalOptions;
use crate::output;
use crate::prefetch::{Derive, Prefetch};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use wharf_commands::tags::{Details, Stamp};
use wharf_commands::{Auditor, Cmd};
use wharf_config::{Configuration, Role};
use wharf_ssh::{Output, Redactor, SshError, SshOptions};

pub struct Commander {
    pub config: Configuration,
    executor: Box<dyn Executor>,
    pub global: GlobalOptions,
    pub dir: PathBuf,
    pub hooks: Hooks,
    /// The WASM plugins of `x-wharf` (hooks, builder).
    pub plugins: crate::plugins::Plugins,
    pub performer: String,
    pub user_name: String,
    /// The time audit lines and hooks record (seconds since the epoch); `None`: now. Tests fix it.
    pub clock: Option<i64>,
    pub plan: bool,
    pub command: String,
    pub subcommand: Option<String>,
    pub secrets: Arc<wharf_secrets::Secrets>,
    holding_lock: AtomicBool,
    /// `--hosts` (or the primary host with `--primary`); changed for a while by
    /// [`Self::with_specific_hosts`].
    specific_hosts: std::sync::RwLock<Option<Vec<String>>>,
    /// `--roles`; changed for a while by [`Self::with_specific_roles`].
    specific_roles: std::sync::RwLock<Option<Vec<String>>>,
    redactor: Redactor,
    /// Deferred changes per host, in order (see the module documentation).
    pending: Mutex<HashMap<String, Vec<Deferred>>>,
    /// Hosts this run has logged in to the registry (a second `docker login` changes nothing).
    logged_in: Mutex<std::collections::HashSet<String>>,
    /// Answers a later step may reuse once instead of asking again (see [`Self::remember`]).
    known: Mutex<HashMap<(String, String), String>>,
    /// Questions asked ahead, and their answers (see [`Self::prefetch`]).
    prefetch: Prefetch,
    /// `--fleet-transaction` (see [`Self::fleet_transaction`]).
    fleet_transaction: AtomicBool,
}

/// A change held back until its host's next exchange.
struct Deferred {
    what: DeferredStep,
    /// What -v and errors show.
    shown: String,
    on_failure: OnFailure,
}

impl Deferred {
    /// `cmd`, a change, as a step of a batch.
    fn change(cmd: &Cmd, on_failure: OnFailure) -> Self {
        let what = DeferredStep::Run { command: cmd.to_string(), stdin: cmd.stdin().map(<[u8]>::to_vec) };
        Deferred { what, shown: cmd.to_redacted_string(), on_failure }
    }
}

enum DeferredStep {
    Run { command: String, stdin: Option<Vec<u8>> },
    Upload { content: Vec<u8>, path: String, mode: u32 },
}

/// A selection (`--hosts`, `--roles`) changed for a while: dropping it puts the one before back.
struct Selection<'a>(&'a std::sync::RwLock<Option<Vec<String>>>, Option<Vec<String>>);

impl<'a> Selection<'a> {
    fn set(lock: &'a std::sync::RwLock<Option<Vec<String>>>, to: Vec<String>) -> Self {
        let before = lock.write().unwrap_or_else(|e| e.into_inner()).replace(to);
        Selection(lock, before)
    }
}

impl Drop for Selection<'_> {
    fn drop(&mut self) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = self.1.take();
    }
}

/// The groups of hosts a `--rolling` command works through: one host at a time, or all at once.
pub fn rolling_groups(hosts: Vec<String>, rolling: bool) -> Vec<Vec<String>> {
    if rolling {
        hosts.into_iter().map(|h| vec![h]).collect()
    } else {
        vec![hosts]
    }
}

/// `File.fnmatch` with only `*` as a wildcard, as Kamal's `filter_specific_items`.
pub fn fnmatch(pattern: &str, item: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some(a), Some(b)) if a == b => go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), item.as_bytes())
}

fn filter_specific(filters: &[String], items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for f in filters {
        for item in items {
            if fnmatch(f, item) && !out.contains(item) {
                out.push(item.clone());
            }
        }
    }
    out
}

impl Commander {
    /// A commander that reaches servers over SSH (`plan`: through a [`PlanExecutor`]).
    pub fn new(
        config: Configuration,
        global: GlobalOptions,
        dir: PathBuf,
        secrets: Arc<wharf_secrets::Secrets>,
        command: &str,
        subcommand: Option<&str>,
        plan: bool,
    ) -> Result<Self> {
        let ssh: Box<dyn Executor> = Box::new(SshExecutor::new(ssh_options(&config)?));
        let executor: Box<dyn Executor> = if plan { Box::new(PlanExecutor::new(ssh)) } else { ssh };
        Self::with_executor(config, global, dir, secrets, command, subcommand, executor)
    }

    /// A commander whose remote commands go through `executor` (tests use a
    /// [`FakeExecutor`](crate::execution::FakeExecutor)).
    pub fn with_executor(
        config: Configuration,
        global: GlobalOptions,
        dir: PathBuf,
        secrets: Arc<wharf_secrets::Secrets>,
        command: &str,
        subcommand: Option<&str>,
        executor: Box<dyn Executor>,
    ) -> Result<Self> {
        let plan = executor.is_plan();
        let hooks = Hooks::new(dir.join(config.hooks_path()), global.skip_hooks);
        let specific_roles = match &global.roles {
            Some(r) => {
                let names: Vec<String> = r.split(',').map(str::to_string).collect();
                let found = filter_specific(&names, &config.role_names());
                if found.is_empty() {
                    return Err(CliError::argument(format!("No --roles match for {}", names.join(","))));
                }
                Some(found)
            }
            None => None,
        };
        let mut specific_hosts = match &global.hosts {
            Some(h) => {
                let names: Vec<String> = h.split(',').map(str::to_string).collect();
                let found = filter_specific(&names, &config.all_hosts());
                if found.is_empty() {
                    return Err(CliError::argument(format!("No --hosts match for {}", names.join(","))));
                }
                Some(found)
            }
            None => None,
        };
        if global.primary {
            let primary = match &specific_roles {
                Some(roles) => {
                    let primary_name = config.primary_role_name();
                    let role = roles.iter().find(|r| **r == primary_name).or(roles.first());
                    role.and_then(|r| config.role(r)).and_then(|r| r.primary_host())
                }
                None => config.primary_host(),
            };
            specific_hosts = primary.map(|p| vec![p]);
        }
        let performer = crate::git::performer(&dir);
        let user_name = crate::git::user_name(&dir);
        let holding_lock = std::env::var("KAMAL_LOCK").map(|v| v == "true").unwrap_or(false);
        let plugins = crate::plugins::Plugins::new(
            &dir,
            config.wharf().clone(),
            crate::plugins::Verbosity { info: !global.quiet, debug: global.verbose },
        )
        .with_runner(executor.process_runner());
        Ok(Self {
            config,
            executor,
            global,
            hooks,
            plugins,
            performer,
            user_name,
            clock: None,
            plan,
            command: command.to_string(),
            subcommand: subcommand.map(str::to_string),
            secrets,
            holding_lock: AtomicBool::new(holding_lock),
            specific_hosts: std::sync::RwLock::new(specific_hosts),
            specific_roles: std::sync::RwLock::new(specific_roles),
            dir,
            redactor: Redactor::default(),
            pending: Mutex::new(HashMap::new()),
            logged_in: Mutex::new(Default::default()),
            known: Mutex::new(HashMap::new()),
            prefetch: Prefetch::default(),
            fleet_transaction: AtomicBool::new(false),
        })
    }

    /// Masks every known secret value in everything printed from now on.
    pub fn set_redactor(&mut self, redactor: Redactor) {
        self.executor.set_redactor(redactor.clone());
        self.redactor = redactor;
    }

    // ---- selection (Kamal::Commander::Specifics) ------------------------------------------

    fn specific_hosts(&self) -> Option<Vec<String>> {
        self.specific_hosts.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Runs `f` with only `hosts` selected, as Kamal's `KAMAL.with_specific_hosts` (`upgrade
    /// --rolling`); the selection comes back afterwards, also when `f` is dropped half-way (an
    /// interrupt).
    pub async fn with_specific_hosts<F, Fut, T>(&self, hosts: Vec<String>, f: F) -> Result<T>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let _restore = Selection::set(&self.specific_hosts, hosts);
        f().await
    }

    /// Runs `f` with only the roles `names` selected (a canary's promotion boots the roles
    /// behind no proxy); the selection comes back afterwards, as with [`Self::with_specific_hosts`].
    pub async fn with_specific_roles<F, Fut, T>(&self, names: Vec<String>, f: F) -> Result<T>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let _restore = Selection::set(&self.specific_roles, names);
        f().await
    }

    fn specific_roles(&self) -> Option<Vec<String>> {
        self.specific_roles.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn specified_hosts(&self) -> Vec<String> {
        let hosts = self.specific_hosts().unwrap_or_else(|| self.config.all_hosts());
        match &self.specific_roles() {
            Some(roles) => {
                let role_hosts: Vec<String> =
                    roles.iter().filter_map(|r| self.config.role(r)).flat_map(|r| r.hosts()).collect();
                hosts.into_iter().filter(|h| role_hosts.contains(h)).collect()
            }
            None => hosts,
        }
    }

    /// The selected roles, primary role first.
    pub fn roles(&self) -> Vec<&Role> {
        let hosts = self.specific_hosts().unwrap_or_else(|| self.config.all_hosts());
        let mut roles: Vec<&Role> = match &self.specific_roles() {
            Some(names) => names.iter().filter_map(|n| self.config.role(n)).collect(),
            None => self.config.roles().iter().collect(),
        };
        roles.retain(|r| r.hosts().iter().any(|h| hosts.contains(h)));
        let primary = self.primary_role_name();
        roles.sort_by_key(|r| if r.name() == primary { 0 } else { 1 });
        roles
    }

    pub fn primary_host(&self) -> Option<String> {
        if let Some(h) = self.specific_hosts().and_then(|h| h.into_iter().next()) {
            return Some(h);
        }
        if let Some(roles) = &self.specific_roles() {
            let primary = self.config.primary_role_name();
            let role = roles.iter().find(|r| **r == primary).or(roles.first());
            if let Some(h) = role.and_then(|r| self.config.role(r)).and_then(|r| r.primary_host()) {
                return Some(h);
            }
        }
        self.config.primary_host()
    }

    pub fn primary_role_name(&self) -> String {
        self.config.primary_role_name()
    }

    /// Kamal's `KAMAL.primary_role`: the configured primary role among the selected roles on the
    /// primary host, else the first of them.
    pub fn primary_role(&self) -> Option<&Role> {
        let configured = self.primary_role_name();
        let on = self.primary_host().map(|h| self.roles_on(&h)).unwrap_or_default();
        on.iter().find(|r| r.name() == configured).or(on.first()).copied()
    }

    pub fn roles_on(&self, host: &str) -> Vec<&Role> {
        self.roles().into_iter().filter(|r| r.hosts().iter().any(|h| h == host)).collect()
    }

    fn sort_primary_first(&self, mut hosts: Vec<String>) -> Vec<String> {
        let primary = self.primary_role_name();
        hosts.sort_by_key(|h| if self.roles_on(h).iter().any(|r| r.name() == primary) { 0 } else { 1 });
        hosts
    }

    pub fn hosts(&self) -> Vec<String> {
        self.sort_primary_first(self.specified_hosts())
    }

    pub fn app_hosts(&self) -> Vec<String> {
        let specified = self.specified_hosts();
        let hosts = self.config.app_hosts().into_iter().filter(|h| specified.contains(h)).collect();
        self.sort_primary_first(hosts)
    }

    pub fn proxy_hosts(&self) -> Vec<String> {
        let specified = self.specified_hosts();
        self.config.proxy_hosts().into_iter().filter(|h| specified.contains(h)).collect()
    }

    pub fn accessory_hosts(&self, hosts: &[String]) -> Vec<String> {
        let specified = self.specified_hosts();
        hosts.iter().filter(|h| specified.contains(h)).cloned().collect()
    }

    // ---- running ------------------------------------------------------------------------

    /// `text` with every known secret value masked.
    pub fn redact(&self, text: &str) -> String {
        self.redactor.redact(text).to_string()
    }

    /// Shows a command about to run on `host` (with -v).
    pub fn echo(&self, host: &str, cmd: &str) {
        if self.global.verbose {
            output::info(host, &format!("Running {}", self.redactor.redact(cmd)));
        }
    }

    /// Runs a command that changes the server; non-zero exit is an error naming host and command.
    pub async fn exec(&self, host: &str, cmd: &Cmd) -> Result<Output> {
        let out = self.run_logged(host, cmd, Effect::Change).await?;
        if !out.success() {
            return Err(cmd_failed(host, cmd, &out, &self.redactor));
        }
        Ok(out)
    }

    /// Like `exec`, but a non-zero exit is not an error (Kamal's `raise_on_non_zero_exit: false`).
    pub async fn exec_unchecked(&self, host: &str, cmd: &Cmd) -> Result<Output> {
        self.run_logged(host, cmd, Effect::Change).await
    }

    /// A read-only query: always runs (also under `--plan`); stdout, trimmed.
    pub async fn capture(&self, host: &str, cmd: &Cmd) -> Result<String> {
        let out = self.run_logged(host, cmd, Effect::Query).await?;
        if !out.success() {
            return Err(cmd_failed(host, cmd, &out, &self.redactor));
        }
        Ok(out.stdout_str().trim().to_string())
    }

    /// A read-only query whose failure means "nothing".
    pub async fn capture_unchecked(&self, host: &str, cmd: &Cmd) -> Result<String> {
        let out = self.run_logged(host, cmd, Effect::Query).await?;
        Ok(out.stdout_str().trim().to_string())
    }

    /// A read-only query whose whole output (status, stdout, stderr) the caller reads, shown
    /// with `-v` like any other.
    pub async fn query(&self, host: &str, cmd: &Cmd) -> Result<Output> {
        self.run_logged(host, cmd, Effect::Query).await
    }

    /// Runs `cmd`, after the host's deferred changes (in the same exchange); with -v shows each,
    /// its output and how it finished (as SSHKit does).
    async fn run_logged(&self, host: &str, cmd: &Cmd, effect: Effect) -> Result<Output> {
        let mut outputs = self.exchange(host, &[(cmd, effect)]).await?;
        Ok(outputs.pop().expect("one output per command"))
    }

    /// Read-only queries whose failure means "nothing", all in one exchange (after the host's
    /// deferred changes): each one's stdout, trimmed.
    pub async fn capture_all(&self, host: &str, cmds: &[&Cmd]) -> Result<Vec<String>> {
        let steps: Vec<(&Cmd, Effect)> = cmds.iter().map(|c| (*c, Effect::Query)).collect();
        let outputs = self.exchange(host, &steps).await?;
        Ok(outputs.iter().map(|o| o.stdout_str().trim().to_string()).collect())
    }

    /// Commands whose answers the caller reads, all in one exchange (after the host's deferred
    /// changes); each one's output, whatever its exit status (the caller decides).
    ///
    /// A question asked ahead ([`Self::prefetch`]) is answered from there, once; when every
    /// question is, nothing is sent (the held changes wait for the next exchange). Questions
    /// asked ahead for this host go along with this exchange; a question one of them covers
    /// ([`Self::prefetch_deriving`]) is not sent itself, and is asked in an exchange of its own
    /// only if the derivation left it out.
    pub fn exchange<'a>(
        &'a self,
        host: &'a str,
        cmds: &'a [(&'a Cmd, Effect)],
    ) -> futures::future::BoxFuture<'a, Result<Vec<Output>>> {
        Box::pin(async move {
            let mut answers: Vec<Option<Output>> = cmds
                .iter()
                .map(|(cmd, effect)| match effect {
                    Effect::Query => self.prefetch.take_answer(host, &cmd.to_string()),
                    Effect::Change => None,
                })
                .collect();
            let covered: Vec<bool> = cmds
                .iter()
                .zip(&answers)
                .map(|((cmd, effect), a)| {
                    a.is_none() && *effect == Effect::Query && self.prefetch.covered(host, &cmd.to_string())
                })
                .collect();
            let asked: Vec<(&Cmd, Effect)> = cmds
                .iter()
                .zip(&answers)
                .zip(&covered)
                .filter(|((_, a), covered)| a.is_none() && !**covered)
                .map(|((c, _), _)| *c)
                .collect();
            if asked.is_empty() && !covered.contains(&true) {
                return Ok(answers.into_iter().flatten().collect());
            }
            let asked_texts: Vec<String> = asked.iter().map(|(c, _)| c.to_string()).collect();
            let ahead = self.prefetch.take_pending(host, &asked_texts);
            let deferred = self.take_pending(host);
            let steps: Vec<(&Cmd, Effect)> =
                asked.iter().copied().chain(ahead.iter().map(|a| (&a.question, Effect::Query))).collect();
            let texts: Vec<(String, String)> =
                steps.iter().map(|(c, _)| (c.to_string(), c.to_redacted_string())).collect();
            let jobs: Vec<Job<'_>> = texts
                .iter()
                .zip(&steps)
                .map(|((command, shown), (cmd, effect))| Job {
                    host,
                    command,
                    shown,
                    stdin: cmd.stdin(),
                    effect: *effect,
                })
                .collect();
            let mut outputs = self.run_deferred(host, &deferred, jobs).await?;
            let mut outputs = outputs.split_off(deferred.len());
            let ahead_outputs = outputs.split_off(asked.len().min(outputs.len()));
            self.prefetch.keep(host, ahead, ahead_outputs);
            let mut fresh = outputs.into_iter();
            let mut left_out = vec![];
            for (i, a) in answers.iter_mut().enumerate() {
                if a.is_some() {
                    continue;
                }
                *a = if covered[i] { self.prefetch.take_answer(host, &cmds[i].0.to_string()) } else { fresh.next() };
                if a.is_none() {
                    left_out.push(i);
                }
            }
            if !left_out.is_empty() {
                let again: Vec<(&Cmd, Effect)> = left_out.iter().map(|i| cmds[*i]).collect();
                let outs = self.exchange(host, &again).await?;
                for (i, out) in left_out.into_iter().zip(outs) {
                    answers[i] = Some(out);
                }
            }
            Ok(answers.into_iter().flatten().collect())
        })
    }

    /// Adds read-only `questions` to `host`'s next exchange; their answers are kept for the step
    /// that asks them (once each), which then needs no exchange of its own. Only for questions
    /// whose answer nothing in between changes (`deploy`: the stale containers and the boot's
    /// questions, asked with the proxy's).
    pub fn prefetch(&self, host: &str, questions: Vec<Cmd>) {
        self.prefetch.ask(host, questions);
    }

    /// Like [`Self::prefetch`], for a question whose answer also answers the questions it
    /// `covers`, through `derive` (see [`crate::prefetch`]).
    pub fn prefetch_deriving(&self, host: &str, question: Cmd, covers: &[&Cmd], derive: Derive) {
        self.prefetch.ask_deriving(host, question, covers, derive);
    }

    /// Sends the questions asked ahead for `host` now, in an exchange of their own, and keeps
    /// their answers: for questions that the exchanges in flight meanwhile do not change (the
    /// deploy's facts, asked while the image is pulled). Held changes stay held.
    pub async fn send_ahead(&self, host: &str) -> Result<()> {
        let ahead = self.prefetch.take_pending(host, &[]);
        if ahead.is_empty() {
            return Ok(());
        }
        let texts: Vec<(String, String)> =
            ahead.iter().map(|a| (a.question.to_string(), a.question.to_redacted_string())).collect();
        let jobs: Vec<Job<'_>> = texts
            .iter()
            .zip(&ahead)
            .map(|((command, shown), a)| Job { host, command, shown, stdin: a.question.stdin(), effect: Effect::Query })
            .collect();
        let outputs = self.run_deferred(host, &[], jobs).await?;
        self.prefetch.keep(host, ahead, outputs);
        Ok(())
    }

    /// [`Self::send_ahead`] on every one of `hosts`, in parallel; the first failure is the error.
    pub async fn send_ahead_all(&self, hosts: &[String]) -> Result<()> {
        let sent = futures::future::join_all(hosts.iter().map(|h| self.send_ahead(h))).await;
        sent.into_iter().collect::<Result<Vec<()>>>().map(drop)
    }

    /// Runs `cmds` on `host` as one exchange of their own, in order, stopping at the first that
    /// fails, which is the error [`Self::exec`] would give. The host's held changes and the
    /// questions asked ahead for it wait for its next exchange: for the deploy lock, taken on the
    /// primary while its other exchanges are in flight.
    pub async fn exec_apart(&self, host: &str, cmds: &[&Cmd]) -> Result<Vec<Output>> {
        let deferred: Vec<Deferred> = cmds.iter().map(|cmd| Deferred::change(cmd, OnFailure::Stop)).collect();
        self.run_deferred(host, &deferred, vec![]).await
    }

    /// The error [`Self::exec`] gives for `cmd`'s failed `out` on `host`.
    pub fn failure(&self, host: &str, cmd: &Cmd, out: &Output) -> CliError {
        cmd_failed(host, cmd, out, &self.redactor)
    }

    /// With -v: the output of a command that ran on `host`, and how it finished.
    fn show_output(&self, host: &str, out: &Output, started: Instant) {
        if self.global.verbose {
            for line in out.stdout_str().lines().chain(out.stderr_str().lines()) {
                output::debug(host, &self.redactor.redact(line));
            }
            output::info(
                host,
                &format!(
                    "Finished in {:.3} seconds with exit status {}",
                    started.elapsed().as_secs_f64(),
                    out.exit_status
                ),
            );
        }
    }

    /// Holds back a change on `host` until its next exchange (see the module documentation);
    /// a non-zero exit then stops what follows on the host and is reported as [`Self::exec`]
    /// reports it.
    pub fn defer(&self, host: &str, cmd: &Cmd) {
        self.push_pending(host, cmd, OnFailure::Stop);
    }

    /// Like [`Self::defer`], but a non-zero exit is not an error ([`Self::exec_unchecked`]).
    pub fn defer_unchecked(&self, host: &str, cmd: &Cmd) {
        self.push_pending(host, cmd, OnFailure::Continue);
    }

    /// [`Self::upload`], held back like [`Self::defer`].
    pub fn defer_upload(&self, host: &str, content: &[u8], path: &str, mode: u32) {
        let step = DeferredStep::Upload { content: content.to_vec(), path: path.to_string(), mode };
        let d = Deferred { what: step, shown: format!("Uploading {path}"), on_failure: OnFailure::Stop };
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).entry(host.to_string()).or_default().push(d);
    }

    /// Records that this run logged `host` in to the registry.
    pub fn note_registry_login(&self, host: &str) {
        self.logged_in.lock().unwrap_or_else(|e| e.into_inner()).insert(host.to_string());
    }

    /// Whether this run already logged `host` in to the registry.
    pub fn registry_login_done(&self, host: &str) -> bool {
        self.logged_in.lock().unwrap_or_else(|e| e.into_inner()).contains(host)
    }

    /// Keeps `answer` to `cmd` on `host` for a later step that would ask the same before anything
    /// changes it (`stale_containers`' running version, reused by `app boot`).
    pub fn remember(&self, host: &str, cmd: &Cmd, answer: &str) {
        self.known.lock().unwrap_or_else(|e| e.into_inner()).insert((host.to_string(), cmd.to_string()), answer.into());
    }

    /// The answer [`Self::remember`] kept, once.
    pub fn recall(&self, host: &str, cmd: &Cmd) -> Option<String> {
        self.known.lock().unwrap_or_else(|e| e.into_inner()).remove(&(host.to_string(), cmd.to_string()))
    }

    /// Appends a deferred audit line (see [`Self::audit`]).
    pub fn defer_audit(&self, host: &str, role: Option<&str>, message: &str) {
        self.defer(host, &self.audit_line(role, message));
    }

    /// The command that appends `message` to the audit log, now.
    pub fn audit_line(&self, role: Option<&str>, message: &str) -> Cmd {
        let details = Details::new().with_opt("role", role);
        Auditor::new(&self.config, Details::new()).record(message, &self.stamp(), &details)
    }

    fn push_pending(&self, host: &str, cmd: &Cmd, on_failure: OnFailure) {
        let d = Deferred::change(cmd, on_failure);
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).entry(host.to_string()).or_default().push(d);
    }

    /// How many changes are held for `host`'s next exchange.
    pub fn held_changes(&self, host: &str) -> usize {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).get(host).map_or(0, Vec::len)
    }

    fn take_pending(&self, host: &str) -> Vec<Deferred> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).remove(host).unwrap_or_default()
    }

    /// Sends `host`'s deferred changes now (one exchange); the first that failed is the error.
    pub async fn flush(&self, host: &str) -> Result<()> {
        let deferred = self.take_pending(host);
        if deferred.is_empty() {
            return Ok(());
        }
        self.run_deferred(host, &deferred, vec![]).await.map(drop)
    }

    /// Sends every host's deferred changes.
    pub async fn flush_all(&self) -> Result<()> {
        self.flush_all_but(None).await
    }

    /// Sends the deferred changes of every host but `except`.
    pub async fn flush_all_but(&self, except: Option<&str>) -> Result<()> {
        let hosts: Vec<String> = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .filter(|h| Some(h.as_str()) != except)
            .cloned()
            .collect();
        self.on(&hosts, |h| async move { self.flush(&h).await }).await.map(drop)
    }

    /// Runs `cmd`, a change that must happen whatever came before it (releasing the deploy
    /// lock), after `host`'s held changes in the same exchange. When one of those fails, `cmd`
    /// still runs, alone. Returns how the held changes went, then how `cmd` went.
    pub async fn exec_after_held(&self, host: &str, cmd: &Cmd) -> (Result<()>, Result<Output>) {
        let deferred = self.take_pending(host);
        if deferred.is_empty() {
            return (Ok(()), self.exec(host, cmd).await);
        }
        let (command, shown) = (cmd.to_string(), cmd.to_redacted_string());
        let job = Job { host, command: &command, shown: &shown, stdin: cmd.stdin(), effect: Effect::Change };
        match self.run_deferred(host, &deferred, vec![job]).await {
            Ok(mut outputs) => {
                let out = outputs.pop().expect("one output per command");
                if out.success() {
                    (Ok(()), Ok(out))
                } else {
                    (Ok(()), Err(self.failure(host, cmd, &out)))
                }
            }
            Err(e) => (Err(e), self.exec(host, cmd).await),
        }
    }

    /// Runs `deferred` (then `answered`, commands whose answers the caller reads) on `host` as one
    /// batch; the outputs, or the error of the first deferred change that failed.
    async fn run_deferred(&self, host: &str, deferred: &[Deferred], answered: Vec<Job<'_>>) -> Result<Vec<Output>> {
        let answered = answered.into_iter().map(|job| (job, OnFailure::Continue)).collect();
        self.run_exchange(host, deferred, answered, &[]).await
    }

    /// Runs `before` (held changes), `answered` (commands whose answers the caller reads, each
    /// with what its exit does to the rest) and `after` (changes) on `host` as one batch; the
    /// outputs of those that ran, or the error of the first change that failed. The batch may end
    /// early only at an [`OnFailure::StopOnSuccess`] command that succeeded.
    async fn run_exchange(
        &self,
        host: &str,
        before: &[Deferred],
        answered: Vec<(Job<'_>, OnFailure)>,
        after: &[Deferred],
    ) -> Result<Vec<Output>> {
        fn held_job<'a>(host: &'a str, d: &'a Deferred) -> Step<'a> {
            match &d.what {
                DeferredStep::Run { command, stdin } => {
                    Step::Run(Job { host, command, shown: &d.shown, stdin: stdin.as_deref(), effect: Effect::Change })
                }
                DeferredStep::Upload { content, path, mode } => Step::Upload { host, content, path, mode: *mode },
            }
        }
        let mut shown: Vec<(&str, OnFailure)> = before.iter().map(|d| (d.shown.as_str(), d.on_failure)).collect();
        shown.extend(answered.iter().map(|(j, on_failure)| (j.shown, *on_failure)));
        shown.extend(after.iter().map(|d| (d.shown.as_str(), d.on_failure)));
        let mut jobs: Vec<BatchJob<'_>> =
            before.iter().map(|d| BatchJob { step: held_job(host, d), on_failure: d.on_failure }).collect();
        jobs.extend(answered.into_iter().map(|(job, on_failure)| BatchJob { step: Step::Run(job), on_failure }));
        jobs.extend(after.iter().map(|d| BatchJob { step: held_job(host, d), on_failure: d.on_failure }));
        for (text, _) in &shown {
            self.echo(host, text);
        }
        let texts: Vec<&str> = shown.iter().map(|(t, _)| *t).collect();
        let exchange = crate::events::exchange_started(host, &texts);
        let started = Instant::now();
        let outputs = match self.executor.run_batch(jobs).await {
            Ok(outputs) => outputs,
            Err(e) => {
                crate::events::exchange_finished(host, exchange, &[]);
                let error = CliError::from(e);
                crate::events::command_failed(host, texts.first().copied().unwrap_or(""), 255, &error.message);
                return Err(error);
            }
        };
        let statuses: Vec<u32> = outputs.iter().map(|o| o.exit_status).collect();
        crate::events::exchange_finished(host, exchange, &statuses);
        for ((text, on_failure), out) in shown.iter().zip(&outputs) {
            self.show_output(host, out, started);
            if !out.success() && *on_failure == OnFailure::Stop {
                let name = text.split_whitespace().next().unwrap_or(text);
                return Err(command_failed(host, name, text, out, &self.redactor));
            }
        }
        // (A failed change returned above: what can still end the batch is a question that
        // succeeded, `OnFailure::StopOnSuccess`.)
        let ended_by_design = outputs.len().checked_sub(1).is_some_and(|i| shown[i].1.stops_after(&outputs[i]));
        if let Some((missing, _)) = shown.get(outputs.len()).filter(|_| !ended_by_design) {
            return Err(CliError::runtime(format!("{missing} did not run on {host}: its batch ended early")));
        }
        Ok(outputs)
    }

    /// Runs `probe`, a question, after `host`'s held changes, and `then`, changes, only when the
    /// probe fails, all in one exchange: for a step whose usual case is known only from a
    /// question's answer (`build pull`: pulling where `docker info` names no registry mirror).
    /// The probe's output, and whether `then` ran; a change of `then` that fails is the error.
    pub async fn probe_then(&self, host: &str, probe: &Cmd, then: &[&Cmd]) -> Result<(Output, bool)> {
        let before = self.take_pending(host);
        let (command, shown) = (probe.to_string(), probe.to_redacted_string());
        let job = Job { host, command: &command, shown: &shown, stdin: probe.stdin(), effect: Effect::Query };
        let after: Vec<Deferred> = then.iter().map(|cmd| Deferred::change(cmd, OnFailure::Stop)).collect();
        let mut outputs = self.run_exchange(host, &before, vec![(job, OnFailure::StopOnSuccess)], &after).await?;
        let rest = outputs.split_off(before.len());
        let ran_then = rest.len() > 1;
        let probed =
            rest.into_iter().next().ok_or_else(|| CliError::runtime(format!("{shown} did not run on {host}")))?;
        Ok((probed, ran_then))
    }

    /// Runs shell text that is not a `Cmd` (a remote build script), with `stdin` and each output
    /// line passed to `on_line` as it arrives; `shown` is what plans and errors say it is.
    pub async fn exec_script<'a>(
        &'a self,
        host: &'a str,
        script: &'a str,
        shown: &'a str,
        stdin: Option<&'a [u8]>,
        on_line: Option<LineSink<'a>>,
    ) -> Result<Output> {
        self.flush(host).await?;
        let job = Job { host, command: script, shown, stdin, effect: Effect::Change };
        Ok(self.executor.run(job, on_line).await?)
    }

    /// Runs a read-only query on every host and prints each host's answer (Kamal's
    /// `puts_by_host`); `checked`: a non-zero exit is an error.
    pub async fn print_by_host(&self, label: &str, hosts: &[String], cmd: &Cmd, checked: bool) -> Result<()> {
        let results = self
            .on(hosts, |h| async move {
                if checked {
                    self.capture(&h, cmd).await
                } else {
                    self.capture_unchecked(&h, cmd).await
                }
            })
            .await?;
        for (h, out) in results {
            output::by_host_labelled(label, &h, &out, self.global.quiet);
        }
        Ok(())
    }

    pub async fn upload(&self, host: &str, content: &[u8], path: &str, mode: u32) -> Result<()> {
        self.defer_upload(host, content, path, mode);
        self.flush(host).await
    }

    /// Forwards `127.0.0.1:remote_port` on `host` to `local` here (the local registry's tunnel).
    pub async fn forward_remote_port(
        &self,
        host: &str,
        remote_port: u16,
        local: std::net::SocketAddr,
    ) -> Result<Box<dyn Tunnel>, SshError> {
        self.executor.forward_remote_port(host, remote_port, local).await
    }

    /// Hands the terminal to `line` (`ssh -t HOST ...`) and waits; a non-zero exit is an error
    /// saying what ran where.
    pub fn hand_off(&self, host: &str, line: &str) -> Result<()> {
        if self.pending.lock().unwrap_or_else(|e| e.into_inner()).get(host).is_some_and(|p| !p.is_empty()) {
            return Err(CliError::runtime(format!("changes on {host} are still held back before a terminal hand-off")));
        }
        self.echo("local", line);
        let status = self.executor.hand_off(line)?;
        if status != 0 {
            return Err(CliError::runtime(format!("Interactive session on {host} exited with status {status}")));
        }
        Ok(())
    }

    /// The executor, for this crate's local commands ([`crate::local`]).
    pub(crate) fn executor(&self) -> &dyn Executor {
        &*self.executor
    }

    /// A step on this machine (a local build, a local login): whether to carry it out. Under
    /// `--plan` it is recorded in the plan instead.
    pub fn local_step(&self, description: &str) -> bool {
        self.executor.local_step(description)
    }

    /// Starts connecting to `hosts` in the background, while this machine does something else
    /// (see [`Executor::warm`]).
    pub fn warm(&self, hosts: &[String]) {
        self.executor.warm(hosts);
    }

    /// Closes every connection.
    pub async fn close(&self) {
        if let Err(e) = self.flush_all().await {
            output::error(&e.class, &e.message);
        }
        self.executor.close().await;
    }

    /// Runs `f` on every host in parallel; every failure is reported (Kamal's `on(hosts)`).
    /// Each host's deferred changes go out when its part ends.
    pub async fn on<'a, F, Fut, T>(&'a self, hosts: &[String], f: F) -> Result<Vec<(String, T)>>
    where
        F: Fn(String) -> Fut + Send + Sync + 'a,
        Fut: std::future::Future<Output = Result<T>> + Send + 'a,
        T: Send + 'a,
    {
        self.on_hosts(hosts, true, f).await
    }

    /// Like [`Self::on`], but each host's deferred changes stay held for its next exchange, in
    /// the step that follows (or the flush before the deploy lock is released, or the end of
    /// the run). For a step whose changes nothing local waits for (no hook, no pause) and that
    /// the next step on the same host follows anyway: one round trip fewer per host.
    pub async fn on_held<'a, F, Fut, T>(&'a self, hosts: &[String], f: F) -> Result<Vec<(String, T)>>
    where
        F: Fn(String) -> Fut + Send + Sync + 'a,
        Fut: std::future::Future<Output = Result<T>> + Send + 'a,
        T: Send + 'a,
    {
        self.on_hosts(hosts, false, f).await
    }

    async fn on_hosts<'a, F, Fut, T>(&'a self, hosts: &[String], flush: bool, f: F) -> Result<Vec<(String, T)>>
    where
        F: Fn(String) -> Fut + Send + Sync + 'a,
        Fut: std::future::Future<Output = Result<T>> + Send + 'a,
        T: Send + 'a,
    {
        let futures = hosts.iter().map(|h| {
            let fut = f(h.clone());
            let h = h.clone();
            async move {
                // The host's deferred changes go out when its part ends (after a failure too:
                // run one by one, they would have run before it); held, after a failure only.
                let result = fut.await;
                let flushed = if flush || result.is_err() { self.flush(&h).await } else { Ok(()) };
                let result = match (result, flushed) {
                    (Ok(v), Ok(())) => Ok(v),
                    (Ok(_), Err(e)) | (Err(e), _) => Err(e),
                };
                (h, result)
            }
        });
        let results = futures::future::join_all(futures).await;
        let mut ok = vec![];
        let mut failures = vec![];
        for (h, r) in results {
            match r {
                Ok(v) => ok.push((h, v)),
                Err(e) => failures.push((h, e)),
            }
        }
        match failures.len() {
            0 => Ok(ok),
            1 => Err(failures.pop().unwrap().1),
            n => {
                let class = failures[0].1.class.clone();
                let text: Vec<String> = failures
                    .iter()
                    .map(|(h, e)| {
                        if e.message.starts_with("Exception while executing") {
                            e.message.clone()
                        } else {
                            format!("Exception while executing on host {h}: {e}")
                        }
                    })
                    .collect();
                Err(CliError::new(class, format!("Exceptions on {n} hosts:\n{}", text.join("\n"))))
            }
        }
    }

    pub fn stamp(&self) -> Stamp {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        Stamp::at(self.clock.unwrap_or(now as i64), self.performer.clone())
    }

    /// Appends a line to the audit log on `host` (`.kamal/<service>[-<dest>]-audit.log`).
    pub async fn audit(&self, host: &str, role: Option<&str>, message: &str) -> Result<()> {
        // Bookkeeping nothing waits for: sent with the host's next exchange.
        self.defer_audit(host, role, message);
        Ok(())
    }

    // ---- hooks --------------------------------------------------------------------------

    /// Whether [`Self::run_hook`] would run anything for `hook` (a script or a WASM hook).
    pub fn has_hook(&self, hook: &str) -> bool {
        self.hooks.exists(hook) || (!self.hooks.skip && self.plugins.has_hooks(hook))
    }

    /// Runs a local hook with Kamal's environment; `extra` adds e.g. `hosts` or `runtime`: the
    /// script `.kamal/hooks/<hook>` when it exists, then the WASM hooks `x-wharf.hooks` attaches
    /// to that point, in order. `-H` skips both.
    pub fn run_hook(&self, hook: &str, extra: &[(&str, String)]) -> Result<()> {
        if !self.has_hook(hook) {
            return Ok(());
        }
        let started = Instant::now();
        let result = self.run_hook_now(hook, extra);
        if !self.plan {
            crate::events::hook(hook, started.elapsed(), result.is_ok());
        }
        result
    }

    /// [`Self::run_hook`] for a hook that has a script or WASM hooks.
    fn run_hook_now(&self, hook: &str, extra: &[(&str, String)]) -> Result<()> {
        let script = self.hooks.exists(hook);
        let wasm = !self.hooks.skip && self.plugins.has_hooks(hook);
        if self.plan {
            if script {
                self.local_step(&format!("hook {hook}"));
            }
            for name in self.plugins.extension().hook_plugins(hook) {
                self.local_step(&format!("hook {hook}: plugin {name}"));
            }
            return Ok(());
        }
        // A hook is given the version (KAMAL_VERSION): a command that may do without one (run
        // outside a git repository) fails here, as Kamal's does.
        self.config.require_version().map_err(CliError::runtime)?;
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        let hook_cmds = wharf_commands::hook::Hook::new(&self.config);
        let mut details = Details::new()
            .with("hosts", self.hosts().join(","))
            .with_opt("roles", self.specific_roles().map(|r| r.join(",")))
            .with("lock", self.holding_lock().to_string())
            .with("command", self.command.clone())
            .with_opt("subcommand", self.subcommand.clone());
        for (k, v) in extra {
            details = details.with(*k, v.clone());
        }
        let secrets: Option<Vec<(String, String)>> = HOOKS_WITH_SECRETS
            .contains(&hook)
            .then(|| self.secrets.to_map().map(|m| m.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()))
            .transpose()?;
        for (k, v) in hook_cmds.env(&self.stamp(), secrets.as_deref(), &details) {
            env.insert(k, v);
        }
        // Kamal shows a hook's output with -v, or when deploy.yml's hooks_output says verbose.
        let quiet = match self.config.hooks_output_for(hook) {
            _ if self.global.quiet => true,
            Some(wharf_config::HooksOutput::Verbose) => false,
            Some(wharf_config::HooksOutput::Quiet) => true,
            None => !self.global.verbose,
        };
        if script {
            let shown = self.hooks.path(hook);
            let shown = shown.strip_prefix(&self.dir).unwrap_or(&shown).display().to_string();
            output::info("localhost", &format!("Running /usr/bin/env {shown} on localhost"));
            self.hooks.run(hook, &env, quiet)?;
        }
        if wasm {
            let names = self.plugins.extension().hook_plugins(hook).join(", ");
            output::info("localhost", &format!("Running {hook} plugin hook {names} on localhost"));
            // Every known secret is masked in what a plugin says, whether or not it was given them.
            let mask: Vec<String> = match &secrets {
                Some(s) => s.iter().map(|(_, v)| v.clone()).collect(),
                None => {
                    self.secrets.to_map().map(|m| m.iter().map(|(_, v)| v.to_string()).collect()).unwrap_or_default()
                }
            };
            let secret_names: Vec<String> = secrets.iter().flatten().map(|(k, _)| k.clone()).collect();
            self.plugins.run_hooks(hook, &env, &secret_names, &mask, quiet)?;
        }
        Ok(())
    }

    // ---- the deploy lock ----------------------------------------------------------------

    /// Whether a failed boot anywhere reverts the servers that switched (`--fleet-transaction`,
    /// or `x-wharf: fleet_transaction: true`); Kamal's behaviour otherwise.
    pub fn fleet_transaction(&self) -> bool {
        self.fleet_transaction.load(Ordering::SeqCst) || self.plugins.extension().fleet_transaction
    }

    /// `--fleet-transaction`.
    pub fn enable_fleet_transaction(&self) {
        self.fleet_transaction.store(true, Ordering::SeqCst);
    }

    /// Drops the changes held for `host` (a fleet revert: the old version's stop must not run).
    pub fn discard_held(&self, host: &str) {
        self.take_pending(host);
    }

    pub fn holding_lock(&self) -> bool {
        self.holding_lock.load(Ordering::SeqCst)
    }

    pub fn set_holding_lock(&self, v: bool) {
        self.holding_lock.store(v, Ordering::SeqCst);
    }

    /// Under `--plan`: what was planned, grouped by host in first-seen order.
    pub fn print_plan(&self) {
        if let Some(report) = self.executor.report() {
            output::raw(&report);
        }
    }
}

/// The error for a command's failed `out` on `host` (Kamal's `SSHKit::Command::Failed`, naming
/// it `name`), and its `command_failed` event, which names the whole command (`shown`).
fn command_failed(host: &str, name: &str, shown: &str, out: &Output, redactor: &Redactor) -> CliError {
    let stderr = out.stderr_str();
    let detail = if stderr.trim().is_empty() { out.stdout_str() } else { stderr };
    let tail: Vec<&str> = detail.trim().lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect();
    crate::events::command_failed(host, shown, out.exit_status, &redactor.redact(&tail.join("\n")));
    CliError::new("SSHKit::Command::Failed", redactor.redact(&sshkit_failure(host, name, out)).to_string())
}

/// [`command_failed`] for `cmd`: SSHKit names a command by the first word Kamal gave it, which
/// is `docker` for `docker run ...`, and the user's whole command line for `server exec`.
fn cmd_failed(host: &str, cmd: &Cmd, out: &Output, redactor: &Redactor) -> CliError {
    command_failed(host, cmd.name(), &cmd.to_redacted_string(), out, redactor)
}

/// SSHKit's message for a command that exited non-zero on `host`, as Kamal prints it: the
/// command's name (SSHKit's: the first word Kamal gave it, `docker`), its exit status, its
/// stdout and its stderr ("Nothing written" when empty), each on a line of its own.
pub fn sshkit_failure(host: &str, name: &str, out: &Output) -> String {
    let written = |text: &str| match text.trim() {
        "" => "Nothing written".to_string(),
        text => text.to_string(),
    };
    format!(
        "Exception while executing on host {host}: {name} exit status: {}\n{name} stdout: {}\n{name} stderr: {}\n",
        out.exit_status,
        written(&out.stdout_str()),
        written(&out.stderr_str())
    )
}

/// SSH settings from deploy.yml's `ssh:` and `sshkit:` sections.
fn ssh_options(config: &Configuration) -> Result<SshOptions> {
    let ssh = config.ssh();
    let sshkit = config.sshkit();
    let mut o = SshOptions {
        user: Some(ssh.user()),
        port: Some(ssh.port()),
        keys_only: ssh.keys_only(),
        forward_agent: ssh.forward_agent(),
        max_concurrent_starts: sshkit.max_concurrent_starts() as usize,
        pool_idle_timeout: std::time::Duration::from_secs(sshkit.pool_idle_timeout()),
        dns_retries: sshkit.dns_retries() as u32,
        ..Default::default()
    };
    if let Some(keys) = ssh.keys() {
        o.keys = Some(keys.into_iter().map(PathBuf::from).collect());
    }
    if let Some(data) = ssh.key_data()? {
        o.key_data = data;
    }
    match ssh.proxy() {
        Some(wharf_config::SshProxy::Jump(j)) => o.proxy = Some(j),
        Some(wharf_config::SshProxy::Command(c)) => o.proxy_command = Some(c),
        None => {}
    }
    if let Ok(level) = ssh.log_level().parse() {
        o.log_level = level;
    }
    o.config = match ssh.config() {
        None => wharf_ssh::SshConfigFiles::Default,
        Some(serde_yaml::Value::Bool(false)) => wharf_ssh::SshConfigFiles::Disabled,
        Some(serde_yaml::Value::Bool(true)) => wharf_ssh::SshConfigFiles::Default,
        Some(serde_yaml::Value::String(p)) => wharf_ssh::SshConfigFiles::Files(vec![PathBuf::from(p)]),
        Some(serde_yaml::Value::Sequence(ps)) => {
            wharf_ssh::SshConfigFiles::Files(ps.iter().filter_map(|p| p.as_str()).map(PathBuf::from).collect())
        }
        Some(_) => wharf_ssh::SshConfigFiles::Default,
    };
    Ok(o)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fnmatch_star_only() {
        assert!(super::fnmatch("web*", "web-1"));
        assert!(super::fnmatch("*", "x"));
        assert!(!super::fnmatch("web?", "web1"));
        assert!(super::fnmatch("10.0.0.*", "10.0.0.12"));
    }
}
