//! `Kamal::Commands::Docker`: installing and checking Docker on the hosts.

use crate::cmd::{any, docker, pipe, shell, Cmd};
use crate::{cmd, parts};

/// The distribution's Docker package, installed and started (see
/// [`Docker::install_from_packages`]). One line for the remote shell, double quotes only.
const INSTALL_FROM_PACKAGES: &str = concat!(
    "s=; [ \"${EUID:-$(id -u)}\" -eq 0 ] || s=\"sudo -n\"; ",
    "if command -v apt-get >/dev/null 2>&1; then $s apt-get update -q && $s env DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io; ",
    "elif command -v dnf >/dev/null 2>&1; then $s dnf install -y docker || $s dnf install -y moby-engine; ",
    "elif command -v yum >/dev/null 2>&1; then $s yum install -y docker; ",
    "elif command -v zypper >/dev/null 2>&1; then $s zypper --non-interactive install docker; ",
    "elif command -v apk >/dev/null 2>&1; then $s apk add docker; ",
    "elif command -v pacman >/dev/null 2>&1; then $s pacman -Sy --noconfirm docker; ",
    "else echo \"no package manager Wharf knows (apt-get, dnf, yum, zypper, apk, pacman)\" >&2; false; fi ",
    "&& if command -v systemctl >/dev/null 2>&1; then $s systemctl enable --now docker; ",
    "elif command -v rc-service >/dev/null 2>&1; then $s rc-update add docker default && $s rc-service docker start; ",
    "else $s service docker start; fi"
);

/// The docker commands (they need no configuration).
#[derive(Debug, Clone, Copy, Default)]
pub struct Docker;

impl Docker {
    /// `Kamal::Commands::Docker.new(config)`.
    pub fn new() -> Docker {
        Docker
    }

    /// `install`: the get.docker.com convenience script, piped to `sh`.
    pub fn install(&self) -> Cmd {
        pipe(parts![self.get_docker(), cmd!["sh"]])
    }

    /// Wharf (`x-wharf: docker_from_packages`): Docker from the distribution's own packages,
    /// with whichever package manager the server has (apt-get, dnf, yum, zypper, apk, pacman),
    /// through `sudo -n` unless root, then the service enabled and started.
    pub fn install_from_packages(&self) -> Cmd {
        cmd![INSTALL_FROM_PACKAGES]
    }

    /// `installed?`: `docker -v`.
    pub fn installed(&self) -> Cmd {
        docker(cmd!["-v"])
    }

    /// `running?`: `docker version`.
    pub fn running(&self) -> Cmd {
        docker(cmd!["version"])
    }

    /// `superuser?`.
    pub fn superuser(&self) -> Cmd {
        cmd!["[ \"${EUID:-$(id -u)}\" -eq 0 ] || sudo -nl usermod >/dev/null"]
    }

    /// `root?`.
    pub fn root(&self) -> Cmd {
        cmd!["[ \"${EUID:-$(id -u)}\" -eq 0 ]"]
    }

    /// `in_docker_group?`.
    pub fn in_docker_group(&self) -> Cmd {
        cmd!["id -nG \"${USER:-$(id -un)}\" | grep -qw docker"]
    }

    /// `add_to_docker_group`.
    pub fn add_to_docker_group(&self) -> Cmd {
        cmd!["sudo -n usermod -aG docker \"${USER:-$(id -un)}\""]
    }

    /// `refresh_session`.
    pub fn refresh_session(&self) -> Cmd {
        cmd!["kill -HUP $PPID"]
    }

    /// `create_network`: `docker network create kamal`.
    pub fn create_network(&self) -> Cmd {
        docker(cmd!["network", "create", "kamal"])
    }

    fn get_docker(&self) -> Cmd {
        shell(any(parts![
            cmd!["curl", "-fsSL", "https://get.docker.com"],
            cmd!["wget", "-O -", "https://get.docker.com"],
            cmd!["echo", "\"exit 1\""]
        ]))
    }
}
