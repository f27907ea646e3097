//! Running commands on this machine (the build, local registry login, hooks' shell): the same
//! `Cmd`s, through `sh -c`, with the output shown under `-v` and in errors.

use crate::error::{CliError, Result};
use crate::output;
use std::path::Path;
use std::process::Command;
use wharf_commands::Cmd;

pub struct LocalOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

pub fn run_text(text: &str, shown: &str, dir: &Path, env: &[(String, String)], verbose: bool) -> Result<LocalOutput> {
    if verbose {
        output::info("local", &format!("Running {shown}"));
    }
    let out = Command::new("sh").arg("-c").arg(text).current_dir(dir).envs(env.iter().cloned()).output()?;
    let result = LocalOutput {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    };
    if verbose {
        for line in result.stdout.lines().chain(result.stderr.lines()) {
            output::debug("local", line);
        }
    }
    Ok(result)
}

/// Runs `cmd` locally; non-zero exit is an error with the output.
pub fn exec(cmd: &Cmd, dir: &Path, env: &[(String, String)], verbose: bool) -> Result<LocalOutput> {
    let out = run_text(&cmd.to_string(), &cmd.to_redacted_string(), dir, env, verbose)?;
    if !out.success {
        let detail = if out.stderr.trim().is_empty() { out.stdout.trim() } else { out.stderr.trim() };
        return Err(CliError::new(
            "SSHKit::Command::Failed",
            format!("{} failed:\n{}", cmd.to_redacted_string(), detail),
        ));
    }
    Ok(out)
}

pub fn succeeds(text: &str, dir: &Path) -> bool {
    Command::new("sh").arg("-c").arg(text).current_dir(dir).output().map(|o| o.status.success()).unwrap_or(false)
}
