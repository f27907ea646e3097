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
    run_text_with_stdin(text, shown, dir, env, verbose, None)
}

/// Like [`run_text`], feeding `stdin` (a secret, kept out of argv) to the command.
fn run_text_with_stdin(
    text: &str,
    shown: &str,
    dir: &Path,
    env: &[(String, String)],
    verbose: bool,
    stdin: Option<&[u8]>,
) -> Result<LocalOutput> {
    if verbose {
        output::info("local", &format!("Running {shown}"));
    }
    let mut command = Command::new("sh");
    command.arg("-c").arg(text).current_dir(dir).envs(env.iter().cloned());
    let out = match stdin {
        None => command.output()?,
        Some(bytes) => {
            use std::io::Write;
            command
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let mut child = command.spawn()?;
            let mut input = child.stdin.take().expect("piped stdin");
            let bytes = bytes.to_vec();
            // Written from a thread, so a command that does not read it all cannot block us.
            let writer = std::thread::spawn(move || {
                let _ = input.write_all(&bytes);
            });
            let out = child.wait_with_output()?;
            let _ = writer.join();
            out
        }
    };
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
    let out = run_text_with_stdin(&cmd.to_string(), &cmd.to_redacted_string(), dir, env, verbose, cmd.stdin())?;
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
