//! Lifecycle hooks as Kamal runs them: the executable `<hooks_path>/<name>`, run locally, only if it
//! exists, with the `KAMAL_*` environment (and every secret for pre-connect, pre-deploy and
//! post-deploy). A non-zero exit aborts the command with Kamal's message.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
#[error("Hook `{hook}` failed:\n{output}")]
pub struct HookError {
    pub hook: String,
    pub output: String,
}

pub struct Hooks {
    dir: PathBuf,
    pub skip: bool,
}

/// Hooks that receive the secrets as environment variables.
pub const HOOKS_WITH_SECRETS: [&str; 3] = ["pre-connect", "pre-deploy", "post-deploy"];

impl Hooks {
    pub fn new(dir: impl Into<PathBuf>, skip: bool) -> Self {
        Self { dir: dir.into(), skip }
    }

    pub fn path(&self, hook: &str) -> PathBuf {
        self.dir.join(hook)
    }

    pub fn exists(&self, hook: &str) -> bool {
        !self.skip && self.path(hook).is_file()
    }

    /// Runs the hook with `env` (the caller builds the `KAMAL_*` map). Output is echoed unless
    /// `quiet`; on failure the output is in the error.
    pub fn run(&self, hook: &str, env: &BTreeMap<String, String>, quiet: bool) -> Result<(), HookError> {
        if !self.exists(hook) {
            return Ok(());
        }
        let path = self.path(hook);
        let out = Command::new(&path)
            .envs(env)
            .current_dir(cwd_for(&self.dir))
            .output()
            .map_err(|e| HookError { hook: hook.into(), output: format!("{}: {e}", path.display()) })?;
        let mut output = String::from_utf8_lossy(&out.stdout).to_string();
        output.push_str(&String::from_utf8_lossy(&out.stderr));
        if !out.status.success() {
            return Err(HookError { hook: hook.into(), output });
        }
        if !quiet {
            for line in output.lines() {
                crate::output::line(&format!("  {line}"));
            }
        }
        Ok(())
    }
}

/// Hooks run from the project directory (the parent of `.kamal/hooks`), as Kamal runs them from
/// the current directory.
fn cwd_for(dir: &Path) -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| dir.to_path_buf())
}
