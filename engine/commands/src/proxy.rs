//! `Kamal::Commands::Proxy`: running kamal-proxy on a host, either from `proxy.run` settings or
//! from the boot options saved on the host (`.kamal/proxy/options`, `image`, `image_version`,
//! `run_command`).

use crate::app::{grep_double_quoted, grep_single_quoted};
use crate::base::{self, make_directory, remove_directory, remove_file};
use crate::cmd::{and, any, chain, docker, pipe, substitute, xargs, Cmd};
use crate::{cmd, parts};
use wharf_config::model::PROXY_MINIMUM_VERSION;
use wharf_config::{Configuration, ProxyRun};

/// Options of [`Proxy::logs`]: the same as an accessory's.
pub type ProxyLogsOptions = crate::accessory::AccessoryLogsOptions;

/// The proxy commands for one host.
#[derive(Debug, Clone)]
pub struct Proxy<'a> {
    config: &'a Configuration,
    proxy_run_config: Option<ProxyRun>,
}

impl<'a> Proxy<'a> {
    /// `Kamal::Commands::Proxy.new(config, host:)`.
    pub fn new(config: &'a Configuration, host: &str) -> Proxy<'a> {
        Proxy { config, proxy_run_config: config.proxy_run(host) }
    }

    /// The host's `proxy.run` settings, if any.
    pub fn proxy_run_config(&self) -> Option<&ProxyRun> {
        self.proxy_run_config.as_ref()
    }

    /// `run`: `docker run ... kamal-proxy` from `proxy.run`, or from the boot config saved on
    /// the host (`echo $(cat options ...) ... | xargs docker run ...`).
    pub fn run(&self) -> Cmd {
        match &self.proxy_run_config {
            Some(run) => docker(cmd![
                "run",
                "--name",
                self.container_name(),
                "--network",
                "kamal",
                "--detach",
                "--restart",
                "unless-stopped",
                "--volume",
                "kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy",
                run.docker_options_args(),
                run.image(),
                run.run_command()
            ]),
            None => pipe(parts![self.boot_config(), xargs(self.docker_run())]),
        }
    }

    /// `start`: `docker container start kamal-proxy`.
    pub fn start(&self) -> Cmd {
        docker(cmd!["container", "start", self.container_name()])
    }

    /// `stop(name:)`: `docker container stop <name>` (default kamal-proxy).
    pub fn stop(&self, name: Option<&str>) -> Cmd {
        docker(cmd!["container", "stop", name.unwrap_or(self.container_name())])
    }

    /// `start_or_run`: `<start> || <run>`.
    pub fn start_or_run(&self) -> Cmd {
        any(parts![self.start(), self.run()])
    }

    /// `info`: `docker ps --filter 'name=^kamal-proxy$'`.
    pub fn info(&self) -> Cmd {
        docker(cmd!["ps", "--filter", format!("'name=^{}$'", self.container_name())])
    }

    /// `version`: the running kamal-proxy's image tag.
    pub fn version(&self) -> Cmd {
        pipe(parts![
            docker(cmd!["inspect", self.container_name(), "--format '{{.Config.Image}}'"]),
            cmd!["awk", "-F:", "'{print $NF}'"]
        ])
    }

    /// Wharf: kamal-proxy's facts (see [`crate::facts::inspect_containers`]): its image (the
    /// version [`Self::version`] reads), whether it runs, whether it is on the `kamal` network.
    pub fn container_facts(&self) -> Cmd {
        crate::facts::inspect_containers(&[self.container_name()])
    }

    /// `logs(timestamps:, since:, lines:, grep:, grep_options:)`.
    pub fn logs(&self, options: &ProxyLogsOptions) -> Cmd {
        pipe(parts![
            docker(cmd![
                "logs",
                self.container_name(),
                options.since.as_ref().map(|s| format!("--since {s}")),
                options.lines.as_ref().map(|l| format!("--tail {l}")),
                options.timestamps.then_some("--timestamps"),
                "2>&1"
            ]),
            grep_single_quoted(options.grep.as_deref(), options.grep_options.as_deref())
        ])
    }

    /// `follow_logs(host:, timestamps:, grep:, grep_options:)`: the local `ssh` line.
    pub fn follow_logs(&self, host: &str, timestamps: bool, grep: Option<&str>, grep_options: Option<&str>) -> String {
        let c = pipe(parts![
            docker(cmd![
                "logs",
                self.container_name(),
                timestamps.then_some("--timestamps"),
                "--tail",
                "10",
                "--follow",
                "2>&1"
            ]),
            grep_double_quoted(grep, grep_options)
        ]);
        base::run_over_ssh(self.config, &c.to_string(), host)
    }

    /// `remove_container`.
    pub fn remove_container(&self) -> Cmd {
        docker(cmd!["container", "prune", "--force", "--filter", "label=org.opencontainers.image.title=kamal-proxy"])
    }

    /// `remove_image`.
    pub fn remove_image(&self) -> Cmd {
        docker(cmd![
            "image",
            "prune",
            "--all",
            "--force",
            "--filter",
            "label=org.opencontainers.image.title=kamal-proxy"
        ])
    }

    /// `cleanup_traefik`: stops and removes a Kamal 1 Traefik.
    pub fn cleanup_traefik(&self) -> Cmd {
        chain(parts![
            docker(cmd!["container", "stop", "traefik"]),
            and(parts![
                docker(cmd![
                    "container",
                    "prune",
                    "--force",
                    "--filter",
                    "label=org.opencontainers.image.title=Traefik"
                ]),
                docker(cmd![
                    "image",
                    "prune",
                    "--all",
                    "--force",
                    "--filter",
                    "label=org.opencontainers.image.title=Traefik"
                ])
            ])
        ])
    }

    /// `ensure_proxy_directory`: `mkdir -p .kamal/proxy`.
    pub fn ensure_proxy_directory(&self) -> Cmd {
        make_directory(&self.config.proxy_boot().host_directory())
    }

    /// `remove_proxy_directory`: `rm -r .kamal/proxy`.
    pub fn remove_proxy_directory(&self) -> Cmd {
        remove_directory(&self.config.proxy_boot().host_directory())
    }

    /// `ensure_apps_config_directory`: `mkdir -p .kamal/proxy/apps-config`.
    pub fn ensure_apps_config_directory(&self) -> Cmd {
        make_directory(&self.config.proxy_boot().apps_directory())
    }

    /// `boot_config`: `echo $(<options>) $(<image>):$(<version>) $(<run command>)`.
    pub fn boot_config(&self) -> Cmd {
        cmd![
            "echo",
            format!(
                "{} {}:{} {}",
                substitute(&[self.read_boot_options()]),
                substitute(&[self.read_image()]),
                substitute(&[self.read_image_version()]),
                substitute(&[self.read_run_command()])
            )
        ]
    }

    /// `read_boot_options`.
    pub fn read_boot_options(&self) -> Cmd {
        let boot = self.config.proxy_boot();
        read_file(&boot.options_file(), Some(&boot.default_boot_options().join(" ")))
    }

    /// `read_image`.
    pub fn read_image(&self) -> Cmd {
        let boot = self.config.proxy_boot();
        read_file(&boot.image_file(), Some(&boot.image_default()))
    }

    /// `read_image_version`.
    pub fn read_image_version(&self) -> Cmd {
        read_file(&self.config.proxy_boot().image_version_file(), Some(PROXY_MINIMUM_VERSION))
    }

    /// `read_run_command`.
    pub fn read_run_command(&self) -> Cmd {
        read_file(&self.config.proxy_boot().run_command_file(), None)
    }

    /// `reset_boot_options`.
    pub fn reset_boot_options(&self) -> Cmd {
        remove_file(&self.config.proxy_boot().options_file())
    }

    /// `reset_image`.
    pub fn reset_image(&self) -> Cmd {
        remove_file(&self.config.proxy_boot().image_file())
    }

    /// `reset_image_version`.
    pub fn reset_image_version(&self) -> Cmd {
        remove_file(&self.config.proxy_boot().image_version_file())
    }

    /// `reset_run_command`.
    pub fn reset_run_command(&self) -> Cmd {
        remove_file(&self.config.proxy_boot().run_command_file())
    }

    fn container_name(&self) -> &'static str {
        self.config.proxy_boot().container_name()
    }

    fn docker_run(&self) -> Cmd {
        docker(cmd![
            "run",
            "--name",
            self.container_name(),
            "--network",
            "kamal",
            "--detach",
            "--restart",
            "unless-stopped",
            "--volume",
            "kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy",
            self.config.proxy_boot().apps_volume().docker_args()
        ])
    }
}

/// `read_file(file, default:)`: `cat <file> 2> /dev/null || echo "<default>"`.
fn read_file(file: &str, default: Option<&str>) -> Cmd {
    any(parts![cmd!["cat", file, "2>", "/dev/null"], cmd!["echo", format!("\"{}\"", default.unwrap_or(""))]])
}
