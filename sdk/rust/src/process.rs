//! Running allow-listed programs (`wharf:plugin/process`).
//!
//! ```ignore
//! use wharf_plugin_sdk::process::Command;
//! let out = Command::new("git").args(["rev-parse", "--short", "HEAD"]).run()?;
//! ```
//!
//! The program and its arguments must match a rule in the plugin's manifest *and* in the
//! user's grant; otherwise [`Error::NotGranted`] comes back. No shell is involved.

use std::time::Duration;

use crate::bindings::wharf::plugin::process as raw;
pub use raw::{Error, Output};

/// A program to run, built up like `std::process::Command`.
#[derive(Clone, Debug)]
pub struct Command {
    program: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    terminal: bool,
    cwd: Option<String>,
    timeout: Option<Duration>,
}

impl Command {
    /// `program`: a bare name (`git`) or an absolute path, as in the manifest.
    pub fn new(program: impl Into<String>) -> Command {
        Command { program: program.into(), args: vec![], env: vec![], terminal: false, cwd: None, timeout: None }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Command {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Working directory (inside a granted directory); default: the grant's working directory.
    /// Sets `key` for the program (the manifest's `env` capability must declare it and the
    /// user must grant it).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Command {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Gives the program the user's terminal (stdin and stderr), so it can prompt; stdout is
    /// still captured. Needs the manifest's `terminal` capability and the user's grant.
    pub fn terminal(mut self) -> Command {
        self.terminal = true;
        self
    }

    pub fn cwd(mut self, dir: impl Into<String>) -> Command {
        self.cwd = Some(dir.into());
        self
    }

    /// Kill the program after `timeout` (never later than the plugin call's own deadline).
    pub fn timeout(mut self, timeout: Duration) -> Command {
        self.timeout = Some(timeout);
        self
    }

    /// Runs the program and waits for it.
    pub fn run(&self) -> Result<Output, Error> {
        raw::run(&raw::Command {
            program: self.program.clone(),
            args: self.args.clone(),
            env: self.env.clone(),
            terminal: self.terminal,
            cwd: self.cwd.clone(),
            timeout_ms: self.timeout.map(|t| t.as_millis().min(u32::MAX as u128) as u32),
        })
    }

    /// Runs the program; an error unless it exits 0. Returns its stdout.
    pub fn output_string(&self) -> Result<String, String> {
        let out = self.run().map_err(|e| describe(&e))?;
        match out.exit_code {
            Some(0) => Ok(out.stdout),
            code => Err(format!(
                "{} exited with {}: {}",
                self.program,
                code.map(|c| c.to_string()).unwrap_or_else(|| "a signal".into()),
                out.stderr.trim()
            )),
        }
    }
}

/// A one-line description of a process error.
pub fn describe(e: &Error) -> String {
    match e {
        Error::NotGranted(m) => m.clone(),
        Error::SpawnFailed(m) => m.clone(),
        Error::TimedOut(ms) => format!("timed out after {ms} ms"),
    }
}
