//! Commands on this machine (Kamal's `run_locally`: the build, the local registry, local
//! logins): the same `Cmd`s, run through the commander's executor (so plans record them and
//! tests script them), with `-v` showing each and its output, and its output in errors.

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::execution::{Effect, LocalJob, LOCAL};
use crate::output;
use std::path::Path;
use wharf_commands::Cmd;

pub struct LocalOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs shell `text` (`shown`: the same with secrets masked) in `dir` with `env` added; a
/// non-zero exit is a [`LocalOutput`], not an error. `show`: print it and its output as `-v`
/// does, whatever `-v` says (Kamal forces the build step to debug verbosity).
#[allow(clippy::too_many_arguments)]
fn run(
    c: &Commander,
    text: &str,
    shown: &str,
    dir: &Path,
    env: &[(String, String)],
    stdin: Option<&[u8]>,
    effect: Effect,
    show: bool,
) -> Result<LocalOutput> {
    if show {
        output::info(LOCAL, &format!("Running {shown}"));
    }
    let job = LocalJob { command: text, shown, dir, env, stdin, effect };
    let out = c.executor().run_local(job)?;
    let result = LocalOutput {
        success: out.exit_status == 0,
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    };
    if show {
        for line in result.stdout.lines().chain(result.stderr.lines()) {
            output::debug(LOCAL, line);
        }
    }
    Ok(result)
}

/// Runs `cmd`, which changes something; non-zero exit is an error with the output.
pub fn exec(c: &Commander, cmd: &Cmd, dir: &Path, env: &[(String, String)]) -> Result<LocalOutput> {
    exec_shown(c, cmd, dir, env, c.global.verbose)
}

/// Like [`exec`], shown whatever `-v` says when `show`.
pub fn exec_shown(c: &Commander, cmd: &Cmd, dir: &Path, env: &[(String, String)], show: bool) -> Result<LocalOutput> {
    let shown = cmd.to_redacted_string();
    let out = run(c, &cmd.to_string(), &shown, dir, env, cmd.stdin(), Effect::Change, show)?;
    if !out.success {
        return Err(failed(&shown, &out));
    }
    Ok(out)
}

/// Runs `cmd`, which changes something; its output whatever its exit.
pub fn exec_unchecked(c: &Commander, cmd: &Cmd, dir: &Path) -> Result<LocalOutput> {
    run(c, &cmd.to_string(), &cmd.to_redacted_string(), dir, &[], cmd.stdin(), Effect::Change, c.global.verbose)
}

/// A read-only query (`docker info ...`); its output whatever its exit.
pub fn query(c: &Commander, text: &str) -> Result<LocalOutput> {
    run(c, text, text, &c.dir, &[], None, Effect::Query, c.global.verbose)
}

/// Whether the read-only query `text` exits 0.
pub fn succeeds(c: &Commander, text: &str) -> bool {
    query(c, text).map(|o| o.success).unwrap_or(false)
}

/// Kamal's `SSHKit::Command::Failed` for a local command: the command and what it printed.
pub fn failed(shown: &str, out: &LocalOutput) -> CliError {
    let detail = if out.stderr.trim().is_empty() { out.stdout.trim() } else { out.stderr.trim() };
    CliError::new("SSHKit::Command::Failed", format!("{shown} failed:\n{detail}"))
}
