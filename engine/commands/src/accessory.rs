//! `Kamal::Commands::Accessory` (and its `Proxy` module): the container of one accessory.

use crate::app::{grep_double_quoted, grep_single_quoted};
use crate::base::{self, make_directory, Interactive};
use crate::cmd::{docker, pipe, Cmd};
use crate::{cmd, parts};
use wharf_config::Configuration;

/// Options of [`Accessory::logs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessoryLogsOptions {
    /// `timestamps:` (default true).
    pub timestamps: bool,
    /// `since:`.
    pub since: Option<String>,
    /// `lines:`.
    pub lines: Option<String>,
    /// `grep:`.
    pub grep: Option<String>,
    /// `grep_options:`.
    pub grep_options: Option<String>,
}

impl Default for AccessoryLogsOptions {
    fn default() -> Self {
        AccessoryLogsOptions { timestamps: true, since: None, lines: None, grep: None, grep_options: None }
    }
}

/// The commands for an accessory.
#[derive(Debug, Clone)]
pub struct Accessory<'a> {
    config: &'a Configuration,
    accessory: &'a wharf_config::Accessory,
}

impl<'a> Accessory<'a> {
    /// `Kamal::Commands::Accessory.new(config, name:)`; `None` for an unknown accessory.
    pub fn new(config: &'a Configuration, name: &str) -> Option<Accessory<'a>> {
        config.accessory(name).map(|accessory| Accessory { config, accessory })
    }

    /// The accessory's configuration.
    pub fn accessory_config(&self) -> &'a wharf_config::Accessory {
        self.accessory
    }

    fn service_name(&self) -> String {
        self.accessory.service_name()
    }

    /// `run(host:)`: `docker run --name <service> --detach ...`.
    pub fn run(&self, host: Option<&str>) -> Cmd {
        let a = self.accessory;
        docker(cmd![
            "run",
            "--name",
            self.service_name(),
            "--detach",
            "--restart",
            a.restart_policy(),
            a.network_args(),
            self.config.logging_args(),
            a.publish_args(),
            host.map(|h| cmd!["--env", format!("KAMAL_HOST=\"{h}\"")]),
            a.env_args(),
            a.volume_args(),
            a.label_args(),
            a.option_args(),
            a.image(),
            a.cmd()
        ])
    }

    /// `start`: `docker container start <service>`.
    pub fn start(&self) -> Cmd {
        docker(cmd!["container", "start", self.service_name()])
    }

    /// `stop`: `docker container stop <service>`.
    pub fn stop(&self) -> Cmd {
        docker(cmd!["container", "stop", self.service_name()])
    }

    /// `info(all:, quiet:)`: `docker ps [-a] [-q] --filter label=service=<service>`.
    pub fn info(&self, all: bool, quiet: bool) -> Cmd {
        docker(cmd!["ps", all.then_some("-a"), quiet.then_some("-q"), self.service_filter()])
    }

    /// `logs(timestamps:, since:, lines:, grep:, grep_options:)`.
    pub fn logs(&self, options: &AccessoryLogsOptions) -> Cmd {
        pipe(parts![
            docker(cmd![
                "logs",
                self.service_name(),
                options.since.as_ref().map(|s| format!(" --since {s}")),
                options.lines.as_ref().map(|l| format!(" --tail {l}")),
                options.timestamps.then_some("--timestamps"),
                "2>&1"
            ]),
            grep_single_quoted(options.grep.as_deref(), options.grep_options.as_deref())
        ])
    }

    /// `follow_logs(timestamps:, grep:, grep_options:)`: the local `ssh` line to the first host.
    pub fn follow_logs(&self, timestamps: bool, grep: Option<&str>, grep_options: Option<&str>) -> String {
        let c = pipe(parts![
            docker(cmd![
                "logs",
                self.service_name(),
                timestamps.then_some("--timestamps"),
                "--tail",
                "10",
                "--follow",
                "2>&1"
            ]),
            grep_double_quoted(grep, grep_options)
        ]);
        self.run_over_ssh(&c.to_string())
    }

    /// `execute_in_existing_container(*command, interactive:)`.
    pub fn execute_in_existing_container(&self, command: &[&str], interactive: Interactive) -> Cmd {
        docker(cmd!["exec", interactive.arg(), self.service_name(), command.to_vec()])
    }

    /// `execute_in_new_container(*command, interactive:)`.
    pub fn execute_in_new_container(&self, command: &[&str], interactive: Interactive) -> Cmd {
        let a = self.accessory;
        docker(cmd![
            "run",
            interactive.arg(),
            "--rm",
            a.network_args(),
            a.env_args(),
            a.volume_args(),
            a.option_args(),
            a.image(),
            command.to_vec()
        ])
    }

    /// `execute_in_existing_container_over_ssh(*command)`.
    pub fn execute_in_existing_container_over_ssh(&self, command: &[&str], stdin_is_tty: bool) -> String {
        self.run_over_ssh(&self.execute_in_existing_container(command, Interactive::from_tty(stdin_is_tty)).to_string())
    }

    /// `execute_in_new_container_over_ssh(*command)`.
    pub fn execute_in_new_container_over_ssh(&self, command: &[&str], stdin_is_tty: bool) -> String {
        self.run_over_ssh(&self.execute_in_new_container(command, Interactive::from_tty(stdin_is_tty)).to_string())
    }

    /// `run_over_ssh(command)`: on the accessory's first host.
    pub fn run_over_ssh(&self, command: &str) -> String {
        let host = self.accessory.hosts().first().map(String::as_str).unwrap_or("");
        base::run_over_ssh(self.config, command, host)
    }

    /// `pull_image`: `docker image pull <image>`.
    pub fn pull_image(&self) -> Cmd {
        docker(cmd!["image", "pull", self.accessory.image()])
    }

    /// `remove_service_directory`: `rm -rf <service>`.
    pub fn remove_service_directory(&self) -> Cmd {
        cmd!["rm", "-rf", self.service_name()]
    }

    /// `remove_container`: `docker container prune --force --filter label=service=<service>`.
    pub fn remove_container(&self) -> Cmd {
        docker(cmd!["container", "prune", "--force", self.service_filter()])
    }

    /// `remove_image`: `docker image rm --force <image>`.
    pub fn remove_image(&self) -> Cmd {
        docker(cmd!["image", "rm", "--force", self.accessory.image()])
    }

    /// `ensure_env_directory`: `mkdir -p .kamal/apps/<app>/env/accessories`.
    pub fn ensure_env_directory(&self) -> Cmd {
        make_directory(&self.accessory.env_directory())
    }

    /// `make_directory_for(remote_file)` (uploads of `files`).
    pub fn make_directory_for(&self, remote_file: &str) -> Cmd {
        base::make_directory_for(remote_file)
    }

    /// `make_directory(path)` (`directories`).
    pub fn make_directory(&self, path: &str) -> Cmd {
        make_directory(path)
    }

    /// `remove_directory(path)`.
    pub fn remove_directory(&self, path: &str) -> Cmd {
        base::remove_directory(path)
    }

    // ---- Proxy --------------------------------------------------------------------------

    /// `deploy(target:)`: `docker exec kamal-proxy kamal-proxy deploy <service> --target=...`.
    pub fn deploy(&self, target: &str) -> Cmd {
        let args = self.accessory.proxy().map(|p| p.deploy_command_args(target)).unwrap_or_default();
        self.proxy_exec(cmd!["deploy", self.service_name(), args])
    }

    /// `remove`: `docker exec kamal-proxy kamal-proxy remove <service>`.
    pub fn remove(&self) -> Cmd {
        self.proxy_exec(cmd!["remove", self.service_name()])
    }

    fn proxy_exec(&self, command: Cmd) -> Cmd {
        docker(cmd!["exec", self.config.proxy_boot().container_name(), "kamal-proxy", command])
    }

    fn service_filter(&self) -> Cmd {
        cmd!["--filter", format!("label=service={}", self.service_name())]
    }
}
