//! The public methods of `Kamal::Commands::Base` that every command class shares:
//! `run_over_ssh`, `container_id_for`, the directory helpers and `ensure_docker_installed`.

use crate::cmd::{and, dirname, docker, single_quote, Cmd};
use crate::{cmd, parts};
use serde_yaml::Value;
use wharf_config::ruby::to_s;
use wharf_config::{Configuration, SshProxy};

/// `DOCKER_HEALTH_STATUS_FORMAT`.
pub const DOCKER_HEALTH_STATUS_FORMAT: &str =
    "'{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}'";

/// How an interactive `docker exec`/`docker run` gets its input (Kamal asks `STDIN.isatty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interactive {
    /// Not interactive: no flag.
    #[default]
    No,
    /// Interactive with a terminal: `-it`.
    Tty,
    /// Interactive with piped input: `-i`.
    Piped,
}

impl Interactive {
    /// `interactive: true` with stdin a terminal or not.
    pub fn from_tty(stdin_is_tty: bool) -> Interactive {
        if stdin_is_tty {
            Interactive::Tty
        } else {
            Interactive::Piped
        }
    }

    /// `docker_interactive_args if interactive`.
    pub fn arg(self) -> Option<&'static str> {
        match self {
            Interactive::No => None,
            Interactive::Tty => Some("-it"),
            Interactive::Piped => Some("-i"),
        }
    }
}

/// `run_over_ssh(*command, host:)`: the local `ssh` command line that runs `command` on `host`
/// with a terminal (`ssh [-F ...] [-J ...|-o ProxyCommand=...] [-i ...] [-o IdentitiesOnly=yes]
/// -t user@host -p port '<command>'`).
pub fn run_over_ssh(config: &Configuration, command: &str, host: &str) -> String {
    let ssh = config.ssh();
    format!(
        "ssh{}{}{} -t {}@{} -p {} {}",
        ssh_config_args(config),
        ssh_proxy_args(config),
        ssh_keys_args(config),
        ssh.user(),
        host,
        to_s(&ssh.port_value()),
        single_quote(command)
    )
}

fn ssh_config_args(config: &Configuration) -> String {
    match config.ssh().config() {
        None | Some(Value::Bool(true)) => String::new(),
        Some(Value::Bool(false)) => " -F /dev/null".into(),
        Some(Value::Sequence(files)) => files.iter().map(|f| format!(" -F {}", to_s(f))).collect(),
        Some(Value::String(file)) => format!(" -F {file}"),
        Some(_) => String::new(),
    }
}

fn ssh_proxy_args(config: &Configuration) -> String {
    match config.ssh().proxy() {
        Some(SshProxy::Jump(j)) => format!(" -J {j}"),
        Some(SshProxy::Command(c)) => format!(" -o ProxyCommand='{c}'"),
        None => String::new(),
    }
}

fn ssh_keys_args(config: &Configuration) -> String {
    let ssh = config.ssh();
    let mut out: String = ssh.keys().unwrap_or_default().iter().map(|k| format!(" -i {k}")).collect();
    if ssh.keys_only() == Some(true) {
        out.push_str(" -o IdentitiesOnly=yes");
    }
    out
}

/// `container_id_for(container_name:, only_running:)`:
/// `docker container ls [--all] --filter 'name=^<name>$' --quiet`.
pub fn container_id_for(container_name: &str, only_running: bool) -> Cmd {
    docker(cmd![
        "container",
        "ls",
        (!only_running).then_some("--all"),
        "--filter",
        format!("'name=^{container_name}$'"),
        "--quiet"
    ])
}

/// `make_directory_for(remote_file)`: `mkdir -p <dirname>`.
pub fn make_directory_for(remote_file: &str) -> Cmd {
    make_directory(&dirname(remote_file))
}

/// `make_directory(path)`: `mkdir -p <path>`.
pub fn make_directory(path: &str) -> Cmd {
    cmd!["mkdir", "-p", path]
}

/// `remove_directory(path)`: `rm -r <path>`.
pub fn remove_directory(path: &str) -> Cmd {
    cmd!["rm", "-r", path]
}

/// `remove_file(path)`: `rm <path>`.
pub fn remove_file(path: &str) -> Cmd {
    cmd!["rm", path]
}

/// `ensure_docker_installed` (run locally): `docker --version && docker buildx version`.
pub fn ensure_docker_installed() -> Cmd {
    and(parts![ensure_local_docker_installed(), ensure_local_buildx_installed()])
}

/// `docker --version`.
pub fn ensure_local_docker_installed() -> Cmd {
    docker(cmd!["--version"])
}

/// `docker buildx version`.
pub fn ensure_local_buildx_installed() -> Cmd {
    docker(cmd!["buildx", "version"])
}
