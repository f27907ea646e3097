//! Setting up one SSH connection: resolving options against ssh_config, the transport (TCP,
//! jump host channel or proxy command), host key checking, authentication.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use russh::client::{self, ChannelOpenHandle, Handle, Msg, Session};
use russh::keys::agent::client::AgentClient;
use russh::keys::ssh_key::{Algorithm, HashAlg, PrivateKey, PublicKey};
use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{Channel, ChannelOpenFailure, Preferred, SshId};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::error::SshError;
use crate::known_hosts::{self, KnownHosts, Verdict};
use crate::options::{HostKeyPolicy, LogLevel, SshOptions, DEFAULT_CONNECT_TIMEOUT};
use crate::ssh_config::{expand_tilde, home_dir, local_user, ConfigProxy, SshConfig};

// ---------------------------------------------------------------------------------------------
// Logging

/// One log message from the pool. `message` never contains a registered secret.
#[derive(Clone, Debug)]
pub struct LogEvent {
    pub level: LogLevel,
    /// The host the message is about, as given to the pool.
    pub host: String,
    pub message: String,
}

/// Receives every [`LogEvent`]; it decides what to print.
pub type Logger = Arc<dyn Fn(&LogEvent) + Send + Sync>;

#[derive(Clone)]
pub(crate) struct Log {
    pub(crate) logger: Arc<std::sync::RwLock<Option<Logger>>>,
    pub(crate) level: LogLevel,
}

impl Log {
    pub(crate) fn emit(&self, level: LogLevel, host: &str, message: impl FnOnce() -> String) {
        let logger = self.logger.read().unwrap_or_else(|e| e.into_inner()).clone();
        match logger {
            Some(l) => l(&LogEvent { level, host: host.to_string(), message: message() }),
            None if level >= self.level => eprintln!("{level} [{host}] {}", message()),
            None => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Targets and destinations

/// What the pool was asked to connect to.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    /// Pool key.
    pub key: String,
    /// Host name as given (ssh_config `Host` is matched against it; errors name it).
    pub alias: String,
    pub user: Option<String>,
    pub port: Option<u16>,
    /// Some for a jump host: the hops before it (empty: direct unless its ssh_config says otherwise).
    pub jump_via: Option<Vec<String>>,
}

/// `[user@]host[:port]`, `[v6]:port`, bare IPv6.
pub(crate) fn parse_host(s: &str) -> Result<(Option<String>, String, Option<u16>), SshError> {
    let invalid = |m: &str| SshError::InvalidHost { host: s.to_string(), message: m.to_string() };
    let (user, rest) = match s.rsplit_once('@') {
        Some((u, r)) if !u.is_empty() => (Some(u.to_string()), r),
        Some(_) => return Err(invalid("empty user")),
        None => (None, s),
    };
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        let (h, after) = r.split_once(']').ok_or_else(|| invalid("unclosed ["))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse::<u16>().map_err(|_| invalid("bad port"))?),
            None if after.is_empty() => None,
            None => return Err(invalid("junk after ]")),
        };
        (h.to_string(), port)
    } else if rest.matches(':').count() == 1 {
        let (h, p) = rest.split_once(':').unwrap_or((rest, ""));
        (h.to_string(), Some(p.parse::<u16>().map_err(|_| invalid("bad port"))?))
    } else {
        (rest.to_string(), None)
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(invalid("empty or malformed host name"));
    }
    Ok((user, host, port))
}

impl Target {
    pub(crate) fn parse(host: &str) -> Result<Target, SshError> {
        let (user, alias, port) = parse_host(host)?;
        Ok(Target { key: host.to_string(), alias, user, port, jump_via: None })
    }

    /// The jump host `hops[n-1]`, reached through `hops[..n-1]`.
    pub(crate) fn jump(hops: &[String]) -> Result<Target, SshError> {
        let last =
            hops.last().ok_or_else(|| SshError::InvalidHost { host: String::new(), message: "empty jump".into() })?;
        let (user, alias, port) = parse_host(last)?;
        Ok(Target {
            key: format!("\u{0}jump:{}", hops.join(">")),
            alias,
            user,
            port,
            jump_via: Some(hops[..hops.len() - 1].to_vec()),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Direct,
    /// Hops, outermost first.
    Jump(Vec<String>),
    Command(String),
}

#[derive(Clone, Debug)]
pub(crate) struct Identity {
    /// As configured (for messages): `~/.ssh/id_ed25519`.
    pub display: String,
    pub path: PathBuf,
    /// Given explicitly (a missing file is reported) rather than a default (skipped silently).
    pub explicit: bool,
}

/// Everything needed to connect to one host, options and ssh_config merged.
#[derive(Clone, Debug)]
pub(crate) struct Destination {
    pub hostname: String,
    pub port: u16,
    pub user: String,
    pub identities: Vec<Identity>,
    pub key_data: Vec<String>,
    pub keys_only: bool,
    pub agent: Option<PathBuf>,
    pub forward_agent: bool,
    pub route: Route,
    pub user_known_hosts: Vec<PathBuf>,
    pub global_known_hosts: Vec<PathBuf>,
    pub policy: HostKeyPolicy,
    pub connect_timeout: Duration,
    pub keepalive_interval: Option<Duration>,
    pub keepalive_max: usize,
    pub dns_retries: u32,
}

const DEFAULT_IDENTITIES: &[&str] = &["~/.ssh/id_ed25519", "~/.ssh/id_rsa", "~/.ssh/id_ecdsa"];

struct Tokens<'a> {
    hostname: &'a str,
    port: u16,
    user: &'a str,
    alias: &'a str,
}

/// ssh_config `%` tokens (`%h %p %r %n %u %d %%`), then `~`.
fn expand(value: &str, t: &Tokens) -> String {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('h') => out.push_str(t.hostname),
            Some('p') => out.push_str(&t.port.to_string()),
            Some('r') => out.push_str(t.user),
            Some('n') => out.push_str(t.alias),
            Some('u') => out.push_str(&local_user()),
            Some('d') => out.push_str(&home_dir().to_string_lossy()),
            Some('%') => out.push('%'),
            Some(o) => {
                out.push('%');
                out.push(o);
            }
            None => out.push('%'),
        }
    }
    expand_tilde(&out)
}

pub(crate) fn resolve(options: &SshOptions, config: &SshConfig, target: &Target) -> Destination {
    let hc = config.resolve(&target.alias);
    let is_jump = target.jump_via.is_some();
    let hostname = hc.host_name.clone().unwrap_or_else(|| target.alias.clone());
    let user = target
        .user
        .clone()
        .or_else(|| if is_jump { None } else { options.user.clone() })
        .or_else(|| hc.user.clone())
        .unwrap_or_else(|| "root".to_string());
    let port = target.port.or(if is_jump { None } else { options.port }).or(hc.port).unwrap_or(22);
    let tokens = Tokens { hostname: &hostname, port, user: &user, alias: &target.alias };

    let identities = match &options.keys {
        Some(keys) => keys
            .iter()
            .map(|p| {
                let d = p.to_string_lossy().to_string();
                Identity { path: PathBuf::from(expand_tilde(&d)), display: d, explicit: true }
            })
            .collect(),
        None if !hc.identity_files.is_empty() => hc
            .identity_files
            .iter()
            .map(|f| Identity { display: f.clone(), path: PathBuf::from(expand(f, &tokens)), explicit: true })
            .collect(),
        None => DEFAULT_IDENTITIES
            .iter()
            .map(|f| Identity { display: f.to_string(), path: PathBuf::from(expand_tilde(f)), explicit: false })
            .collect(),
    };

    let agent_setting = options.identity_agent.clone().or(hc.identity_agent.clone());
    let agent = match agent_setting.as_deref() {
        Some(s) if s.eq_ignore_ascii_case("none") => None,
        Some("SSH_AUTH_SOCK") | None => std::env::var_os("SSH_AUTH_SOCK").filter(|v| !v.is_empty()).map(PathBuf::from),
        Some(s) if s.starts_with('$') => std::env::var_os(&s[1..]).filter(|v| !v.is_empty()).map(PathBuf::from),
        Some(s) => Some(PathBuf::from(expand(s, &tokens))),
    };

    let config_route = || match &hc.proxy {
        Some(ConfigProxy::Jump(j)) => Route::Jump(j.split(',').map(|s| s.trim().to_string()).collect()),
        Some(ConfigProxy::Command(c)) => Route::Command(expand_command(c, &tokens)),
        Some(ConfigProxy::Disabled) | None => Route::Direct,
    };
    let route = match &target.jump_via {
        Some(via) if !via.is_empty() => Route::Jump(via.clone()),
        Some(_) => config_route(),
        None => {
            if let Some(p) = &options.proxy {
                // Kamal: `proxy.include?("@") ? proxy : "root@#{proxy}"`
                Route::Jump(
                    p.split(',')
                        .map(|h| h.trim())
                        .map(|h| if h.contains('@') { h.to_string() } else { format!("root@{h}") })
                        .collect(),
                )
            } else if let Some(c) = &options.proxy_command {
                Route::Command(expand_command(c, &tokens))
            } else {
                config_route()
            }
        }
    };

    let user_known_hosts = match (&options.user_known_hosts_files, &hc.user_known_hosts_files) {
        (Some(v), _) => v.iter().map(|p| PathBuf::from(expand_tilde(&p.to_string_lossy()))).collect(),
        (None, Some(v)) => v.iter().map(|p| PathBuf::from(expand(p, &tokens))).collect(),
        (None, None) => vec![home_dir().join(".ssh/known_hosts"), home_dir().join(".ssh/known_hosts2")],
    };
    let global_known_hosts = match (&options.global_known_hosts_files, &hc.global_known_hosts_files) {
        (Some(v), _) => v.clone(),
        (None, Some(v)) => v.iter().map(|p| PathBuf::from(expand(p, &tokens))).collect(),
        (None, None) => vec![PathBuf::from("/etc/ssh/ssh_known_hosts"), PathBuf::from("/etc/ssh/ssh_known_hosts2")],
    };
    let policy = options.verify_host_key.unwrap_or(match hc.strict_host_key_checking.as_deref() {
        Some("yes") | Some("true") | Some("ask") => HostKeyPolicy::Always,
        Some("accept-new") | Some("no") | Some("off") | Some("false") => HostKeyPolicy::AcceptNew,
        _ => HostKeyPolicy::AcceptNewOrLocalTunnel,
    });

    Destination {
        hostname: hostname.clone(),
        port,
        user: user.clone(),
        identities,
        key_data: options.key_data.clone(),
        keys_only: options.keys_only.or(hc.identities_only).unwrap_or(false),
        agent,
        forward_agent: options.forward_agent.or(hc.forward_agent).unwrap_or(false),
        route,
        user_known_hosts,
        global_known_hosts,
        policy,
        connect_timeout: options
            .connect_timeout
            .or(hc.connect_timeout.filter(|s| *s > 0).map(Duration::from_secs))
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        keepalive_interval: options.keepalive_interval,
        keepalive_max: options.keepalive_max,
        dns_retries: options.dns_retries,
    }
}

/// ProxyCommand tokens; no `~` expansion (it is a shell command).
fn expand_command(cmd: &str, t: &Tokens) -> String {
    let mut out = String::new();
    let mut chars = cmd.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('h') => out.push_str(t.hostname),
            Some('p') => out.push_str(&t.port.to_string()),
            Some('r') => out.push_str(t.user),
            Some('n') => out.push_str(t.alias),
            Some('%') => out.push('%'),
            Some(o) => {
                out.push('%');
                out.push(o);
            }
            None => out.push('%'),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The russh handler: host keys, remote forwards, agent forwarding

pub(crate) type ForwardMap = Arc<Mutex<HashMap<u32, SocketAddr>>>;

#[derive(Debug)]
pub(crate) enum HandlerError {
    Russh(russh::Error),
    Rejected(SshError),
}

impl From<russh::Error> for HandlerError {
    fn from(e: russh::Error) -> Self {
        HandlerError::Russh(e)
    }
}

pub(crate) struct ClientHandler {
    host: String,
    /// Names to look up in known_hosts (host name, and the peer IP when different).
    names: Vec<String>,
    /// What to record for an accepted new key: `host,ip` like net-ssh.
    learn_as: String,
    known: KnownHosts,
    user_files: Vec<PathBuf>,
    all_files: Vec<PathBuf>,
    policy: HostKeyPolicy,
    local_tunnel: bool,
    forwards: ForwardMap,
    agent_forward: Option<PathBuf>,
    log: Log,
}

impl client::Handler for ClientHandler {
    type Error = HandlerError;

    async fn check_server_key(&mut self, server_key: &PublicKeyOrCertificate) -> Result<bool, HandlerError> {
        let key = match server_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key,
            PublicKeyOrCertificate::Certificate(_) => {
                return Err(HandlerError::Rejected(SshError::Protocol {
                    host: self.host.clone(),
                    message: "host certificates are not supported".into(),
                }))
            }
        };
        if self.policy == HostKeyPolicy::Never
            || (self.policy == HostKeyPolicy::AcceptNewOrLocalTunnel && self.local_tunnel)
        {
            return Ok(true);
        }
        let fingerprint = format!("{} {}", algorithm_label(&key.algorithm()), key.fingerprint(HashAlg::Sha256));
        match self.known.check(&self.names, key) {
            Verdict::Known => Ok(true),
            Verdict::Changed { known_at } => Err(HandlerError::Rejected(SshError::HostKeyMismatch {
                host: self.host.clone(),
                fingerprint,
                known_at,
            })),
            Verdict::Revoked { known_at } => {
                Err(HandlerError::Rejected(SshError::HostKeyRevoked { host: self.host.clone(), fingerprint, known_at }))
            }
            Verdict::Unknown if self.policy == HostKeyPolicy::Always => {
                Err(HandlerError::Rejected(SshError::HostKeyUnknown {
                    host: self.host.clone(),
                    fingerprint,
                    files: self.all_files.iter().map(|f| f.display().to_string()).collect(),
                }))
            }
            Verdict::Unknown => {
                let mut recorded = None;
                for f in &self.user_files {
                    if known_hosts::append(f, &self.learn_as, key).is_ok() {
                        recorded = Some(f.clone());
                        break;
                    }
                }
                let learn_as = self.learn_as.clone();
                self.log.emit(LogLevel::Warn, &self.host, || match recorded {
                    Some(f) => format!("Permanently added '{learn_as}' ({fingerprint}) to {}", f.display()),
                    None => format!(
                        "Accepted unknown host key {fingerprint} for '{learn_as}' (no writable known_hosts file)"
                    ),
                });
                Ok(true)
            }
        }
    }

    async fn server_channel_open_forwarded_tcpip(
        &mut self,
        channel: Channel<Msg>,
        connected_address: &str,
        connected_port: u32,
        _originator_address: &str,
        _originator_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), HandlerError> {
        let target = {
            let map = self.forwards.lock().unwrap_or_else(|e| e.into_inner());
            map.get(&connected_port).copied()
        };
        let Some(addr) = target else {
            self.log.emit(LogLevel::Warn, &self.host, || {
                format!("Rejected forwarded connection to unknown port {connected_address}:{connected_port}")
            });
            reply.reject(ChannelOpenFailure::AdministrativelyProhibited).await;
            return Ok(());
        };
        reply.accept().await;
        let host = self.host.clone();
        let log = self.log.clone();
        tokio::spawn(async move {
            match TcpStream::connect(addr).await {
                Ok(mut tcp) => {
                    let _ = tcp.set_nodelay(true);
                    let mut stream = channel.into_stream();
                    let _ = tokio::io::copy_bidirectional(&mut tcp, &mut stream).await;
                }
                Err(e) => log.emit(LogLevel::Warn, &host, || format!("Forwarded connection to {addr} failed: {e}")),
            }
        });
        Ok(())
    }

    async fn server_channel_open_agent_forward(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), HandlerError> {
        let Some(sock) = self.agent_forward.clone() else {
            reply.reject(ChannelOpenFailure::AdministrativelyProhibited).await;
            return Ok(());
        };
        reply.accept().await;
        tokio::spawn(async move {
            if let Ok(mut agent) = tokio::net::UnixStream::connect(sock).await {
                let mut stream = channel.into_stream();
                let _ = tokio::io::copy_bidirectional(&mut agent, &mut stream).await;
            }
        });
        Ok(())
    }
}

fn algorithm_label(a: &Algorithm) -> &'static str {
    match a {
        Algorithm::Ed25519 => "ED25519",
        Algorithm::Rsa { .. } => "RSA",
        Algorithm::Ecdsa { .. } => "ECDSA",
        _ => "host",
    }
}

fn same_family(a: &Algorithm, b: &Algorithm) -> bool {
    matches!((a, b), (Algorithm::Rsa { .. }, Algorithm::Rsa { .. })) || a == b
}

// ---------------------------------------------------------------------------------------------
// Connection

/// A live, authenticated connection.
pub(crate) struct Connection {
    pub id: u64,
    pub alias: String,
    pub forward_agent: bool,
    pub handle: Handle<ClientHandler>,
    pub forwards: ForwardMap,
    pub last_used: Mutex<Instant>,
    pub active: AtomicUsize,
    pub dead: AtomicBool,
    /// The jump host connection this one runs through (kept busy while this one lives).
    pub _via: Option<Lease>,
    /// The proxy command (killed on drop).
    pub _proxy: Option<tokio::process::Child>,
    /// A session channel opened ahead of need (see `pool::open_session`): the next command
    /// takes it instead of waiting a round trip for one.
    pub spare: Mutex<Option<SpareChannel>>,
    /// A shell started ahead on a session channel of its own, waiting for a script on its
    /// standard input (see `pool::Pool::exec_script`): the next script takes it instead of
    /// waiting two round trips (a channel, then the shell's start) before it can be sent.
    pub spare_shell: Mutex<Option<SpareChannel>>,
}

/// A session channel being opened in the background.
pub(crate) type SpareChannel = tokio::task::JoinHandle<Result<Channel<Msg>, russh::Error>>;

impl Connection {
    pub(crate) fn is_usable(&self, idle_timeout: Duration) -> bool {
        if self.dead.load(Ordering::SeqCst) || self.handle.is_closed() {
            return false;
        }
        self.active.load(Ordering::SeqCst) > 0 || self.idle_for() < idle_timeout
    }

    pub(crate) fn idle_for(&self) -> Duration {
        self.last_used.lock().unwrap_or_else(|e| e.into_inner()).elapsed()
    }

    pub(crate) fn touch(&self) {
        *self.last_used.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }
}

/// A connection in use: counts as activity, so the idle reaper leaves it alone.
pub(crate) struct Lease {
    pub conn: Arc<Connection>,
}

impl Lease {
    pub(crate) fn new(conn: Arc<Connection>) -> Lease {
        conn.active.fetch_add(1, Ordering::SeqCst);
        conn.touch();
        Lease { conn }
    }
}

impl Clone for Lease {
    fn clone(&self) -> Self {
        Lease::new(self.conn.clone())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.conn.touch();
        self.conn.active.fetch_sub(1, Ordering::SeqCst);
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Everything `establish` needs from the pool.
pub(crate) struct Setup<'a> {
    pub id: u64,
    pub dest: &'a Destination,
    /// Host name for errors (as given to the pool).
    pub host: &'a str,
    pub via: Option<Lease>,
    pub log: Log,
}

/// Transport, handshake and authentication. The caller holds the start permit and applies the
/// connect timeout.
pub(crate) async fn establish(setup: Setup<'_>) -> Result<Connection, SshError> {
    let Setup { id, dest, host, via, log } = setup;
    let t0 = Instant::now();
    let mut proxy_child = None;
    let mut proxy_stderr: Option<(Arc<Mutex<String>>, tokio::task::JoinHandle<()>)> = None;
    let mut peer_ip: Option<IpAddr> = None;

    let stream: Box<dyn Io> = match (&dest.route, &via) {
        (Route::Jump(hops), Some(via)) => {
            let jump = hops.last().cloned().unwrap_or_default();
            log.emit(LogLevel::Debug, host, || {
                format!("Connecting to {}@{}:{} via {jump}", dest.user, dest.hostname, dest.port)
            });
            let ch = via
                .conn
                .handle
                .channel_open_direct_tcpip(dest.hostname.clone(), dest.port as u32, "127.0.0.1", 0)
                .await
                .map_err(|e| SshError::Jump { host: host.to_string(), jump: jump.clone(), message: e.to_string() })?;
            Box::new(ch.into_stream())
        }
        (Route::Command(cmd), _) => {
            log.emit(LogLevel::Debug, host, || format!("Connecting to {} via proxy command `{cmd}`", dest.hostname));
            let mut child = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(cmd)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| SshError::ProxyCommand {
                    host: host.to_string(),
                    command: cmd.clone(),
                    message: e.to_string(),
                })?;
            let (Some(stdin), Some(stdout), Some(stderr)) =
                (child.stdin.take(), child.stdout.take(), child.stderr.take())
            else {
                return Err(SshError::ProxyCommand {
                    host: host.to_string(),
                    command: cmd.clone(),
                    message: "no stdio".into(),
                });
            };
            let buf = Arc::new(Mutex::new(String::new()));
            let sink = buf.clone();
            let reader = tokio::spawn(async move {
                use tokio::io::AsyncBufReadExt;
                let mut lines = tokio::io::BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut b = sink.lock().unwrap_or_else(|e| e.into_inner());
                    if b.len() < 4096 {
                        if !b.is_empty() {
                            b.push('\n');
                        }
                        b.push_str(&line);
                    }
                }
            });
            proxy_stderr = Some((buf, reader));
            proxy_child = Some(child);
            Box::new(tokio::io::join(stdout, stdin))
        }
        (Route::Jump(hops), None) => {
            return Err(SshError::Jump {
                host: host.to_string(),
                jump: hops.join(","),
                message: "no connection to the jump host".into(),
            })
        }
        (Route::Direct, _) => {
            log.emit(LogLevel::Debug, host, || format!("Connecting to {}@{}:{}", dest.user, dest.hostname, dest.port));
            let (tcp, ip) = tcp_connect(host, dest, &log).await?;
            peer_ip = Some(ip);
            Box::new(tcp)
        }
    };

    // Host key verification inputs.
    let mut names = vec![known_hosts::host_name_for(&dest.hostname, dest.port)];
    let mut learn_as = names[0].clone();
    if let Some(ip) = peer_ip {
        let ip_name = known_hosts::host_name_for(&ip.to_string(), dest.port);
        if ip_name != names[0] {
            learn_as = format!("{learn_as},{ip_name}");
            names.push(ip_name);
        }
    }
    let mut all_files = dest.user_known_hosts.clone();
    all_files.extend(dest.global_known_hosts.iter().cloned());
    let known = KnownHosts::load(&all_files);
    let mut preferred = Preferred::DEFAULT.clone();
    let known_algs = known.known_algorithms(&names);
    if !known_algs.is_empty() {
        let (mut first, rest): (Vec<Algorithm>, Vec<Algorithm>) =
            preferred.key.iter().cloned().partition(|a| known_algs.iter().any(|k| same_family(a, k)));
        first.extend(rest);
        preferred.key = Cow::Owned(first);
    }
    let forwards: ForwardMap = Arc::new(Mutex::new(HashMap::new()));
    let handler = ClientHandler {
        host: host.to_string(),
        names,
        learn_as,
        known,
        user_files: dest.user_known_hosts.clone(),
        all_files,
        policy: dest.policy,
        local_tunnel: dest.port != 22 && peer_ip.is_some_and(|ip| ip.is_loopback()),
        forwards: forwards.clone(),
        agent_forward: if dest.forward_agent { dest.agent.clone() } else { None },
        log: log.clone(),
    };
    let config = client::Config {
        client_id: SshId::Standard(Cow::Borrowed(concat!("SSH-2.0-Wharf_", env!("CARGO_PKG_VERSION")))),
        keepalive_interval: dest.keepalive_interval,
        keepalive_max: dest.keepalive_max,
        nodelay: true,
        preferred,
        ..Default::default()
    };
    let mut handle = match client::connect_stream(Arc::new(config), stream, handler).await {
        Ok(h) => h,
        Err(HandlerError::Rejected(e)) => return Err(e),
        Err(HandlerError::Russh(e)) => {
            let mut message = match e {
                russh::Error::Disconnect | russh::Error::IO(_) => {
                    format!("connection closed during SSH handshake ({e})")
                }
                e => e.to_string(),
            };
            if let (Route::Command(cmd), Some((buf, reader))) = (&dest.route, proxy_stderr) {
                // Give the command a moment to exit and its stderr to be read: it says why.
                if let Some(child) = proxy_child.as_mut() {
                    let _ = tokio::time::timeout(Duration::from_millis(500), child.wait()).await;
                }
                let _ = tokio::time::timeout(Duration::from_millis(200), reader).await;
                let stderr = buf.lock().unwrap_or_else(|e| e.into_inner()).clone();
                if !stderr.is_empty() {
                    message = format!("{message}: {stderr}");
                }
                return Err(SshError::ProxyCommand { host: host.to_string(), command: cmd.clone(), message });
            }
            return Err(SshError::Protocol { host: host.to_string(), message });
        }
    };
    let t_kex = t0.elapsed();
    let method = authenticate(&mut handle, dest, host).await?;
    log.emit(LogLevel::Debug, host, || {
        format!(
            "Connected as {} (handshake {:.1} ms, authentication {:.1} ms, with {method})",
            dest.user,
            t_kex.as_secs_f64() * 1000.0,
            (t0.elapsed() - t_kex).as_secs_f64() * 1000.0
        )
    });
    Ok(Connection {
        id,
        alias: host.to_string(),
        forward_agent: dest.forward_agent,
        handle,
        forwards,
        last_used: Mutex::new(Instant::now()),
        active: AtomicUsize::new(0),
        dead: AtomicBool::new(false),
        _via: via,
        _proxy: proxy_child,
        spare: Mutex::new(None),
        spare_shell: Mutex::new(None),
    })
}

async fn tcp_connect(host: &str, dest: &Destination, log: &Log) -> Result<(TcpStream, IpAddr), SshError> {
    let addrs = resolve_dns(host, &dest.hostname, dest.port, dest.dns_retries, log).await?;
    let mut last: Option<std::io::Error> = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok((s, addr.ip()));
            }
            Err(e) => last = Some(e),
        }
    }
    let e = last.unwrap_or_else(|| std::io::Error::other("no addresses"));
    Err(match e.kind() {
        std::io::ErrorKind::ConnectionRefused => {
            SshError::ConnectionRefused { host: host.to_string(), port: dest.port }
        }
        _ => SshError::Connect { host: host.to_string(), port: dest.port, message: e.to_string() },
    })
}

/// Lookup with SSHKit's DNS retry: `retries` more attempts, sleeping 0.1 s doubling up to 2 s,
/// plus up to 0.1 s jitter.
async fn resolve_dns(host: &str, name: &str, port: u16, retries: u32, log: &Log) -> Result<Vec<SocketAddr>, SshError> {
    let mut attempt = 0u32;
    loop {
        let err = match tokio::net::lookup_host((name, port)).await {
            Ok(addrs) => {
                let v: Vec<SocketAddr> = addrs.collect();
                if !v.is_empty() {
                    return Ok(v);
                }
                "no addresses".to_string()
            }
            Err(e) => e.to_string(),
        };
        if attempt >= retries {
            return Err(SshError::Dns { host: host.to_string(), message: err });
        }
        attempt += 1;
        let delay = dns_retry_delay(attempt);
        log.emit(LogLevel::Warn, host, || {
            format!("Retrying DNS for {name} (attempt {attempt}/{retries}) in {:.2}s: {err}", delay.as_secs_f64())
        });
        tokio::time::sleep(delay).await;
    }
}

pub(crate) fn dns_retry_delay(attempt: u32) -> Duration {
    let base = (0.1f64 * 2f64.powi(attempt.saturating_sub(1).min(16) as i32)).min(2.0);
    Duration::from_secs_f64(base + fastrand::f64() * 0.1)
}

// ---------------------------------------------------------------------------------------------
// Authentication

struct Candidate {
    display: String,
    key: Option<Arc<PrivateKey>>,
    public: Option<PublicKey>,
    problem: Option<String>,
}

fn load_candidates(dest: &Destination) -> Vec<Candidate> {
    let mut out = Vec::new();
    for id in &dest.identities {
        let text = match std::fs::read_to_string(&id.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if id.explicit {
                    out.push(Candidate {
                        display: id.display.clone(),
                        key: None,
                        public: None,
                        problem: Some("not found".into()),
                    });
                }
                continue;
            }
            Err(e) => {
                out.push(Candidate {
                    display: id.display.clone(),
                    key: None,
                    public: None,
                    problem: Some(e.to_string()),
                });
                continue;
            }
        };
        out.push(decode(id.display.clone(), &text, Some(&id.path)));
    }
    for (i, data) in dest.key_data.iter().enumerate() {
        out.push(decode(format!("key_data[{i}]"), data, None));
    }
    out
}

fn decode(display: String, text: &str, path: Option<&PathBuf>) -> Candidate {
    match russh::keys::decode_secret_key(text, None) {
        Ok(k) => Candidate { display, public: Some(k.public_key().clone()), key: Some(Arc::new(k)), problem: None },
        Err(russh::keys::Error::KeyIsEncrypted) => {
            let public = path.and_then(|p| {
                let mut pub_path = p.clone().into_os_string();
                pub_path.push(".pub");
                russh::keys::load_public_key(PathBuf::from(pub_path)).ok()
            });
            Candidate { display, key: None, public, problem: Some("encrypted; add it to ssh-agent".into()) }
        }
        Err(e) => Candidate { display, key: None, public: None, problem: Some(format!("unreadable: {e}")) },
    }
}

/// Agent identities (unless `keys_only`, then only those matching configured keys), then key
/// files and key_data. Returns what succeeded, for the log.
async fn authenticate(handle: &mut Handle<ClientHandler>, dest: &Destination, host: &str) -> Result<String, SshError> {
    let user = dest.user.clone();
    let mut tried: Vec<String> = Vec::new();
    let candidates = load_candidates(dest);
    let fail = |tried: Vec<String>| SshError::Auth { user: user.clone(), host: host.to_string(), tried };
    let mut rsa_hash: Option<Option<HashAlg>> = None;
    let mut offered: Vec<PublicKey> = Vec::new();

    if let Some(sock) = &dest.agent {
        match AgentClient::connect_uds(sock).await {
            Ok(mut agent) => match agent.request_identities().await {
                Ok(ids) => {
                    let ids: Vec<PublicKey> = ids
                        .iter()
                        .map(|i| i.public_key().into_owned())
                        .filter(|k| {
                            !dest.keys_only
                                || candidates
                                    .iter()
                                    .any(|c| c.public.as_ref().is_some_and(|p| p.key_data() == k.key_data()))
                        })
                        .collect();
                    if ids.is_empty() {
                        if !dest.keys_only {
                            tried.push("agent (no identities)".into());
                        }
                    } else {
                        tried.push("agent".into());
                    }
                    for key in ids {
                        let hash = if key.algorithm().is_rsa() { best_rsa(handle, &mut rsa_hash).await } else { None };
                        offered.push(key.clone());
                        match handle.authenticate_publickey_with(user.clone(), key, hash, &mut agent).await {
                            Ok(r) if r.success() => return Ok("agent".into()),
                            Ok(_) => {}
                            Err(russh::AgentAuthError::Send(_)) => {
                                tried.push("(disconnected by server)".into());
                                return Err(fail(tried));
                            }
                            Err(_) => {} // the agent declined to sign: try the next identity
                        }
                        if handle.is_closed() {
                            tried.push("(disconnected by server)".into());
                            return Err(fail(tried));
                        }
                    }
                }
                Err(e) => tried.push(format!("agent (error: {e})")),
            },
            Err(e) => {
                if dest.keys_only {
                    // only a helper for encrypted configured keys; say nothing
                } else {
                    tried.push(format!("agent (unavailable: {e})"));
                }
            }
        }
    }

    for c in candidates {
        let Some(key) = c.key else {
            // An encrypted key the agent already offered is not a problem worth reporting.
            if !c.public.as_ref().is_some_and(|p| offered.iter().any(|o| o.key_data() == p.key_data())) {
                tried.push(format!("{} ({})", c.display, c.problem.unwrap_or_default()));
            }
            continue;
        };
        if offered.iter().any(|o| o.key_data() == key.public_key().key_data()) {
            continue;
        }
        tried.push(c.display.clone());
        let hash = if key.algorithm().is_rsa() { best_rsa(handle, &mut rsa_hash).await } else { None };
        offered.push(key.public_key().clone());
        match handle.authenticate_publickey(user.clone(), PrivateKeyWithHashAlg::new(key, hash)).await {
            Ok(r) if r.success() => return Ok(c.display),
            Ok(_) => {}
            Err(_) => {
                tried.push("(disconnected by server)".into());
                return Err(fail(tried));
            }
        }
        if handle.is_closed() {
            tried.push("(disconnected by server)".into());
            return Err(fail(tried));
        }
    }
    Err(fail(tried))
}

/// rsa-sha2-512/256 if the server announces them (server-sig-algs), else ssh-rsa.
async fn best_rsa(handle: &Handle<ClientHandler>, cache: &mut Option<Option<HashAlg>>) -> Option<HashAlg> {
    if let Some(h) = cache {
        return *h;
    }
    let h = match handle.best_supported_rsa_hash().await {
        Ok(Some(h)) => h,
        Ok(None) => Some(HashAlg::Sha256),
        Err(_) => Some(HashAlg::Sha256),
    };
    *cache = Some(h);
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_strings() {
        assert_eq!(parse_host("h").unwrap(), (None, "h".into(), None));
        assert_eq!(parse_host("app@h:2222").unwrap(), (Some("app".into()), "h".into(), Some(2222)));
        assert_eq!(parse_host("[::1]:22").unwrap(), (None, "::1".into(), Some(22)));
        assert_eq!(parse_host("fe80::1").unwrap(), (None, "fe80::1".into(), None));
        assert!(parse_host("h:x").is_err());
        assert!(parse_host("@h").is_err());
        assert!(parse_host("").is_err());
    }

    #[test]
    fn dns_backoff() {
        for (attempt, base) in [(1, 0.1), (2, 0.2), (3, 0.4), (5, 1.6), (6, 2.0), (30, 2.0)] {
            let d = dns_retry_delay(attempt).as_secs_f64();
            assert!(d >= base && d <= base + 0.1 + 1e-9, "attempt {attempt}: {d}");
        }
    }

    #[test]
    fn resolution_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SshConfig::parse(
            "Host web\n HostName 10.0.0.5\n User deploy\n Port 2200\n IdentityFile ~/.ssh/%h_%r\n ProxyJump bastion\n\
             Host bastion\n User jumper\n Port 2022\n ProxyCommand none\n",
            dir.path(),
        );
        let opts = SshOptions::default();
        let d = resolve(&opts, &cfg, &Target::parse("web").unwrap());
        assert_eq!((d.hostname.as_str(), d.user.as_str(), d.port), ("10.0.0.5", "deploy", 2200));
        assert!(d.identities[0].path.ends_with(".ssh/10.0.0.5_deploy"));
        assert_eq!(d.route, Route::Jump(vec!["bastion".into()]));

        let opts = SshOptions {
            user: Some("root".into()),
            port: Some(22),
            proxy: Some("gw".into()),
            keys: Some(vec!["/k".into()]),
            ..Default::default()
        };
        let d = resolve(&opts, &cfg, &Target::parse("ops@web").unwrap());
        assert_eq!((d.user.as_str(), d.port), ("ops", 22));
        assert_eq!(d.route, Route::Jump(vec!["root@gw".into()]));
        assert_eq!(d.identities.len(), 1);

        // A jump host takes its own config, not the target's user/port/proxy.
        let j = resolve(&opts, &cfg, &Target::jump(&["bastion".into()]).unwrap());
        assert_eq!((j.user.as_str(), j.port, j.route.clone()), ("jumper", 2022, Route::Direct));
        let j2 = resolve(&opts, &cfg, &Target::jump(&["a".into(), "x@b:1".into()]).unwrap());
        assert_eq!((j2.user.as_str(), j2.port, j2.route), ("x", 1, Route::Jump(vec!["a".into()])));

        let pc = SshOptions { proxy_command: Some("ssh -W %h:%p gw %%".into()), ..Default::default() };
        let d = resolve(&pc, &SshConfig::default(), &Target::parse("h:2").unwrap());
        assert_eq!(d.route, Route::Command("ssh -W h:2 gw %".into()));
        assert_eq!(d.policy, HostKeyPolicy::AcceptNewOrLocalTunnel);
    }
}
