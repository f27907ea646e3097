//! SSH for Wharf: what Kamal gets from SSHKit and net-ssh, on russh.
//!
//! * [`SshOptions`]: Kamal's `ssh:` and `sshkit:` settings, merged with ssh_config
//!   ([`SshConfig`]) as net-ssh does (deploy.yml wins).
//! * [`Pool`]: one connection per host, reused by every command; setup bounded by
//!   `max_concurrent_starts`; closed after `pool_idle_timeout`. Commands: [`Pool::exec`],
//!   [`Pool::exec_streaming`], [`Pool::exec_with_stdin`], [`Pool::exec_with`],
//!   [`Pool::exec_checked`], [`Pool::capture`], [`Pool::upload`], [`Pool::forward_remote_port`].
//! * [`fan_out`]: a closure on many hosts in parallel, every failure reported.
//! * [`Redactor`]: secrets masked in command echo, errors and streamed output.
//!
//! Host keys are checked against known_hosts like net-ssh's default (`accept_new_or_local_tunnel`):
//! unknown keys are recorded, changed keys refused ([`SshError::HostKeyMismatch`]).
//! Authentication tries the agent (unless `keys_only`), then key files, then `key_data`.

mod connection;
mod error;
mod fanout;
mod known_hosts;
mod options;
mod pool;
mod redact;
mod ssh_config;

pub use connection::{LogEvent, Logger};
pub use error::{FanOutError, SshError};
pub use fanout::fan_out;
pub use options::{HostKeyPolicy, LogLevel, SshConfigFiles, SshOptions, DEFAULT_CONNECT_TIMEOUT};
pub use pool::{shell_quote, upload_command, ExecOptions, Line, Output, Pool, PoolStats, RemoteForward, Stream};
pub use redact::Redactor;
pub use ssh_config::{ConfigProxy, HostConfig, SshConfig};
