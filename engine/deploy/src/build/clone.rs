//! Kamal's `Kamal::Cli::Build::Clone`: the clean clone of HEAD that `build push` builds from
//! (`<tmp>/kamal-clones/<service>-<sha of the working directory>/<repository>`). Cloned when
//! missing, reset to HEAD when there, then validated (clean, at HEAD); a clone that cannot be
//! prepared is deleted and cloned again once.

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::{local, output};
use std::path::PathBuf;
use wharf_commands::builder::GitClone;
use wharf_commands::Builder;

/// Why a clone could not be prepared (Kamal's `Kamal::Cli::Build::BuildError`).
fn build_error(message: String) -> CliError {
    CliError::new("Kamal::Cli::Build::BuildError", message)
}

/// Prepares the clone and returns the directory to build in.
pub fn prepare(c: &Commander) -> Result<PathBuf> {
    let root = crate::git::root(&c.dir).ok_or_else(|| CliError::runtime("Not a git repository"))?;
    let revision = crate::git::revision(&c.dir);
    let tmp = std::env::temp_dir().display().to_string();
    let pwd = c.dir.display().to_string();
    let clone = GitClone::new(&c.config, &root, &revision, &tmp, &pwd);
    let first = clone_or_reset(c, &clone).and_then(|()| validate(c, &clone));
    if let Err(e) = first {
        output::say_red(&format!("Error preparing clone: {}, deleting and retrying...", e.message));
        let _ = std::fs::remove_dir_all(&clone.clone_directory);
        clone_repo(c, &clone)?;
        validate(c, &clone)?;
    }
    Ok(PathBuf::from(clone.build_directory))
}

fn clone_or_reset(c: &Commander, clone: &GitClone) -> Result<()> {
    match clone_repo(c, clone) {
        Ok(()) => Ok(()),
        Err(e) if e.message.contains("already exists and is not an empty directory") => reset(c, clone),
        Err(e) => Err(build_error(format!("Failed to clone repo: {}", e.message))),
    }
}

fn clone_repo(c: &Commander, clone: &GitClone) -> Result<()> {
    output::say(&format!("Cloning repo into build directory `{}`...", clone.build_directory));
    std::fs::create_dir_all(&clone.clone_directory)?;
    local::exec(c, &Builder::new(&c.config).clone_repo(clone), &c.dir, &[])?;
    Ok(())
}

fn reset(c: &Commander, clone: &GitClone) -> Result<()> {
    output::say(&format!("Resetting local clone as `{}` already exists...", clone.build_directory));
    for step in Builder::new(&c.config).clone_reset_steps(clone) {
        local::exec(c, &step, &c.dir, &[]).map_err(|e| build_error(format!("Failed to clone repo: {}", e.message)))?;
    }
    Ok(())
}

fn validate(c: &Commander, clone: &GitClone) -> Result<()> {
    let builder = Builder::new(&c.config);
    let failed = |e: CliError| build_error(format!("Failed to validate clone: {}", e.message));
    let status = capture(c, &builder.clone_status(clone)).map_err(failed)?;
    if !status.is_empty() {
        return Err(build_error(format!("Clone in {} is dirty, {status}", clone.build_directory)));
    }
    let revision = capture(c, &builder.clone_revision(clone)).map_err(failed)?;
    if revision != clone.revision {
        return Err(build_error(format!(
            "Clone in {} is not on the correct revision, expected `{}` but got `{revision}`",
            clone.build_directory, clone.revision
        )));
    }
    Ok(())
}

/// Kamal's `capture_with_info`: the stripped output; a non-zero exit is an error.
fn capture(c: &Commander, cmd: &wharf_commands::Cmd) -> Result<String> {
    let out = local::query(c, &cmd.to_string())?;
    if !out.success {
        return Err(local::failed(&cmd.to_redacted_string(), &out));
    }
    Ok(out.stdout.trim().to_string())
}
