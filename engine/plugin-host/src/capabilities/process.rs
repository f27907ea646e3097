//! The `process` capability: running allow-listed programs (`wharf:plugin/process`).
//!
//! - Declared by `[capabilities] programs` in `plugin.toml`: a list of [`ProgramRule`]s
//!   (`{ program = "git", args = ["rev-parse", "--short", "*"] }`).
//! - Granted by `allow: programs` ([`Allow`], built with [`Grant::program`](crate::Grant::program)).
//! - Checked by [`Effective::program_allowed`]: a program runs only when a declared rule *and* a
//!   granted rule both allow it with these arguments; a denial says which side is missing
//!   (`plugin X: capability program sh not granted (its manifest does not declare it)`).
//! - Implemented by `process::Host`: no shell, a cleared environment (the grant's `env`, see
//!   [`super::env`]), the grant's working directory or a readable one ([`super::files`]), the
//!   terminal only when granted ([`super::terminal`]), a timeout, capped output, and a process
//!   group of its own that is killed whole when the call is over or out of time (what it forked
//!   goes with it).
//! - Substitutable: a [`ProcessRunner`] given in the call's options runs the program instead,
//!   after every check above (the deploy library's fake executor records plugins' programs this
//!   way, so orchestration tests see a builder plugin's `docker buildx build` without a docker).
//!
//! # Argument patterns
//!
//! Each pattern matches one argument: literal text, with `*` (any run of characters) and `?`
//! (one character) inside it. Options are safe by construction: an argument that starts with
//! `-` is matched only by a pattern that starts with `-` too (`--format=*`, `-n`), never by a
//! wildcard, so `git log *` cannot become `git log --output=/some/file`. A final `**` matches
//! any number of remaining *operands* (arguments not starting with `-`); after an argument
//! `--` every argument is an operand. A final `**unchecked` matches any remaining arguments,
//! options included: the program can then be made to do anything its options allow (`git -c`,
//! `docker run -v /:/host`), so it is for programs the user trusts the plugin with entirely
//! (Wharf's built-in plugins use it for the vendor CLIs they drive). A program that runs its
//! operands as commands (`sh -c`, `env`, `xargs`, `find -exec`) grants running anything
//! whatever the patterns.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt};
use wasmtime::component::{HasSelf, Linker};

use super::files::PathDenial;
use super::not_granted;
use crate::bindings::v0_1::imports::wharf::plugin::process;
use crate::state::{Call, State};

// ---- the runner seam ----

/// A granted program, checked and ready to start: what a [`ProcessRunner`] is given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramRun {
    /// As the plugin named it (`docker`), not resolved on `PATH`.
    pub program: String,
    pub args: Vec<String>,
    /// The program's whole environment: the grant's variables, then those the plugin set.
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
}

/// What a [`ProcessRunner`] answers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProgramOutput {
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs plugins' granted programs somewhere other than this machine's process table (see the
/// module docs). The grant, the terminal and environment checks and the working directory are
/// decided before it is called.
pub trait ProcessRunner: Send + Sync {
    fn run(&self, program: &ProgramRun) -> ProgramOutput;
}

// ---- the declaration (`[capabilities] programs`) ----

/// A program the plugin may run, with patterns for its arguments (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramRule {
    /// A bare name (`git`, looked up on `PATH`) or an absolute path.
    pub program: String,
    /// One pattern per argument (see "Argument patterns" in the module docs).
    pub args: Vec<String>,
}

impl ProgramRule {
    pub fn new<I, S>(program: impl Into<String>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ProgramRule { program: program.into(), args: args.into_iter().map(Into::into).collect() }
    }

    /// Whether this rule allows running `program` with `args`.
    pub fn allows(&self, program: &str, args: &[String]) -> bool {
        self.program == program && args_match(&self.args, args)
    }
}

/// Validates the manifest's `programs`: the message of the first invalid rule.
pub(crate) fn validate(programs: &[ProgramRule]) -> Result<(), String> {
    for rule in programs {
        if rule.program.is_empty() || (rule.program.contains('/') && !rule.program.starts_with('/')) {
            return Err(format!("program {:?} must be a bare name or an absolute path", rule.program));
        }
        if let Some(pos) = rule.args.iter().position(|a| a == "**") {
            if pos + 1 != rule.args.len() {
                return Err(format!("program {:?}: `**` may only be the last argument pattern", rule.program));
            }
        }
    }
    Ok(())
}

/// A final pattern matching any remaining arguments, options included.
pub const ANY_ARGUMENTS: &str = "**unchecked";

/// Matches arguments against patterns (see "Argument patterns" in the module docs).
pub(crate) fn args_match(patterns: &[String], args: &[String]) -> bool {
    let (fixed, rest) = match patterns.split_last() {
        Some((last, init)) if last == "**" || last == ANY_ARGUMENTS => (init, Some(last.as_str())),
        _ => (patterns, None),
    };
    if args.len() < fixed.len() || (rest.is_none() && args.len() != fixed.len()) {
        return false;
    }
    let mut operands_only = false;
    for (p, a) in fixed.iter().zip(args) {
        let ok = if operands_only { glob_match(p, a) } else { arg_match(p, a) };
        if !ok {
            return false;
        }
        if a == "--" && p == "--" {
            operands_only = true;
        }
    }
    match rest {
        None => true,
        Some(ANY_ARGUMENTS) => true,
        Some(_) => {
            for a in &args[fixed.len()..] {
                if operands_only {
                    continue;
                }
                if a == "--" {
                    operands_only = true;
                } else if a.starts_with('-') {
                    return false;
                }
            }
            true
        }
    }
}

/// One argument against one pattern: an option only by a pattern that is an option too.
fn arg_match(pattern: &str, arg: &str) -> bool {
    if arg.starts_with('-') && !pattern.starts_with('-') {
        return false;
    }
    glob_match(pattern, arg)
}

/// `*` matches any run of characters, `?` one character; everything else is literal.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

// ---- the grant (`allow: programs`) ----

/// The programs the user allows.
#[derive(Clone, Debug, Default)]
pub(crate) struct Allow {
    /// Programs the plugin may run, with argument patterns (same syntax as the manifest's).
    /// A rule's `program` may be an absolute path, or a bare name looked up at call time on
    /// the `PATH` of the grant's `env` (else the host's). The patterns are the real boundary:
    /// `**` on a program that can run others (`sh`, `env`, `git -c core.sshCommand=...`,
    /// `docker run`) grants running anything.
    pub programs: Vec<ProgramRule>,
}

/// The declared programs the grant does not allow (`program git`), appended to `out`.
pub(crate) fn missing(declared: &[ProgramRule], allow: &Allow, out: &mut Vec<String>) {
    for rule in declared {
        if !allow.programs.iter().any(|g| g.program == rule.program) {
            out.push(format!("program {}", rule.program));
        }
    }
}

// ---- the check (declared and granted) ----

/// The programs a call may run: declared and granted.
#[derive(Clone, Debug, Default)]
pub(crate) struct Effective {
    pub manifest_programs: Vec<ProgramRule>,
    pub grant_programs: Vec<ProgramRule>,
}

/// Why a program may not be run.
pub(crate) enum ProgramDenial {
    NotDeclared,
    NotGranted,
}

impl Effective {
    pub fn new(declared: &[ProgramRule], allow: &Allow) -> Effective {
        Effective { manifest_programs: declared.to_vec(), grant_programs: allow.programs.clone() }
    }

    pub fn program_allowed(&self, program: &str, args: &[String]) -> Result<(), ProgramDenial> {
        if !self.manifest_programs.iter().any(|r| r.allows(program, args)) {
            return Err(ProgramDenial::NotDeclared);
        }
        if !self.grant_programs.iter().any(|r| r.allows(program, args)) {
            return Err(ProgramDenial::NotGranted);
        }
        Ok(())
    }

    /// The denial message for running `program` with `args` (naming the plugin, and the
    /// arguments when a rule for the program exists on the side that refused).
    fn denial(&self, call: &Call, denial: ProgramDenial, program: &str, args: &[String]) -> String {
        let known = |rules: &[ProgramRule]| rules.iter().any(|r| r.program == program);
        let (known, why) = match denial {
            ProgramDenial::NotDeclared => (known(&self.manifest_programs), " (its manifest does not declare it)"),
            ProgramDenial::NotGranted => (known(&self.grant_programs), ""),
        };
        let capability =
            if known { format!("program {program} with arguments {args:?}") } else { format!("program {program}") };
        format!("{}{why}", not_granted(call, &capability))
    }
}

// ---- the host implementation (`wharf:plugin/process`) ----

/// Adds `wharf:plugin/process` to the linker.
pub(crate) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    process::add_to_linker::<State, HasSelf<State>>(linker, |s| s)
}

impl process::Host for State {
    async fn run(&mut self, cmd: process::Command) -> wasmtime::Result<Result<process::Output, process::Error>> {
        let call = self.call.clone();
        let started = Instant::now();
        let shown =
            std::iter::once(cmd.program.as_str()).chain(cmd.args.iter().map(String::as_str)).collect::<Vec<_>>();
        let shown = shown.join(" ");
        let result = run(&call, cmd).await;
        let outcome = match &result {
            Ok(o) => format!("exit {}", o.exit_code.map(|c| c.to_string()).unwrap_or_else(|| "by signal".into())),
            Err(process::Error::NotGranted(_)) => "not granted".into(),
            Err(process::Error::SpawnFailed(e)) => format!("failed: {e}"),
            Err(process::Error::TimedOut(ms)) => format!("killed after {ms} ms"),
        };
        call.note(&format!("process: {shown} ({outcome}, {} ms)", started.elapsed().as_millis()));
        Ok(result)
    }
}

async fn run(call: &Call, cmd: process::Command) -> Result<process::Output, process::Error> {
    if let Err(denial) = call.caps.process.program_allowed(&cmd.program, &cmd.args) {
        return Err(process::Error::NotGranted(call.caps.process.denial(call, denial, &cmd.program, &cmd.args)));
    }
    super::terminal::check(call, cmd.terminal).map_err(process::Error::NotGranted)?;
    super::env::check_program_env(call, &cmd.env).map_err(process::Error::NotGranted)?;
    let cwd = match &cmd.cwd {
        None => call.caps.files.workdir.clone().unwrap_or_else(std::env::temp_dir),
        Some(dir) => match call.caps.files.readable(dir) {
            Ok(p) if p.is_dir() => p,
            Ok(p) => return Err(process::Error::SpawnFailed(format!("{} is not a directory", p.display()))),
            Err(PathDenial::NotGranted(p)) | Err(PathDenial::Io(p, _)) => {
                return Err(process::Error::NotGranted(not_granted(call, &format!("directory {}", p.display()))))
            }
        },
    };
    if let Some(runner) = &call.runner {
        let env = call.caps.env.values.iter().chain(cmd.env.iter()).cloned().collect();
        let run = ProgramRun { program: cmd.program.clone(), args: cmd.args.clone(), env, cwd };
        let out = runner.run(&run);
        return Ok(process::Output {
            exit_code: out.exit_code,
            stdout: out.stdout,
            stderr: out.stderr,
            truncated: false,
        });
    }
    let Some(program) = resolve_program(&cmd.program, &call.caps.env.values) else {
        return Err(process::Error::SpawnFailed(format!("program {} not found", cmd.program)));
    };
    let mut limit = call.remaining();
    if let Some(ms) = cmd.timeout_ms {
        limit = limit.min(Duration::from_millis(ms.into()));
    }
    let mut command = tokio::process::Command::new(&program);
    command
        .args(&cmd.args)
        .env_clear()
        .envs(call.caps.env.values.iter().map(|(k, v)| (k, v)))
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&cwd)
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    // stdin and stderr, and the process group: see `terminal::attach`
    super::terminal::attach(&mut command, cmd.terminal);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => return Err(process::Error::SpawnFailed(format!("cannot start {}: {e}", program.display()))),
    };
    let _group = (!cmd.terminal).then(|| ProcessGroup(child.id()));
    let cap = call.limits.output;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let waited = tokio::time::timeout(limit, async {
        tokio::join!(read_capped(stdout, cap), read_capped(stderr, cap), child.wait())
    })
    .await;
    match waited {
        Ok(((out, t1), (err, t2), status)) => {
            let status =
                status.map_err(|e| process::Error::SpawnFailed(format!("waiting for {}: {e}", program.display())))?;
            Ok(process::Output {
                exit_code: status.code(),
                stdout: String::from_utf8_lossy(&out).into_owned(),
                stderr: String::from_utf8_lossy(&err).into_owned(),
                truncated: t1 || t2,
            })
        }
        Err(_) => {
            let _ = child.kill().await;
            Err(process::Error::TimedOut(limit.as_millis().min(u32::MAX as u128) as u32))
        }
    }
}

/// Kills a program's whole process group when dropped: when the call is over, timed out, or
/// abandoned (the plugin's own deadline dropping the call).
struct ProcessGroup(Option<u32>);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            // SAFETY: killpg only sends a signal; the group is the one the child leads.
            unsafe {
                libc::killpg(pid as libc::pid_t, libc::SIGKILL);
            }
        }
    }
}

/// Reads everything, keeping at most `cap` bytes (the rest is drained, so the child never
/// blocks on a full pipe). Returns the bytes and whether some were dropped.
async fn read_capped<R: AsyncRead + Unpin>(r: Option<R>, cap: usize) -> (Vec<u8>, bool) {
    let Some(mut r) = r else { return (vec![], false) };
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let mut truncated = false;
    loop {
        match r.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = cap - buf.len();
                if n > room {
                    truncated = true;
                }
                buf.extend_from_slice(&chunk[..n.min(room)]);
            }
        }
    }
    (buf, truncated)
}

/// An absolute path as is; a bare name looked up on `PATH` (the grant's, else the host's).
fn resolve_program(program: &str, env: &[(String, String)]) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable =
        |p: &Path| p.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false);
    if program.contains('/') {
        let p = PathBuf::from(program);
        return (p.is_absolute() && executable(&p)).then_some(p);
    }
    let path = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone().into())
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| executable(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn argument_patterns() {
        assert!(args_match(&s(&["rev-parse", "*"]), &s(&["rev-parse", "HEAD"])));
        assert!(!args_match(&s(&["rev-parse", "*"]), &s(&["rev-parse"])));
        assert!(!args_match(&s(&["rev-parse", "*"]), &s(&["rev-parse", "HEAD", "x"])));
        assert!(args_match(&s(&["log", "**"]), &s(&["log"])));
        // wildcards never match options: they must be written out
        assert!(!args_match(&s(&["log", "**"]), &s(&["log", "-1", "--oneline"])));
        assert!(!args_match(&s(&["log", "**"]), &s(&["log", "--output=/tmp/x"])));
        assert!(!args_match(&s(&["log", "*"]), &s(&["log", "--output=/tmp/x"])));
        assert!(args_match(&s(&["log", "--format=*", "**"]), &s(&["log", "--format=%H", "main"])));
        assert!(!args_match(&s(&["log", "--format=*", "**"]), &s(&["log", "--output=x", "main"])));
        // after `--`, everything is an operand
        assert!(args_match(&s(&["rm", "--", "**"]), &s(&["rm", "--", "-rf"])));
        assert!(args_match(&s(&["log", "**"]), &s(&["log", "main", "--", "--odd-file-name"])));
        // the explicit escape hatch
        assert!(args_match(&s(&["**unchecked"]), &s(&["--anything", "-x", "y"])));
        assert!(!args_match(&s(&["log", "**"]), &s(&["push"])));
        assert!(args_match(&s(&["**"]), &s(&[])));
        assert!(args_match(&s(&[]), &s(&[])));
        assert!(!args_match(&s(&[]), &s(&["x"])));
        assert!(glob_match("--format=*", "--format=%H"));
        assert!(glob_match("v?.*", "v1.2"));
        assert!(!glob_match("v?.*", "v12.2"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("a*b", "acd"));
    }
}
