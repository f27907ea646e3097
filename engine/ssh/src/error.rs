//! Errors. Every variant names the host it is about, so a fan-out over many hosts can report
//! each failure on its own line.

use std::fmt;
use std::time::Duration;

/// An SSH failure on one host.
///
/// `Clone` so that every command waiting on the same connection attempt gets the same error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SshError {
    /// The host string could not be parsed (`[user@]host[:port]`).
    #[error("Invalid host {host:?}: {message}")]
    InvalidHost { host: String, message: String },

    /// Name resolution failed (after `dns_retries` retries).
    #[error("Could not resolve host {host}: {message}")]
    Dns { host: String, message: String },

    /// Nothing listens on the port.
    #[error("Connection refused by {host}:{port}")]
    ConnectionRefused { host: String, port: u16 },

    /// TCP connect plus SSH handshake and authentication did not finish within the connect timeout.
    #[error("Timed out after {} connecting to {host}:{port}", secs(*after))]
    ConnectTimeout { host: String, port: u16, after: Duration },

    /// Any other TCP-level failure (unreachable network, reset, ...).
    #[error("Could not connect to {host}:{port}: {message}")]
    Connect { host: String, port: u16, message: String },

    /// `proxy_command` failed to start or the SSH handshake over it failed.
    #[error("Proxy command `{command}` for {host} failed: {message}")]
    ProxyCommand { host: String, command: String, message: String },

    /// The jump host refused to open a channel to the target (or could not be reached).
    #[error("Could not reach {host} through jump host {jump}: {message}")]
    Jump { host: String, jump: String, message: String },

    /// No identity was accepted. `tried` lists what was offered, in order
    /// (`agent`, key paths, `key_data[0]`, ...), with a reason in parentheses for keys that
    /// could not be used.
    #[error("Authentication failed for {user}@{host} (tried: {})", tried_list(tried))]
    Auth { user: String, host: String, tried: Vec<String> },

    /// The host presented a key different from the one recorded in known_hosts.
    #[error(
        "Host key verification failed for {host}: its {fingerprint} key does not match the key recorded in {known_at}. \
         Someone could be eavesdropping (man-in-the-middle), or the host key has just been changed; \
         if the change is expected, remove the old entry with `ssh-keygen -R {host}`"
    )]
    HostKeyMismatch { host: String, fingerprint: String, known_at: String },

    /// `StrictHostKeyChecking yes` (or `verify_host_key: always`) and the host is not in known_hosts.
    #[error("Host key verification failed for {host}: no key is known for it in {} and host key checking is strict (it offered {fingerprint})", files.join(", "))]
    HostKeyUnknown { host: String, fingerprint: String, files: Vec<String> },

    /// The host's key is marked `@revoked` in known_hosts.
    #[error("Host key verification failed for {host}: its {fingerprint} key is marked @revoked in {known_at}")]
    HostKeyRevoked { host: String, fingerprint: String, known_at: String },

    /// SSH protocol failure or the connection dropped.
    #[error("SSH error with {host}: {message}")]
    Protocol { host: String, message: String },

    /// The command did not finish within its timeout. `command` is redacted.
    #[error("Command timed out on {host} after {}: {command}", secs(*after))]
    CommandTimeout { host: String, command: String, after: Duration },

    /// The command exited non-zero (only from the `*_checked`/`capture` helpers). `command` is redacted.
    #[error("Command failed on {host} with exit status {exit_status}: {command}{}", stderr_suffix(stderr))]
    CommandFailed { host: String, command: String, exit_status: u32, stderr: String },

    /// The server refused a remote port forward (port in use, forwarding disabled, ...).
    #[error("Remote port forwarding {bind}:{port} on {host} was refused")]
    ForwardRefused { host: String, bind: String, port: u16 },
}

impl SshError {
    /// The host the error is about (as given to the pool).
    pub fn host(&self) -> &str {
        match self {
            SshError::InvalidHost { host, .. }
            | SshError::Dns { host, .. }
            | SshError::ConnectionRefused { host, .. }
            | SshError::ConnectTimeout { host, .. }
            | SshError::Connect { host, .. }
            | SshError::ProxyCommand { host, .. }
            | SshError::Jump { host, .. }
            | SshError::Auth { host, .. }
            | SshError::HostKeyMismatch { host, .. }
            | SshError::HostKeyUnknown { host, .. }
            | SshError::HostKeyRevoked { host, .. }
            | SshError::Protocol { host, .. }
            | SshError::CommandTimeout { host, .. }
            | SshError::CommandFailed { host, .. }
            | SshError::ForwardRefused { host, .. } => host,
        }
    }

    /// True for failures to set up the connection (as opposed to a command failing on it).
    pub fn is_connection_error(&self) -> bool {
        !matches!(
            self,
            SshError::CommandTimeout { .. } | SshError::CommandFailed { .. } | SshError::ForwardRefused { .. }
        )
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}s", s as u64)
    } else {
        format!("{s:.1}s")
    }
}

fn tried_list(tried: &[String]) -> String {
    if tried.is_empty() {
        "no identities".to_string()
    } else {
        tried.join(", ")
    }
}

fn stderr_suffix(stderr: &str) -> String {
    let t = stderr.trim_end();
    if t.is_empty() {
        String::new()
    } else {
        format!("\n{t}")
    }
}

/// Failures of a [`fan_out`](crate::fan_out): every failed host with its error, in host order.
#[derive(Debug)]
pub struct FanOutError<E> {
    pub failures: Vec<(String, E)>,
}

impl<E> FanOutError<E> {
    /// The hosts that failed, in order.
    pub fn hosts(&self) -> Vec<&str> {
        self.failures.iter().map(|(h, _)| h.as_str()).collect()
    }
}

impl<E: fmt::Display> fmt::Display for FanOutError<E> {
    /// Kamal's wording: `Exception while executing on host H: msg`, or for several hosts
    /// `Exceptions on N hosts:` followed by one such line per host.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.failures.len() > 1 {
            writeln!(f, "Exceptions on {} hosts:", self.failures.len())?;
        }
        for (i, (host, e)) in self.failures.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "Exception while executing on host {host}: {e}")?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for FanOutError<E> {}
