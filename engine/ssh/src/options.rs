//! What Kamal's `ssh:` and `sshkit:` sections configure.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// Connection options: Kamal's `ssh:` section plus `sshkit:` and a few knobs net-ssh has.
///
/// `None` means "not given in deploy.yml": the value then comes from ssh_config, else the
/// default. Given values override ssh_config, as in net-ssh (`configuration_for(host).merge(options)`).
///
/// Note: Kamal always passes `user` (default `root`) and `port` (default 22) to net-ssh, so with
/// Kamal an ssh_config `User`/`Port` never applies. Pass `Some("root")`/`Some(22)` to reproduce
/// that exactly; leave them `None` to let ssh_config decide (falling back to root/22).
#[derive(Clone, Debug)]
pub struct SshOptions {
    /// `ssh/user`. A `user@` in the host string wins over it.
    pub user: Option<String>,
    /// `ssh/port`. A `:port` in the host string wins over it.
    pub port: Option<u16>,
    /// `ssh/proxy`: jump host `[user@]host[:port]` (user defaults to `root`, as in Kamal).
    /// Several hops may be given comma-separated, as in OpenSSH's ProxyJump.
    pub proxy: Option<String>,
    /// `ssh/proxy_command`: run with `sh -c`, stdio is the transport. `%h` `%p` `%r` `%n` `%%`
    /// are substituted. Ignored when `proxy` is set.
    pub proxy_command: Option<String>,
    /// `ssh/keys`: private key files (`~` expanded). Replaces ssh_config IdentityFile and the
    /// default identities (`~/.ssh/id_rsa`, `id_ecdsa`, `id_ed25519`).
    pub keys: Option<Vec<PathBuf>>,
    /// `ssh/key_data`: private keys as strings (already resolved from secrets).
    pub key_data: Vec<String>,
    /// `ssh/keys_only`: offer only `keys`/`key_data`; the agent is used only to sign for those keys.
    pub keys_only: Option<bool>,
    /// `ssh/config`.
    pub config: SshConfigFiles,
    /// `ssh/log_level` (default `fatal`): threshold for the pool's default stderr logger.
    pub log_level: LogLevel,
    /// `ssh/forward_agent`: request agent forwarding on every command's channel.
    pub forward_agent: Option<bool>,
    /// Agent socket: a path, `SSH_AUTH_SOCK` / `$VAR`, or `none`. Default: ssh_config
    /// IdentityAgent, else `$SSH_AUTH_SOCK`.
    pub identity_agent: Option<String>,
    /// Host key checking. Default: ssh_config StrictHostKeyChecking, else net-ssh's default
    /// [`HostKeyPolicy::AcceptNewOrLocalTunnel`].
    pub verify_host_key: Option<HostKeyPolicy>,
    /// Default: ssh_config UserKnownHostsFile, else `~/.ssh/known_hosts`, `~/.ssh/known_hosts2`.
    /// New keys are recorded in the first one.
    pub user_known_hosts_files: Option<Vec<PathBuf>>,
    /// Default: ssh_config GlobalKnownHostsFile, else `/etc/ssh/ssh_known_hosts{,2}`.
    pub global_known_hosts_files: Option<Vec<PathBuf>>,
    /// Bound on TCP connect + SSH handshake + authentication. Default: ssh_config
    /// ConnectTimeout, else [`DEFAULT_CONNECT_TIMEOUT`].
    pub connect_timeout: Option<Duration>,
    /// Keepalive interval (Kamal: 30 s). `None` disables keepalives.
    pub keepalive_interval: Option<Duration>,
    /// Unanswered keepalives before the connection is considered dead (net-ssh: 3).
    pub keepalive_max: usize,
    /// Default per-command timeout (none by default; per-call [`ExecOptions::timeout`](crate::ExecOptions) wins).
    pub command_timeout: Option<Duration>,
    /// `sshkit/max_concurrent_starts`: semaphore around connection setup only.
    pub max_concurrent_starts: usize,
    /// `sshkit/pool_idle_timeout`: a connection unused this long is closed.
    pub pool_idle_timeout: Duration,
    /// `sshkit/dns_retries`: retries after the first failed lookup (backoff 0.1 s doubling,
    /// capped at 2 s, plus up to 0.1 s jitter).
    pub dns_retries: u32,
}

/// Connect timeout used when neither the options nor ssh_config set one.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for SshOptions {
    fn default() -> Self {
        SshOptions {
            user: None,
            port: None,
            proxy: None,
            proxy_command: None,
            keys: None,
            key_data: Vec::new(),
            keys_only: None,
            config: SshConfigFiles::Default,
            log_level: LogLevel::Fatal,
            forward_agent: None,
            identity_agent: None,
            verify_host_key: None,
            user_known_hosts_files: None,
            global_known_hosts_files: None,
            connect_timeout: None,
            keepalive_interval: Some(Duration::from_secs(30)),
            keepalive_max: 3,
            command_timeout: None,
            max_concurrent_starts: 30,
            pool_idle_timeout: Duration::from_secs(900),
            dns_retries: 3,
        }
    }
}

/// `ssh/config`: `true` (default) reads `~/.ssh/config` and `/etc/ssh/ssh_config`, `false`
/// reads nothing, a path or list of paths reads those.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SshConfigFiles {
    #[default]
    Default,
    Disabled,
    Files(Vec<PathBuf>),
}

impl From<bool> for SshConfigFiles {
    fn from(b: bool) -> Self {
        if b {
            SshConfigFiles::Default
        } else {
            SshConfigFiles::Disabled
        }
    }
}

impl From<Vec<PathBuf>> for SshConfigFiles {
    fn from(v: Vec<PathBuf>) -> Self {
        SshConfigFiles::Files(v)
    }
}

/// How unknown and changed host keys are handled (net-ssh's `verify_host_key`).
///
/// A key that differs from a recorded one is refused by every policy but `Never`.
/// ssh_config `StrictHostKeyChecking yes` maps to `Always`, `accept-new` and `no` to `AcceptNew`
/// (net-ssh maps `no` to `Never`; Wharf never silently accepts a changed key from a config file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HostKeyPolicy {
    /// Accept any key, record nothing.
    Never,
    /// net-ssh's default: like `AcceptNew`, but skip checking for loopback peers on a port other
    /// than 22 (a local tunnel).
    #[default]
    AcceptNewOrLocalTunnel,
    /// Record unknown keys in the first user known_hosts file; refuse changed keys.
    AcceptNew,
    /// Refuse unknown and changed keys.
    Always,
}

impl FromStr for HostKeyPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim_start_matches(':') {
            "never" | "false" => Ok(HostKeyPolicy::Never),
            "accept_new_or_local_tunnel" | "true" => Ok(HostKeyPolicy::AcceptNewOrLocalTunnel),
            "accept_new" | "accept-new" => Ok(HostKeyPolicy::AcceptNew),
            "always" => Ok(HostKeyPolicy::Always),
            other => Err(format!("unknown verify_host_key {other:?}")),
        }
    }
}

/// `ssh/log_level`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
    #[default]
    Fatal,
}

impl FromStr for LogLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim_start_matches(':').to_ascii_lowercase().as_str() {
            "debug" => Ok(LogLevel::Debug),
            "info" => Ok(LogLevel::Info),
            "warn" | "warning" => Ok(LogLevel::Warn),
            "error" => Ok(LogLevel::Error),
            "fatal" => Ok(LogLevel::Fatal),
            other => Err(format!("unknown log level {other:?}")),
        }
    }
}

impl std::fmt::Display for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
            LogLevel::Fatal => "FATAL",
        })
    }
}
