//! The `files` capability: reading granted directories (`wharf:plugin/files`, and WASI's file
//! system, read-only).
//!
//! - Declared by `[capabilities] directories` in `plugin.toml` (relative to the grant's working
//!   directory, absolute, or `~/...`).
//! - Granted by `allow: directories` ([`Allow`], built with
//!   [`Grant::directory`](crate::Grant::directory)).
//! - Checked by [`Effective::readable`]: a path is readable when, symbolic links followed, it
//!   lies in the overlap of a declared and a granted directory; a denial names the path as
//!   given and is the same whether or not it exists
//!   (`plugin X: capability directory /etc not granted`).
//! - Implemented by `files::Host` (file system work on the blocking pool, under the time the
//!   call has left; only regular files are read, opened without blocking) and by WASI preopens
//!   of the readable directories, read-only ([`preopen`]).
//!
//! The grant's working directory (also the default working directory of programs, see
//! [`super::process`]) is the base of relative paths.

use std::path::{Component, Path, PathBuf};

use wasmtime::component::{HasSelf, Linker};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use super::not_granted;
use crate::bindings::v0_1::imports::wharf::plugin::files;
use crate::error::PluginError;
use crate::state::{Call, State};

// ---- the declaration (`[capabilities] directories`) ----

/// Validates the manifest's `directories`.
pub(crate) fn validate(directories: &[String]) -> Result<(), String> {
    for d in directories {
        if d.is_empty() {
            return Err("an empty directory".into());
        }
    }
    Ok(())
}

// ---- the grant (`allow: directories`) ----

/// The directories the user allows.
#[derive(Clone, Debug, Default)]
pub(crate) struct Allow {
    /// Directories the plugin may read (absolute, or relative to the grant's `workdir`).
    pub directories: Vec<PathBuf>,
}

impl Allow {
    fn granted_dirs(&self, workdir: Option<&Path>) -> Vec<PathBuf> {
        self.directories.iter().filter_map(|d| resolve_dir(&d.to_string_lossy(), workdir)).collect()
    }
}

/// The declared directories the grant does not cover (`directory /srv/app`), appended to `out`.
pub(crate) fn missing(declared: &[String], allow: &Allow, workdir: Option<&Path>, out: &mut Vec<String>) {
    let granted = allow.granted_dirs(workdir);
    for d in declared {
        match resolve_dir(d, workdir) {
            Some(p) if granted.iter().any(|g| p.starts_with(g)) => {}
            Some(p) => out.push(format!("directory {}", p.display())),
            None => out.push(format!("directory {d}")),
        }
    }
}

// ---- the check (declared and granted) ----

/// What a call may read: the overlap of the declared and the granted directories.
#[derive(Clone, Debug, Default)]
pub(crate) struct Effective {
    /// Canonical directories readable by the plugin.
    pub dirs: Vec<PathBuf>,
    /// Canonical working directory, when granted and existing.
    pub workdir: Option<PathBuf>,
}

pub(crate) enum PathDenial {
    NotGranted(PathBuf),
    Io(PathBuf, std::io::Error),
}

impl Effective {
    pub fn new(declared: &[String], allow: &Allow, workdir: Option<&Path>) -> Effective {
        let canonical_workdir = workdir.and_then(|w| std::fs::canonicalize(w).ok());
        let granted = allow.granted_dirs(workdir);
        let mut dirs: Vec<PathBuf> = vec![];
        for d in declared {
            let Some(m) = resolve_dir(d, workdir) else { continue };
            for g in &granted {
                let overlap = if m.starts_with(g) {
                    Some(m.clone())
                } else if g.starts_with(&m) {
                    Some(g.clone())
                } else {
                    None
                };
                if let Some(o) = overlap {
                    if !dirs.iter().any(|x| o.starts_with(x)) {
                        dirs.retain(|x| !x.starts_with(&o));
                        dirs.push(o);
                    }
                }
            }
        }
        Effective { dirs, workdir: canonical_workdir }
    }

    /// Makes `dir` readable whatever the manifest and grant say (the host's own grant for the
    /// call, such as a builder's context directory).
    pub fn add_dir(&mut self, dir: &Path) {
        if let Ok(d) = std::fs::canonicalize(dir) {
            if !self.dirs.iter().any(|x| d.starts_with(x)) {
                self.dirs.retain(|x| !x.starts_with(&d));
                self.dirs.push(d);
            }
        }
    }

    /// A guest-given path as messages show it: absolute (joined to the working directory) and
    /// lexically normalized, never resolved, so that a denial says nothing of what exists.
    pub fn shown(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        match (&self.workdir, p.is_absolute()) {
            (Some(w), false) => normalize(&w.join(p)),
            _ => normalize(p),
        }
    }

    /// Resolves a guest-given path (absolute, or relative to the working directory), follows
    /// symbolic links, and returns it when it lies inside a readable directory. A denial names
    /// the path as given (see [`Effective::shown`]) and is the same whether or not it exists.
    pub fn readable(&self, path: &str) -> Result<PathBuf, PathDenial> {
        let p = Path::new(path);
        if !p.is_absolute() && self.workdir.is_none() {
            return Err(PathDenial::NotGranted(normalize(p)));
        }
        let lexical = self.shown(path);
        match std::fs::canonicalize(&lexical) {
            Ok(real) if self.dirs.iter().any(|d| real.starts_with(d)) => Ok(real),
            // "not found" only inside a readable directory: outside, do not reveal what exists
            Err(e) if self.dirs.iter().any(|d| lexical.starts_with(d)) => Err(PathDenial::Io(lexical, e)),
            _ => Err(PathDenial::NotGranted(lexical)),
        }
    }
}

/// An absolute, lexically normalized, and (when it exists) canonical directory: relative paths
/// are joined to `workdir`, `~/` is the user's home. `None` when it cannot be resolved.
fn resolve_dir(d: &str, workdir: Option<&Path>) -> Option<PathBuf> {
    let p = if d == "~" || d.starts_with("~/") {
        let home = std::env::var_os("HOME")?;
        PathBuf::from(home).join(d.trim_start_matches('~').trim_start_matches('/'))
    } else if Path::new(d).is_absolute() {
        PathBuf::from(d)
    } else {
        workdir?.join(d)
    };
    let p = normalize(&p);
    Some(std::fs::canonicalize(&p).unwrap_or(p))
}

/// Removes `.` and resolves `..` without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

// ---- the host implementation (`wharf:plugin/files`, WASI preopens) ----

/// Adds `wharf:plugin/files` to the linker.
pub(crate) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    files::add_to_linker::<State, HasSelf<State>>(linker, |s| s)
}

/// Preopens the readable directories in the guest's WASI, read-only.
pub(crate) fn preopen(wasi: &mut WasiCtxBuilder, caps: &Effective, plugin: &str) -> Result<(), PluginError> {
    for dir in &caps.dirs {
        wasi.preopened_dir(dir, dir.to_string_lossy(), FsPerms::ReadOnly).map_err(|e| PluginError::Host {
            plugin: plugin.to_string(),
            message: format!("cannot open {}: {e}", dir.display()),
        })?;
    }
    Ok(())
}

fn file_error(call: &Call, denial: PathDenial, path_is_file: bool) -> files::Error {
    match denial {
        PathDenial::NotGranted(p) => {
            let dir = if path_is_file { p.parent().map(Path::to_path_buf).unwrap_or(p) } else { p };
            files::Error::NotGranted(not_granted(call, &format!("directory {}", dir.display())))
        }
        PathDenial::Io(p, e) if e.kind() == std::io::ErrorKind::NotFound => {
            files::Error::NotFound(format!("{}: no such file or directory", p.display()))
        }
        PathDenial::Io(p, e) => files::Error::Io(format!("{}: {e}", p.display())),
    }
}

fn read_file(call: &Call, path: &str) -> Result<Vec<u8>, files::Error> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let real = call.caps.files.readable(path).map_err(|d| file_error(call, d, true))?;
    let shown = call.caps.files.shown(path);
    let io = |e: std::io::Error| files::Error::Io(format!("{}: {e}", shown.display()));
    // Opened without blocking (a FIFO would otherwise wait for a writer), then only a
    // regular file is read.
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&real)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.is_dir() {
        return Err(files::Error::Io(format!("{}: is a directory", shown.display())));
    }
    if !meta.is_file() {
        return Err(files::Error::Io(format!("{}: not a regular file", shown.display())));
    }
    if meta.len() > call.limits.memory {
        return Err(files::Error::TooLarge(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.by_ref().take(call.limits.memory + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > call.limits.memory {
        return Err(files::Error::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

fn list_dir(call: &Call, path: &str) -> Result<Vec<files::DirEntry>, files::Error> {
    let real = call.caps.files.readable(path).map_err(|d| file_error(call, d, false))?;
    let shown = call.caps.files.shown(path);
    let rd = std::fs::read_dir(&real).map_err(|e| files::Error::Io(format!("{}: {e}", shown.display())))?;
    let mut entries = vec![];
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        // Follow links only to where the plugin may read.
        let meta =
            call.caps.files.readable(&entry.path().to_string_lossy()).ok().and_then(|p| std::fs::metadata(p).ok());
        let (is_dir, size) = meta.map(|m| (m.is_dir(), if m.is_dir() { 0 } else { m.len() })).unwrap_or((false, 0));
        entries.push(files::DirEntry { name, is_dir, size });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// Runs file system work on the blocking pool, bounded by the time the call has left: a slow
/// or hung file system holds a pool thread, never the executor, and the call ends on time.
async fn blocking<T: Send + 'static>(
    call: &std::sync::Arc<Call>,
    work: impl FnOnce(&Call) -> T + Send + 'static,
) -> wasmtime::Result<T> {
    let c = call.clone();
    let task = tokio::task::spawn_blocking(move || work(&c));
    match tokio::time::timeout(call.remaining(), task).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(wasmtime::Error::msg(format!("file system task failed: {e}"))),
        Err(_) => {
            call.timed_out.store(true, std::sync::atomic::Ordering::SeqCst);
            Err(wasmtime::Error::new(crate::state::DeadlineHit))
        }
    }
}

impl files::Host for State {
    async fn read(&mut self, path: String) -> wasmtime::Result<Result<Vec<u8>, files::Error>> {
        blocking(&self.call, move |c| read_file(c, &path)).await
    }

    async fn read_string(&mut self, path: String) -> wasmtime::Result<Result<String, files::Error>> {
        blocking(&self.call, move |c| {
            read_file(c, &path)
                .and_then(|b| String::from_utf8(b).map_err(|_| files::Error::Io(format!("{path}: not valid UTF-8"))))
        })
        .await
    }

    async fn list_dir(&mut self, path: String) -> wasmtime::Result<Result<Vec<files::DirEntry>, files::Error>> {
        blocking(&self.call, move |c| list_dir(c, &path)).await
    }

    async fn exists(&mut self, path: String) -> wasmtime::Result<bool> {
        blocking(&self.call, move |c| c.caps.files.readable(&path).is_ok()).await
    }
}
