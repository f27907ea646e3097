//! The host side of `wharf:plugin/{log,process,files}` (version 0.1.0).
//!
//! Every host call is bounded by the plugin's deadline: file system work runs on the blocking
//! pool and is awaited under the time left (a hung read never holds the executor), files are
//! opened without blocking and only regular files are read (a FIFO or a device is refused), and
//! a program runs in a process group of its own that is killed whole when the call is over or
//! out of time (what it forked goes with it).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::bindings::v0_1::imports::wharf::plugin::{files, log, process};
use crate::grant::{PathDenial, ProgramDenial};
use crate::state::{Call, Level, OutputLimitHit, State};

fn not_granted(call: &Call, capability: &str) -> String {
    format!("plugin {}: capability {capability} not granted", call.plugin)
}

impl log::Host for State {
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            log::Level::Trace => Level::Trace,
            log::Level::Debug => Level::Debug,
            log::Level::Info => Level::Info,
            log::Level::Warn => Level::Warn,
            log::Level::Error => Level::Error,
        };
        self.call.log(level, &message).map_err(|e: OutputLimitHit| wasmtime::Error::new(e))
    }
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
    match call.caps.program_allowed(&cmd.program, &cmd.args) {
        Ok(()) => {}
        Err(denial) => {
            let known = |rules: &[crate::ProgramRule]| rules.iter().any(|r| r.program == cmd.program);
            let (known, why) = match denial {
                ProgramDenial::NotDeclared => {
                    (known(&call.caps.manifest_programs), " (its manifest does not declare it)")
                }
                ProgramDenial::NotGranted => (known(&call.caps.grant_programs), ""),
            };
            let capability = if known {
                format!("program {} with arguments {:?}", cmd.program, cmd.args)
            } else {
                format!("program {}", cmd.program)
            };
            return Err(process::Error::NotGranted(format!("{}{why}", not_granted(call, &capability))));
        }
    }
    if cmd.terminal && !call.caps.terminal {
        return Err(process::Error::NotGranted(not_granted(call, "terminal")));
    }
    if let Some((name, _)) = cmd.env.iter().find(|(k, _)| !call.caps.vars.contains(k)) {
        return Err(process::Error::NotGranted(not_granted(call, &format!("env {name}"))));
    }
    let cwd = match &cmd.cwd {
        None => call.caps.workdir.clone().unwrap_or_else(std::env::temp_dir),
        Some(dir) => match call.caps.readable(dir) {
            Ok(p) if p.is_dir() => p,
            Ok(p) => return Err(process::Error::SpawnFailed(format!("{} is not a directory", p.display()))),
            Err(PathDenial::NotGranted(p)) | Err(PathDenial::Io(p, _)) => {
                return Err(process::Error::NotGranted(not_granted(call, &format!("directory {}", p.display()))))
            }
        },
    };
    let Some(program) = resolve_program(&cmd.program, &call.caps.env) else {
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
        .envs(call.caps.env.iter().map(|(k, v)| (k, v)))
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&cwd)
        .stdin(if cmd.terminal { Stdio::inherit() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(if cmd.terminal { Stdio::inherit() } else { Stdio::piped() })
        .kill_on_drop(true);
    // A process group of its own, killed whole (a program given the terminal stays in the
    // foreground group, or it could not read the user's answer: only it is killed).
    if !cmd.terminal {
        command.process_group(0);
    }
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
    let real = call.caps.readable(path).map_err(|d| file_error(call, d, true))?;
    let shown = call.caps.shown(path);
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
    let real = call.caps.readable(path).map_err(|d| file_error(call, d, false))?;
    let shown = call.caps.shown(path);
    let rd = std::fs::read_dir(&real).map_err(|e| files::Error::Io(format!("{}: {e}", shown.display())))?;
    let mut entries = vec![];
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        // Follow links only to where the plugin may read.
        let meta = call.caps.readable(&entry.path().to_string_lossy()).ok().and_then(|p| std::fs::metadata(p).ok());
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
        blocking(&self.call, move |c| c.caps.readable(&path).is_ok()).await
    }
}
