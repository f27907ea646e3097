//! What Kamal asks git (`Kamal::Git`): whether the directory is a repository, the revision,
//! uncommitted changes, the user's name and email, the top-level directory.

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).current_dir(dir).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub fn used(dir: &Path) -> bool {
    git(dir, &["rev-parse"]).is_some()
}

/// `` `git rev-parse HEAD`.strip ``: what git prints, whatever its status, its errors passed
/// through (in a repository without commits git prints `HEAD`, and so the version is `HEAD`,
/// as in Kamal).
pub fn revision(dir: &Path) -> String {
    Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(dir)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// `` `git status --porcelain`.strip ``: what is uncommitted, "" outside a repository.
pub fn status(dir: &Path) -> String {
    git(dir, &["status", "--porcelain"]).unwrap_or_default()
}

/// `git ls-files --modified`: files with uncommitted changes, relative to `dir`.
pub fn uncommitted_files(dir: &Path) -> Vec<String> {
    lines(git(dir, &["ls-files", "--modified"]))
}

/// `git ls-files --others`: untracked files (ignored ones included), relative to `dir`.
pub fn untracked_files(dir: &Path) -> Vec<String> {
    lines(git(dir, &["ls-files", "--others"]))
}

fn lines(out: Option<String>) -> Vec<String> {
    out.unwrap_or_default().lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect()
}

pub fn uncommitted_changes(dir: &Path) -> bool {
    git(dir, &["status", "--porcelain"]).is_some_and(|s| !s.is_empty())
}

pub fn user_name(dir: &Path) -> String {
    git(dir, &["config", "user.name"]).unwrap_or_default()
}

pub fn email(dir: &Path) -> String {
    git(dir, &["config", "user.email"]).unwrap_or_default()
}

pub fn root(dir: &Path) -> Option<String> {
    git(dir, &["rev-parse", "--show-toplevel"])
}

/// `KAMAL_PERFORMER` and the audit log's performer: the git email, else `whoami`.
pub fn performer(dir: &Path) -> String {
    let email = email(dir);
    if !email.is_empty() {
        return email;
    }
    std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| {
        Command::new("whoami")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    })
}

/// Kamal's version: the commit, with `_uncommitted_<16 hex>` when the tree is dirty and the
/// build does not come from a clean clone (`builds_from_clean_clone` answers that, given
/// whether git is used). Kamal's `git rev-parse` (is this a repository?) and `git rev-parse
/// HEAD` are one process here (`git rev-parse --git-dir HEAD`, git's errors passed through as
/// Kamal's are), and `git status` runs only when its answer matters.
pub fn version(dir: &Path, builds_from_clean_clone: impl FnOnce(bool) -> bool) -> Result<String, String> {
    let out = Command::new("git")
        .args(["rev-parse", "--git-dir", "HEAD"])
        .current_dir(dir)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("git: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    if lines.next().is_none_or(|l| l.trim().is_empty()) {
        return Err(no_repository(dir));
    }
    let revision = lines.next().unwrap_or("").trim().to_string();
    if !builds_from_clean_clone(true) && uncommitted_changes(dir) {
        return Ok(format!("{revision}_uncommitted_{:016x}", rand_u64()));
    }
    Ok(revision)
}

/// Kamal's error where a command needs the version and `dir` is not in a git repository.
pub fn no_repository(dir: &Path) -> String {
    format!("Can't use commit hash as version, no git repository found in {}", dir.display())
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    h.finish()
}
