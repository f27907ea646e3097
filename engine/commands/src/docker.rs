//! `Kamal::Commands::Docker`: installing and checking Docker on the hosts.

use crate::cmd::{any, docker, pipe, shell, Cmd};
use crate::{cmd, parts};

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
