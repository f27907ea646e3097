//! The connection pool: one connection per host, reused by every command.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt, Shared};
use russh::{ChannelMsg, Disconnect, Sig};
use tokio::sync::Semaphore;

use crate::connection::{self, Connection, Lease, Log, LogEvent, Logger, Setup, Target};
use crate::error::SshError;
use crate::options::{LogLevel, SshConfigFiles, SshOptions};
use crate::redact::Redactor;
use crate::ssh_config::SshConfig;

/// A finished command. `stdout`/`stderr` are raw (not redacted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// The remote exit status; 255 when the command died without one (like OpenSSH's client).
    pub exit_status: u32,
    /// Set when the command was killed by a signal (`"KILL"`, `"TERM"`, ...).
    pub exit_signal: Option<String>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub fn success(&self) -> bool {
        self.exit_status == 0 && self.exit_signal.is_none()
    }
    pub fn stdout_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stdout)
    }
    pub fn stderr_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stderr)
    }
}

/// Which stream a [`Line`] came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One line of live output, without its line ending, with secrets masked.
#[derive(Clone, Copy, Debug)]
pub struct Line<'a> {
    pub host: &'a str,
    pub stream: Stream,
    pub text: &'a str,
}

/// Per-command options for [`Pool::exec_with`].
#[derive(Clone, Debug)]
pub struct ExecOptions {
    /// Written to the command's stdin, then EOF. `None`: EOF right away.
    pub stdin: Option<Vec<u8>>,
    /// Overrides [`SshOptions::command_timeout`].
    pub timeout: Option<Duration>,
    /// Keep stdout/stderr in the [`Output`] (default true; turn off for endless log tails).
    pub capture: bool,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions { stdin: None, timeout: None, capture: true }
    }
}

/// Counters, for tests and diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections established since the pool was created (jump hosts included).
    pub connections_opened: u64,
    /// Connections currently pooled.
    pub open_connections: usize,
    /// The most connection setups that ran at once (never above `max_concurrent_starts`).
    pub peak_concurrent_starts: usize,
}

type ConnectFuture = Shared<BoxFuture<'static, Result<Arc<Connection>, SshError>>>;

enum Slot {
    Connecting { id: u64, fut: ConnectFuture },
    Ready(Arc<Connection>),
}

struct Inner {
    options: SshOptions,
    config: SshConfig,
    slots: Mutex<HashMap<String, Slot>>,
    starts: Arc<Semaphore>,
    redactor: RwLock<Redactor>,
    log: Log,
    next_id: AtomicU64,
    opened: AtomicU64,
    starting: AtomicUsize,
    peak_starting: AtomicUsize,
}

/// SSH connections to many hosts: opened lazily, one per host, reused for every command,
/// closed after `pool_idle_timeout` unused. Connection setup (TCP, handshake, authentication)
/// runs under a semaphore of `max_concurrent_starts` permits; commands are not limited.
///
/// Cheap to clone (shared). Use it from one Tokio runtime.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("stats", &self.stats()).finish()
    }
}

const MAX_JUMP_DEPTH: usize = 8;

impl Pool {
    /// Reads the ssh_config files named by `options.config` now; connects nothing yet.
    pub fn new(options: SshOptions) -> Pool {
        let config = match &options.config {
            SshConfigFiles::Default => SshConfig::load(&["~/.ssh/config", "/etc/ssh/ssh_config"]),
            SshConfigFiles::Disabled => SshConfig::default(),
            SshConfigFiles::Files(paths) => SshConfig::load(paths),
        };
        let starts = Arc::new(Semaphore::new(options.max_concurrent_starts.max(1)));
        let log = Log { logger: Arc::new(RwLock::new(None)), level: options.log_level };
        Pool {
            inner: Arc::new(Inner {
                options,
                config,
                slots: Mutex::new(HashMap::new()),
                starts,
                redactor: RwLock::new(Redactor::default()),
                log,
                next_id: AtomicU64::new(1),
                opened: AtomicU64::new(0),
                starting: AtomicUsize::new(0),
                peak_starting: AtomicUsize::new(0),
            }),
        }
    }

    pub fn options(&self) -> &SshOptions {
        &self.inner.options
    }

    /// Secrets to mask in command echo, errors and streamed lines.
    pub fn set_redactor(&self, redactor: Redactor) {
        *self.inner.redactor.write().unwrap_or_else(|e| e.into_inner()) = redactor;
    }

    pub fn redactor(&self) -> Redactor {
        self.inner.redactor.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Route every [`LogEvent`] to `logger` (which filters by level itself). Without one,
    /// events at or above `options.log_level` go to stderr.
    pub fn set_logger(&self, logger: Logger) {
        *self.inner.log.logger.write().unwrap_or_else(|e| e.into_inner()) = Some(logger);
    }

    pub fn stats(&self) -> PoolStats {
        let open = self
            .inner
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|s| matches!(s, Slot::Ready(c) if !c.handle.is_closed()))
            .count();
        PoolStats {
            connections_opened: self.inner.opened.load(Ordering::SeqCst),
            open_connections: open,
            peak_concurrent_starts: self.inner.peak_starting.load(Ordering::SeqCst),
        }
    }

    /// Opens (or reuses) the connection to `host` without running anything: pre-connect warming.
    pub async fn connect(&self, host: &str) -> Result<(), SshError> {
        let target = Target::parse(host)?;
        checkout(&self.inner, target).await.map(drop)
    }

    /// Connects to `host`, then opens a session channel and starts a shell ahead
    /// ([`Pool::exec_script`]), so that the first command and the first script each cost one
    /// round trip: for a connection made while this machine does something else (a build).
    pub async fn warm(&self, host: &str) -> Result<(), SshError> {
        let target = Target::parse(host)?;
        let lease = checkout(&self.inner, target).await?;
        open_spare(&lease.conn, Session::Command);
        open_spare(&lease.conn, Session::Shell);
        Ok(())
    }

    /// Disconnects every pooled connection (commands in flight keep theirs until they finish).
    pub async fn close(&self) {
        let conns: Vec<Arc<Connection>> = {
            let mut slots = self.inner.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots
                .drain()
                .filter_map(|(_, s)| match s {
                    Slot::Ready(c) => Some(c),
                    Slot::Connecting { .. } => None,
                })
                .collect()
        };
        for c in conns {
            c.dead.store(true, Ordering::SeqCst);
            let _ = c.handle.disconnect(Disconnect::ByApplication, "", "en").await;
        }
    }

    /// Runs `command` (through the remote user's shell). A non-zero exit is not an error here.
    pub async fn exec(&self, host: &str, command: &str) -> Result<Output, SshError> {
        self.exec_with(host, command, ExecOptions::default(), None).await
    }

    /// Like [`exec`](Self::exec), with `stdin` fed to the command.
    pub async fn exec_with_stdin(&self, host: &str, command: &str, stdin: &[u8]) -> Result<Output, SshError> {
        self.exec_with(host, command, ExecOptions { stdin: Some(stdin.to_vec()), ..Default::default() }, None).await
    }

    /// Like [`exec`](Self::exec), calling `on_line` for every output line as it arrives.
    pub async fn exec_streaming<F>(&self, host: &str, command: &str, mut on_line: F) -> Result<Output, SshError>
    where
        F: FnMut(Line<'_>) + Send,
    {
        self.exec_with(host, command, ExecOptions::default(), Some(&mut on_line)).await
    }

    /// Like [`exec`](Self::exec), but a non-zero exit is [`SshError::CommandFailed`].
    pub async fn exec_checked(&self, host: &str, command: &str) -> Result<Output, SshError> {
        let out = self.exec(host, command).await?;
        self.check(host, command, out)
    }

    /// SSHKit's `capture`: stdout, whitespace-trimmed; non-zero exit is an error.
    pub async fn capture(&self, host: &str, command: &str) -> Result<String, SshError> {
        let out = self.exec_checked(host, command).await?;
        Ok(out.stdout_str().trim().to_string())
    }

    /// `Ok(out)` if it succeeded, else [`SshError::CommandFailed`] with the redacted command.
    pub fn check(&self, host: &str, command: &str, out: Output) -> Result<Output, SshError> {
        if out.success() {
            return Ok(out);
        }
        let r = self.redactor();
        let mut stderr = r.redact(&out.stderr_str()).into_owned();
        if let Some(sig) = &out.exit_signal {
            stderr = format!("killed by signal {sig}\n{stderr}");
        }
        Err(SshError::CommandFailed {
            host: host.to_string(),
            command: r.redact(command).into_owned(),
            exit_status: out.exit_status,
            stderr,
        })
    }

    /// The general form: stdin, timeout, capture, and an optional live line callback.
    pub async fn exec_with(
        &self,
        host: &str,
        command: &str,
        opts: ExecOptions,
        on_line: Option<&mut (dyn FnMut(Line<'_>) + Send)>,
    ) -> Result<Output, SshError> {
        let inner = &self.inner;
        let redactor = self.redactor();
        let shown = redactor.redact(command).into_owned();
        let target = Target::parse(host)?;
        inner.log.emit(LogLevel::Info, host, || format!("Running {shown}"));
        let started = Instant::now();

        let (lease, channel) = open_session(inner, &target, Session::Command).await?;
        if lease.conn.forward_agent {
            let _ = channel.agent_forward(false).await;
        }
        channel
            .exec(true, command.as_bytes())
            .await
            .map_err(|e| SshError::Protocol { host: host.to_string(), message: format!("exec request failed: {e}") })?;
        self.converse(host, &shown, started, &lease, channel, opts, on_line).await
    }

    /// Runs `script` with the server's `sh`, which reads it on its standard input. Unlike a
    /// command line, standard input is not there for the server's other users and programs to
    /// read (`ps`, `/proc/PID/cmdline`, audit logs), so a script that carries secrets (an env
    /// file's content, a password for `--password-stdin`) goes this way. The shell is started
    /// ahead, one per connection, as a channel is for commands: a script then costs one
    /// round trip, as a command does; the connection's first waits a round trip more, for the
    /// shell to start. The script must not let its commands read its own standard input.
    pub async fn exec_script(&self, host: &str, script: &[u8], opts: ExecOptions) -> Result<Output, SshError> {
        let inner = &self.inner;
        let shown = format!("{SHELL} < a script of {} bytes", script.len());
        let target = Target::parse(host)?;
        inner.log.emit(LogLevel::Info, host, || format!("Running {shown}"));
        let started = Instant::now();
        let (lease, channel) = open_session(inner, &target, Session::Shell).await?;
        let opts = ExecOptions { stdin: Some(script.to_vec()), ..opts };
        self.converse(host, &shown, started, &lease, channel, opts, None).await
    }

    /// Feeds a started command (or shell) its stdin, and collects its output and exit status.
    #[allow(clippy::too_many_arguments)]
    async fn converse(
        &self,
        host: &str,
        shown: &str,
        started: Instant,
        lease: &Lease,
        channel: russh::Channel<russh::client::Msg>,
        opts: ExecOptions,
        mut on_line: Option<&mut (dyn FnMut(Line<'_>) + Send)>,
    ) -> Result<Output, SshError> {
        let inner = &self.inner;
        let redactor = self.redactor();
        let conn = &lease.conn;
        let proto = |m: String| SshError::Protocol { host: host.to_string(), message: m };
        let (mut rd, wr) = channel.split();

        let timeout = opts.timeout.or(inner.options.command_timeout);
        let capture = opts.capture;
        let stdin = opts.stdin;
        let io = async {
            // Feeding stdin stops as soon as the command is done (it may never read it).
            let writer = async {
                if let Some(data) = &stdin {
                    let _ = wr.data(&data[..]).await;
                }
                let _ = wr.eof().await;
            };
            let reader = async {
                let mut out = Output::default();
                let mut status = None;
                let mut lines = [LineBuf::default(), LineBuf::default()];
                let mut confirmed = false;
                let mut closed = false;
                while let Some(msg) = rd.wait().await {
                    match msg {
                        ChannelMsg::Data { data } => {
                            if capture {
                                out.stdout.extend_from_slice(&data);
                            }
                            if let Some(cb) = on_line.as_deref_mut() {
                                lines[0].push(&data, host, Stream::Stdout, &redactor, cb);
                            }
                        }
                        ChannelMsg::ExtendedData { data, ext: 1 } => {
                            if capture {
                                out.stderr.extend_from_slice(&data);
                            }
                            if let Some(cb) = on_line.as_deref_mut() {
                                lines[1].push(&data, host, Stream::Stderr, &redactor, cb);
                            }
                        }
                        ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                        ChannelMsg::ExitSignal { signal_name, .. } => {
                            out.exit_signal = Some(format!("{signal_name:?}"))
                        }
                        ChannelMsg::Success => confirmed = true,
                        ChannelMsg::Failure if !confirmed => {
                            return Err(proto("the server refused to run the command".into()));
                        }
                        ChannelMsg::Close => {
                            closed = true;
                            break;
                        }
                        _ => {}
                    }
                }
                if let Some(cb) = on_line.as_deref_mut() {
                    lines[0].finish(host, Stream::Stdout, &redactor, cb);
                    lines[1].finish(host, Stream::Stderr, &redactor, cb);
                }
                if status.is_none() && out.exit_signal.is_none() && !closed {
                    return Err(proto("connection lost while the command was running".into()));
                }
                out.exit_status = status.unwrap_or(255);
                Ok(out)
            };
            tokio::pin!(writer, reader);
            let mut writing = true;
            loop {
                tokio::select! {
                    () = &mut writer, if writing => writing = false,
                    r = &mut reader => break r,
                }
            }
        };
        let result = match timeout {
            Some(t) => match tokio::time::timeout(t, io).await {
                Ok(r) => r,
                Err(_) => {
                    let _ = wr.signal(Sig::KILL).await;
                    let _ = wr.close().await;
                    inner.log.emit(LogLevel::Info, host, || format!("Timed out after {t:?}: {shown}"));
                    return Err(SshError::CommandTimeout {
                        host: host.to_string(),
                        command: shown.to_string(),
                        after: t,
                    });
                }
            },
            None => io.await,
        };
        if let Err(e) = &result {
            if conn.handle.is_closed() {
                conn.dead.store(true, Ordering::SeqCst);
            }
            inner.log.emit(LogLevel::Info, host, || format!("Failed: {e}"));
        }
        let out = result?;
        inner.log.emit(LogLevel::Info, host, || {
            format!(
                "Finished in {:.3} seconds with exit status {} ({}).",
                started.elapsed().as_secs_f64(),
                out.exit_status,
                if out.success() { "successful" } else { "failed" }
            )
        });
        Ok(out)
    }

    /// Writes `bytes` to `remote_path` with `mode` (e.g. `0o600`), atomically: into a temporary
    /// file in the same directory, created under `umask 077`, then `chmod` and `mv` over the
    /// target. The directory must exist. The content never appears in logs.
    pub async fn upload(&self, host: &str, bytes: &[u8], remote_path: &str, mode: u32) -> Result<(), SshError> {
        let cmd = upload_command(remote_path, mode);
        self.inner.log.emit(LogLevel::Info, host, || format!("Uploading {} bytes to {remote_path}", bytes.len()));
        let out =
            self.exec_with(host, &cmd, ExecOptions { stdin: Some(bytes.to_vec()), ..Default::default() }, None).await?;
        self.check(host, &cmd, out).map(drop)
    }

    /// `ssh -R 127.0.0.1:remote_port:local_addr`: connections to `127.0.0.1:remote_port` on
    /// `host` are tunnelled to `local_addr` here, until the returned guard is dropped or closed.
    /// `remote_port` 0 lets the server pick (see [`RemoteForward::remote_port`]).
    pub async fn forward_remote_port(
        &self,
        host: &str,
        remote_port: u16,
        local_addr: SocketAddr,
    ) -> Result<RemoteForward, SshError> {
        let target = Target::parse(host)?;
        let lease = checkout(&self.inner, target).await?;
        let bind = "127.0.0.1".to_string();
        let map = lease.conn.forwards.clone();
        if remote_port != 0 {
            map.lock().unwrap_or_else(|e| e.into_inner()).insert(remote_port as u32, local_addr);
        }
        let refused = || SshError::ForwardRefused { host: host.to_string(), bind: bind.clone(), port: remote_port };
        let port = match lease.conn.handle.tcpip_forward(bind.clone(), remote_port as u32).await {
            Ok(p) if remote_port == 0 => p as u16,
            Ok(_) => remote_port,
            Err(russh::Error::RequestDenied) => {
                map.lock().unwrap_or_else(|e| e.into_inner()).remove(&(remote_port as u32));
                return Err(refused());
            }
            Err(e) => {
                map.lock().unwrap_or_else(|e| e.into_inner()).remove(&(remote_port as u32));
                return Err(SshError::Protocol { host: host.to_string(), message: format!("port forward: {e}") });
            }
        };
        map.lock().unwrap_or_else(|e| e.into_inner()).insert(port as u32, local_addr);
        self.inner.log.emit(LogLevel::Debug, host, || format!("Forwarding {bind}:{port} on {host} to {local_addr}"));
        Ok(RemoteForward { lease: Some(lease), host: host.to_string(), bind, port })
    }
}

/// A remote port forward; cancelled when dropped (or by [`close`](Self::close)). Keeps its
/// connection open (it counts as activity for the idle timeout).
pub struct RemoteForward {
    lease: Option<Lease>,
    host: String,
    bind: String,
    port: u16,
}

impl std::fmt::Debug for RemoteForward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteForward")
            .field("host", &self.host)
            .field("bind", &self.bind)
            .field("port", &self.port)
            .finish()
    }
}

impl RemoteForward {
    /// The port listening on the remote host.
    pub fn remote_port(&self) -> u16 {
        self.port
    }
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Cancels the forward and waits for the server to confirm.
    pub async fn close(mut self) -> Result<(), SshError> {
        let Some(lease) = self.lease.take() else { return Ok(()) };
        lease.conn.forwards.lock().unwrap_or_else(|e| e.into_inner()).remove(&(self.port as u32));
        lease.conn.handle.cancel_tcpip_forward(self.bind.clone(), self.port as u32).await.map_err(|e| {
            SshError::Protocol { host: self.host.clone(), message: format!("cancelling port forward: {e}") }
        })
    }
}

impl Drop for RemoteForward {
    fn drop(&mut self) {
        let Some(lease) = self.lease.take() else { return };
        lease.conn.forwards.lock().unwrap_or_else(|e| e.into_inner()).remove(&(self.port as u32));
        let (bind, port) = (self.bind.clone(), self.port as u32);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = lease.conn.handle.cancel_tcpip_forward(bind, port).await;
                drop(lease);
            });
        }
    }
}

/// Single-quotes for a POSIX shell.
/// The shell command [`Pool::upload`] runs, its stdin the content: written into a temporary file
/// beside `remote_path` under `umask 077`, then `chmod mode` and `mv` over the target.
pub fn upload_command(remote_path: &str, mode: u32) -> String {
    let tmp = format!("{remote_path}.wharf-tmp-{:016x}", fastrand::u64(..));
    let (t, p) = (shell_quote(&tmp), shell_quote(remote_path));
    format!("umask 077 && cat > {t} && chmod {mode:o} {t} && mv -f {t} {p} || {{ rc=$?; rm -f {t}; exit $rc; }}")
}

pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[derive(Default)]
struct LineBuf {
    buf: Vec<u8>,
}

impl LineBuf {
    fn push(&mut self, data: &[u8], host: &str, stream: Stream, r: &Redactor, cb: &mut (dyn FnMut(Line<'_>) + Send)) {
        self.buf.extend_from_slice(data);
        let mut start = 0;
        while let Some(pos) = self.buf[start..].iter().position(|&b| b == b'\n') {
            let end = start + pos;
            emit(&self.buf[start..end], host, stream, r, cb);
            start = end + 1;
        }
        self.buf.drain(..start);
    }

    fn finish(&mut self, host: &str, stream: Stream, r: &Redactor, cb: &mut (dyn FnMut(Line<'_>) + Send)) {
        if !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            emit(&rest, host, stream, r, cb);
        }
    }
}

fn emit(raw: &[u8], host: &str, stream: Stream, r: &Redactor, cb: &mut (dyn FnMut(Line<'_>) + Send)) {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let text = String::from_utf8_lossy(raw);
    let text = r.redact(&text);
    cb(Line { host, stream, text: &text });
}

/// The shell [`Pool::exec_script`] starts: the remote user's shell runs it, and it reads the
/// script on its standard input.
const SHELL: &str = "sh";

/// What a session channel is opened for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Session {
    /// A command, sent once the channel is there.
    Command,
    /// [`SHELL`], started as soon as the channel is there, for a script on its standard input.
    Shell,
}

impl Session {
    /// The connection's channel of this kind opened ahead of need, if any.
    fn spare(self, conn: &Connection) -> &Mutex<Option<connection::SpareChannel>> {
        match self {
            Session::Command => &conn.spare,
            Session::Shell => &conn.spare_shell,
        }
    }

    /// Opens a channel of this kind on `conn`.
    async fn open(self, conn: &Connection) -> Result<russh::Channel<russh::client::Msg>, russh::Error> {
        let channel = conn.handle.channel_open_session().await?;
        if self == Session::Shell {
            if conn.forward_agent {
                let _ = channel.agent_forward(false).await;
            }
            channel.exec(true, SHELL).await?;
        }
        Ok(channel)
    }
}

/// Opens a session channel of `kind`, replacing a connection found dead on the way (once). A
/// channel opened ahead of need is taken when there is one, and another is opened in the
/// background for the next command: a command then costs one round trip (the request and its
/// answer), not two (a channel, then the request).
async fn open_session(
    inner: &Arc<Inner>,
    target: &Target,
    kind: Session,
) -> Result<(Lease, russh::Channel<russh::client::Msg>), SshError> {
    let mut attempt = 0;
    loop {
        let lease = checkout(inner, target.clone()).await?;
        let spare = kind.spare(&lease.conn).lock().unwrap_or_else(|e| e.into_inner()).take();
        let opened = match spare {
            Some(task) => match task.await {
                Ok(Ok(ch)) => Ok(ch),
                // A spare that failed (or was lost): open one now, which says why if it fails.
                _ => kind.open(&lease.conn).await,
            },
            None => kind.open(&lease.conn).await,
        };
        match opened {
            Ok(ch) => {
                open_spare(&lease.conn, kind);
                return Ok((lease, ch));
            }
            Err(e) => {
                lease.conn.dead.store(true, Ordering::SeqCst);
                evict(inner, &target.key, lease.conn.id);
                attempt += 1;
                if attempt >= 2 {
                    return Err(SshError::Protocol {
                        host: target.alias.clone(),
                        message: format!("could not open a session channel: {e}"),
                    });
                }
            }
        }
    }
}

/// Starts opening the connection's next session channel of `kind`, unless one is already on
/// its way.
fn open_spare(conn: &Arc<Connection>, kind: Session) {
    let mut spare = kind.spare(conn).lock().unwrap_or_else(|e| e.into_inner());
    if spare.is_none() && !conn.dead.load(Ordering::SeqCst) {
        let weak = Arc::downgrade(conn);
        *spare = Some(tokio::spawn(async move {
            match weak.upgrade() {
                Some(conn) => kind.open(&conn).await,
                None => Err(russh::Error::Disconnect),
            }
        }));
    }
}

fn evict(inner: &Inner, key: &str, id: u64) {
    let mut slots = inner.slots.lock().unwrap_or_else(|e| e.into_inner());
    if matches!(slots.get(key), Some(Slot::Ready(c)) if c.id == id) {
        slots.remove(key);
    }
}

/// The pooled connection for `target`, connecting if needed. Concurrent callers share one
/// connection attempt (and its error).
fn checkout(inner: &Arc<Inner>, target: Target) -> BoxFuture<'static, Result<Lease, SshError>> {
    let inner = inner.clone();
    async move {
        loop {
            let (id, fut) = {
                let mut slots = inner.slots.lock().unwrap_or_else(|e| e.into_inner());
                match slots.get(&target.key) {
                    Some(Slot::Ready(c)) if c.is_usable(inner.options.pool_idle_timeout) => {
                        return Ok(Lease::new(c.clone()));
                    }
                    Some(Slot::Connecting { id, fut }) => (*id, fut.clone()),
                    _ => {
                        let id = inner.next_id.fetch_add(1, Ordering::SeqCst);
                        let task = tokio::spawn(connect(inner.clone(), target.clone(), id));
                        let host = target.alias.clone();
                        let fut = async move {
                            task.await.unwrap_or_else(|e| {
                                Err(SshError::Protocol { host, message: format!("connection task failed: {e}") })
                            })
                        }
                        .boxed()
                        .shared();
                        slots.insert(target.key.clone(), Slot::Connecting { id, fut: fut.clone() });
                        (id, fut)
                    }
                }
            };
            let result = fut.await;
            let mut slots = inner.slots.lock().unwrap_or_else(|e| e.into_inner());
            let ours = matches!(slots.get(&target.key), Some(Slot::Connecting { id: i, .. }) if *i == id);
            match result {
                Ok(conn) => {
                    if ours {
                        slots.insert(target.key.clone(), Slot::Ready(conn.clone()));
                    }
                    if conn.is_usable(inner.options.pool_idle_timeout) {
                        return Ok(Lease::new(conn));
                    }
                    // Died already: go round and reconnect.
                }
                Err(e) => {
                    if ours {
                        slots.remove(&target.key);
                    }
                    return Err(e);
                }
            }
        }
    }
    .boxed()
}

fn connect(inner: Arc<Inner>, target: Target, id: u64) -> BoxFuture<'static, Result<Arc<Connection>, SshError>> {
    async move {
        let dest = connection::resolve(&inner.options, &inner.config, &target);
        let host = target.alias.clone();
        let via = match &dest.route {
            connection::Route::Jump(hops) => {
                let depth = target.jump_via.as_ref().map_or(0, |v| v.len()) + hops.len();
                if depth > MAX_JUMP_DEPTH || hops.is_empty() {
                    return Err(SshError::Jump {
                        host,
                        jump: hops.join(","),
                        message: "too many jump hosts (a ProxyJump loop in ssh_config?)".into(),
                    });
                }
                let jump = hops.last().cloned().unwrap_or_default();
                let jt = Target::jump(hops)?;
                match checkout(&inner, jt).await {
                    Ok(l) => Some(l),
                    Err(e) => return Err(SshError::Jump { host, jump, message: e.to_string() }),
                }
            }
            _ => None,
        };
        let timeout = dest.connect_timeout;
        let permit = inner
            .starts
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| SshError::Protocol { host: host.clone(), message: "connection pool closed".into() })?;
        let now = inner.starting.fetch_add(1, Ordering::SeqCst) + 1;
        inner.peak_starting.fetch_max(now, Ordering::SeqCst);
        struct Starting<'a>(&'a AtomicUsize);
        impl Drop for Starting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let starting = Starting(&inner.starting);
        let setup = Setup { id, dest: &dest, host: &host, via, log: inner.log.clone() };
        let conn = match tokio::time::timeout(timeout, connection::establish(setup)).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(SshError::ConnectTimeout { host: host.clone(), port: dest.port, after: timeout });
            }
        };
        drop(starting);
        drop(permit);
        inner.opened.fetch_add(1, Ordering::SeqCst);
        let conn = Arc::new(conn);
        tokio::spawn(reap(Arc::downgrade(&inner), Arc::downgrade(&conn), target.key.clone()));
        Ok(conn)
    }
    .boxed()
}

/// Closes the connection once it has been unused for `pool_idle_timeout`. The check runs under
/// the slots lock, which is also where checkouts take their lease, so a connection is never
/// closed under a command that just picked it.
async fn reap(inner: Weak<Inner>, conn: Weak<Connection>, key: String) {
    loop {
        let wait = {
            let (Some(inner), Some(c)) = (inner.upgrade(), conn.upgrade()) else { return };
            let idle_timeout = inner.options.pool_idle_timeout;
            let expired = {
                let mut slots = inner.slots.lock().unwrap_or_else(|e| e.into_inner());
                let gone = c.dead.load(Ordering::SeqCst) || c.handle.is_closed();
                let idle = c.active.load(Ordering::SeqCst) == 0 && c.idle_for() >= idle_timeout;
                if gone || idle {
                    c.dead.store(true, Ordering::SeqCst);
                    if matches!(slots.get(&key), Some(Slot::Ready(r)) if r.id == c.id) {
                        slots.remove(&key);
                    }
                }
                if gone {
                    return;
                }
                idle
            };
            if expired {
                inner.log.emit(LogLevel::Debug, &c.alias, || format!("Closing connection idle for {idle_timeout:?}"));
                let _ = c.handle.disconnect(Disconnect::ByApplication, "idle", "en").await;
                return;
            }
            if c.active.load(Ordering::SeqCst) > 0 {
                idle_timeout
            } else {
                idle_timeout.saturating_sub(c.idle_for())
            }
        };
        tokio::time::sleep(wait.max(Duration::from_millis(50)).min(Duration::from_secs(60))).await;
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Pool>();
    is::<LogEvent>();
}
