//! `Kamal::Commands::App` with its modules `Assets`, `Containers`, `ErrorPages`, `Execution`,
//! `Images`, `Logging` and `Proxy`: the app containers of one role on one host.

use crate::base::{self, make_directory, remove_directory, Interactive, DOCKER_HEALTH_STATUS_FORMAT};
use crate::cmd::{
    and, argumentize_list, argumentize_strings, basename, chain, dirname, docker, pipe, shell, xargs, Cmd,
};
use crate::{cmd, parts};
use wharf_config::ruby::{blank_str, file_join};
use wharf_config::{Configuration, Role};

/// `ACTIVE_DOCKER_STATUSES`.
pub const ACTIVE_DOCKER_STATUSES: [&str; 2] = ["running", "restarting"];

/// `DOCKER_HEALTH_LOG_FORMAT`.
pub const DOCKER_HEALTH_LOG_FORMAT: &str = "'{{json .State.Health}}'";

/// Which container `logs`/`follow_logs` read (`container_id:` in Kamal).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ContainerId {
    /// The current running container (`nil`).
    #[default]
    CurrentRunning,
    /// A container id or name (`sh -c 'echo <id>'`).
    Id(String),
    /// A command printing the id (an Array in Kamal).
    Command(Cmd),
}

/// Options of [`App::logs`] (Kamal's keyword arguments and defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsOptions {
    /// `container_id:`.
    pub container_id: ContainerId,
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

impl Default for LogsOptions {
    fn default() -> Self {
        LogsOptions {
            container_id: ContainerId::CurrentRunning,
            timestamps: true,
            since: None,
            lines: None,
            grep: None,
            grep_options: None,
        }
    }
}

/// Options of [`App::execute_in_new_container`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOptions {
    /// `interactive:` (with Kamal's `STDIN.isatty` decided by the caller).
    pub interactive: Interactive,
    /// `detach:`.
    pub detach: bool,
    /// `env:` (`--env KEY="value"`).
    pub env: Vec<(String, String)>,
    /// The random part of the container name (`SecureRandom.hex(3)`); a fresh one when `None`.
    pub exec_id: Option<String>,
}

/// Six random hex characters (`SecureRandom.hex(3)`), from the standard library's randomly
/// seeded hasher.
pub fn random_hex3() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    format!("{:06x}", h.finish() & 0xff_ffff)
}

/// The commands for one role (or none, for the app-wide ones) on one host.
#[derive(Debug, Clone)]
pub struct App<'a> {
    config: &'a Configuration,
    role: Option<&'a Role>,
    host: Option<String>,
}

impl<'a> App<'a> {
    /// `Kamal::Commands::App.new(config, role:, host:)`.
    pub fn new(config: &'a Configuration, role: Option<&'a Role>, host: Option<&str>) -> App<'a> {
        App { config, role, host: host.map(String::from) }
    }

    /// `KAMAL.app(role: config.role(name), host:)` by role name (`None` for an unknown role).
    pub fn for_role(config: &'a Configuration, role: &str, host: &str) -> Option<App<'a>> {
        config.role(role).map(|r| App::new(config, Some(r), Some(host)))
    }

    /// The role.
    pub fn role(&self) -> Option<&'a Role> {
        self.role
    }

    /// The host.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    fn r(&self) -> &'a Role {
        self.role.expect("this app command needs a role (Kamal::Commands::App.new(config, role:))")
    }

    fn host_s(&self) -> &str {
        self.host.as_deref().unwrap_or("")
    }

    /// `container_name(version = nil)`: `<service>-<role>[-<destination>]-<version>`.
    pub fn container_name(&self, version: Option<&str>) -> String {
        self.r().container_name(version)
    }

    /// `run(hostname:)`: `docker run --detach ...` of the new version.
    pub fn run(&self, hostname: Option<&str>) -> Cmd {
        let role = self.r();
        let config = self.config;
        let container_name = self.container_name(None);
        docker(cmd![
            "run",
            "--detach",
            "--restart",
            role.restart_policy(),
            "--name",
            &container_name,
            "--network",
            "kamal",
            hostname.map(|h| cmd!["--hostname", h]),
            "--env",
            format!("KAMAL_CONTAINER_NAME=\"{container_name}\""),
            "--env",
            format!("KAMAL_VERSION=\"{}\"", config.version()),
            "--env",
            format!("KAMAL_HOST=\"{}\"", self.host_s()),
            config.destination().map(|d| cmd!["--env", format!("KAMAL_DESTINATION=\"{d}\"")]),
            role.env_args(self.host_s()),
            role.logging_args(),
            config.volume_args(),
            role.asset_volume_args(None),
            role.label_args(),
            role.option_args(),
            config.absolute_image(),
            role.cmd()
        ])
    }

    /// `start`: `docker start <container>`.
    pub fn start(&self) -> Cmd {
        docker(cmd!["start", self.container_name(None)])
    }

    /// `status(version:)`: the health (or state) of a version's container.
    pub fn status(&self, version: &str) -> Cmd {
        pipe(parts![
            self.container_id_for_version(version, false),
            xargs(docker(cmd!["inspect", "--format", DOCKER_HEALTH_STATUS_FORMAT]))
        ])
    }

    /// `stop(version:)`: stops a version's container, or the current running one.
    pub fn stop(&self, version: Option<&str>) -> Cmd {
        let id = match version {
            Some(v) => self.container_id_for_version(v, false),
            None => self.current_running_container_id(),
        };
        pipe(parts![id, xargs(docker(cmd!["stop", self.r().stop_args()]))])
    }

    /// Wharf: stops `version`'s container by its name, `docker stop [-t N] <name>`: the same as
    /// [`Self::stop`]`(Some(version))` (whose `docker container ls` finds the container by that
    /// exact name), with one `docker` run instead of two. A missing container fails either way.
    pub fn stop_by_name(&self, version: &str) -> Cmd {
        docker(cmd!["stop", self.r().stop_args(), self.container_name(Some(version))])
    }

    /// `info`: `docker ps --filter ...`.
    pub fn info(&self) -> Cmd {
        docker(cmd!["ps", self.container_filter_args(&[])])
    }

    /// `current_running_container_id`.
    pub fn current_running_container_id(&self) -> Cmd {
        self.current_running_container("--quiet")
    }

    /// `container_id_for_version(version, only_running:)`.
    pub fn container_id_for_version(&self, version: &str, only_running: bool) -> Cmd {
        base::container_id_for(&self.container_name(Some(version)), only_running)
    }

    /// `container_id_for(container_name:, only_running:)`.
    pub fn container_id_for(&self, container_name: &str, only_running: bool) -> Cmd {
        base::container_id_for(container_name, only_running)
    }

    /// `current_running_version`: the version of the current running container.
    pub fn current_running_version(&self) -> Cmd {
        pipe(parts![self.current_running_container("--format '{{.Names}}'"), self.extract_version_from_name()])
    }

    /// `list_versions(*docker_args, statuses:)`.
    pub fn list_versions(&self, docker_args: &[&str], statuses: &[&str]) -> Cmd {
        pipe(parts![
            docker(cmd![
                "ps",
                self.container_filter_args(statuses),
                docker_args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                "--format",
                "\"{{.Names}}\""
            ]),
            self.extract_version_from_name()
        ])
    }

    /// Wharf (see [`crate::facts`]): the service's containers that `docker ps` lists (running,
    /// paused, restarting), newest first, each as `<role> <state> <name>`: per role, what
    /// [`Self::list_versions`] lists, with each container's state. `docker ps --filter
    /// label=service=S --filter label=destination=D --format '{{.Label "role"}} {{.State}}
    /// {{.Names}}'`.
    pub fn list_containers_by_role(&self) -> Cmd {
        let all_roles = App { config: self.config, role: None, host: self.host.clone() };
        docker(cmd![
            "ps",
            all_roles.container_filter_args(&[]),
            "--format",
            r#"'{{.Label "role"}} {{.State}} {{.Names}}'"#
        ])
    }

    /// `ensure_env_directory`: `mkdir -p <role env directory>`.
    pub fn ensure_env_directory(&self) -> Cmd {
        make_directory(&self.r().env_directory())
    }

    fn latest_image_id(&self) -> Cmd {
        docker(cmd![
            "image",
            "ls",
            argumentize_list("--filter", &[format!("reference={}", self.config.latest_image())]),
            "--format",
            "'{{.ID}}'"
        ])
    }

    fn current_running_container(&self, format: &str) -> Cmd {
        pipe(parts![
            shell(chain(parts![self.latest_image_container(format), self.latest_container(format, &[])])),
            cmd!["head", "-1"]
        ])
    }

    fn latest_image_container(&self, format: &str) -> Cmd {
        self.latest_container(format, &[format!("ancestor=$({})", self.latest_image_id())])
    }

    fn latest_container(&self, format: &str, filters: &[String]) -> Cmd {
        docker(cmd![
            "ps",
            "--latest",
            format,
            self.container_filter_args(&ACTIVE_DOCKER_STATUSES),
            argumentize_list("--filter", filters)
        ])
    }

    fn container_filter_args(&self, statuses: &[&str]) -> Cmd {
        cmd![argumentize_list("--filter", &self.container_filters(statuses))]
    }

    fn image_filter_args(&self) -> Cmd {
        cmd![argumentize_list("--filter", &[format!("label=service={}", self.config.service())])]
    }

    fn extract_version_from_name(&self) -> String {
        format!("while read line; do echo ${{line#{}-}}; done", self.r().container_prefix())
    }

    fn container_filters(&self, statuses: &[&str]) -> Vec<String> {
        let mut filters = vec![format!("label=service={}", self.config.service())];
        filters.push(format!("label=destination={}", self.config.destination().unwrap_or("")));
        if let Some(role) = self.role {
            filters.push(format!("label=role={}", role.name()));
        }
        for status in statuses {
            filters.push(format!("status={status}"));
        }
        filters
    }

    // ---- Assets -------------------------------------------------------------------------

    /// `extract_assets`: copies the assets out of the new image into the extracted directory.
    pub fn extract_assets(&self) -> Cmd {
        let role = self.r();
        let asset_container = format!("{}-assets", role.container_prefix());
        let extracted = role.asset_extracted_directory(None);
        and(parts![
            make_directory(&extracted),
            cmd![docker(cmd!["container", "rm", &asset_container, "2> /dev/null"]), "|| true"],
            docker(cmd!["container", "create", "--name", &asset_container, self.config.absolute_image()]),
            docker(cmd![
                "container",
                "cp",
                "-L",
                format!("{asset_container}:{}/.", role.asset_path().unwrap_or_default()),
                &extracted
            ]),
            docker(cmd!["container", "rm", &asset_container])
        ])
    }

    /// `sync_asset_volumes(old_version:)`: fills the new version's asset volume, and crosses
    /// the assets of the old and new versions over.
    pub fn sync_asset_volumes(&self, old_version: Option<&str>) -> Cmd {
        let role = self.r();
        let version = self.config.version();
        let new_extracted_path = role.asset_extracted_directory(Some(&version));
        let new_volume_path = role.asset_volume_directory(None);
        let old = old_version.filter(|v| !blank_str(v));
        let mut commands =
            parts![make_directory(&new_volume_path), copy_contents(&new_extracted_path, &new_volume_path, false)];
        if let Some(old) = old {
            let old_extracted_path = role.asset_extracted_directory(Some(old));
            let old_volume_path = role.asset_volume_directory(Some(old));
            commands.push(Some(copy_contents(&new_extracted_path, &old_volume_path, true)));
            commands.push(Some(copy_contents(&old_extracted_path, &new_volume_path, true)));
        }
        chain(commands)
    }

    /// `clean_up_assets`: removes the extracted assets and volumes of other versions.
    pub fn clean_up_assets(&self) -> Cmd {
        let role = self.r();
        chain(parts![
            self.find_and_remove_older_siblings(&role.asset_extracted_directory(None)),
            self.find_and_remove_older_siblings(&role.asset_volume_directory(None))
        ])
    }

    fn find_and_remove_older_siblings(&self, path: &str) -> Cmd {
        cmd![
            "find",
            dirname(path),
            "-maxdepth 1",
            "-name",
            format!("'{}-*'", self.r().name()),
            "!",
            "-name",
            basename(path),
            "-exec rm -rf \"{}\" +"
        ]
    }

    // ---- Containers ---------------------------------------------------------------------

    /// `list_containers`: `docker container ls --all --filter ...`.
    pub fn list_containers(&self) -> Cmd {
        docker(cmd!["container", "ls", "--all", self.container_filter_args(&[])])
    }

    /// `list_container_names`.
    pub fn list_container_names(&self) -> Cmd {
        cmd![self.list_containers(), "--format", "'{{ .Names }}'"]
    }

    /// `remove_container(version:)`.
    pub fn remove_container(&self, version: &str) -> Cmd {
        pipe(parts![
            base::container_id_for(&self.container_name(Some(version)), false),
            xargs(docker(cmd!["container", "rm"]))
        ])
    }

    /// `rename_container(version:, new_version:)`.
    pub fn rename_container(&self, version: &str, new_version: &str) -> Cmd {
        docker(cmd!["rename", self.container_name(Some(version)), self.container_name(Some(new_version))])
    }

    /// `remove_containers`: `docker container prune --force --filter ...`.
    pub fn remove_containers(&self) -> Cmd {
        docker(cmd!["container", "prune", "--force", self.container_filter_args(&[])])
    }

    /// `container_health_log(version:)`.
    pub fn container_health_log(&self, version: &str) -> Cmd {
        pipe(parts![
            base::container_id_for(&self.container_name(Some(version)), false),
            xargs(docker(cmd!["inspect", "--format", DOCKER_HEALTH_LOG_FORMAT]))
        ])
    }

    // ---- ErrorPages ---------------------------------------------------------------------

    /// `create_error_pages_directory`.
    pub fn create_error_pages_directory(&self) -> Cmd {
        make_directory(&self.config.proxy_boot().error_pages_directory())
    }

    /// `clean_up_error_pages`: removes the error pages of other versions.
    pub fn clean_up_error_pages(&self) -> Cmd {
        cmd![
            "find",
            self.config.proxy_boot().error_pages_directory(),
            "-mindepth",
            "1",
            "-maxdepth",
            "1",
            "!",
            "-name",
            self.config.version(),
            "-exec",
            "rm",
            "-rf",
            "{} +"
        ]
    }

    // ---- Execution ----------------------------------------------------------------------

    /// `execute_in_existing_container(*command, interactive:, env:)`.
    pub fn execute_in_existing_container(
        &self,
        command: &[&str],
        interactive: Interactive,
        env: &[(String, String)],
    ) -> Cmd {
        docker(cmd![
            "exec",
            interactive.arg(),
            argumentize_strings("--env", env, false),
            self.container_name(None),
            command.to_vec()
        ])
    }

    /// `execute_in_new_container(*command, interactive:, detach:, env:)`.
    pub fn execute_in_new_container(&self, command: &[&str], options: &ExecOptions) -> Cmd {
        let role = self.r();
        docker(cmd![
            "run",
            options.interactive.arg(),
            options.detach.then_some("--detach"),
            (!options.detach).then_some("--rm"),
            "--name",
            self.container_name_for_exec(options.exec_id.as_deref()),
            "--network",
            "kamal",
            role.env_args(self.host_s()),
            argumentize_strings("--env", &options.env, false),
            role.logging_args(),
            self.config.volume_args(),
            role.option_args(),
            self.config.absolute_image(),
            command.to_vec()
        ])
    }

    /// `execute_in_existing_container_over_ssh(*command, env:)`: the local `ssh` line.
    pub fn execute_in_existing_container_over_ssh(
        &self,
        command: &[&str],
        env: &[(String, String)],
        stdin_is_tty: bool,
    ) -> String {
        let c = self.execute_in_existing_container(command, Interactive::from_tty(stdin_is_tty), env);
        base::run_over_ssh(self.config, &c.to_string(), self.host_s())
    }

    /// `execute_in_new_container_over_ssh(*command, env:)`: the local `ssh` line.
    pub fn execute_in_new_container_over_ssh(
        &self,
        command: &[&str],
        env: &[(String, String)],
        stdin_is_tty: bool,
        exec_id: Option<&str>,
    ) -> String {
        let options = ExecOptions {
            interactive: Interactive::from_tty(stdin_is_tty),
            detach: false,
            env: env.to_vec(),
            exec_id: exec_id.map(String::from),
        };
        base::run_over_ssh(self.config, &self.execute_in_new_container(command, &options).to_string(), self.host_s())
    }

    /// `run_over_ssh(*command, host:)`.
    pub fn run_over_ssh(&self, command: &str, host: &str) -> String {
        base::run_over_ssh(self.config, command, host)
    }

    fn container_name_for_exec(&self, exec_id: Option<&str>) -> String {
        let id = exec_id.map(String::from).unwrap_or_else(random_hex3);
        let mut parts = vec![self.r().container_prefix(), "exec".to_string()];
        if self.config.has_version() {
            parts.push(self.config.version());
        }
        parts.push(id);
        parts.join("-")
    }

    // ---- Images -------------------------------------------------------------------------

    /// `list_images`: `docker image ls <repository>`.
    pub fn list_images(&self) -> Cmd {
        docker(cmd!["image", "ls", self.config.repository()])
    }

    /// `remove_images`: `docker image prune --all --force --filter label=service=<service>`.
    pub fn remove_images(&self) -> Cmd {
        docker(cmd!["image", "prune", "--all", "--force", self.image_filter_args()])
    }

    /// `tag_latest_image`: `docker tag <absolute image> <latest image>`.
    pub fn tag_latest_image(&self) -> Cmd {
        docker(cmd!["tag", self.config.absolute_image(), self.config.latest_image()])
    }

    // ---- Logging ------------------------------------------------------------------------

    /// `logs(container_id:, timestamps:, since:, lines:, grep:, grep_options:)`.
    pub fn logs(&self, options: &LogsOptions) -> Cmd {
        let mut xargs = String::from("xargs docker logs");
        if options.timestamps {
            xargs.push_str(" --timestamps");
        }
        if let Some(s) = &options.since {
            xargs.push_str(&format!(" --since {s}"));
        }
        if let Some(l) = &options.lines {
            xargs.push_str(&format!(" --tail {l}"));
        }
        xargs.push_str(" 2>&1");
        pipe(parts![
            self.container_id_command(&options.container_id),
            xargs,
            grep_single_quoted(options.grep.as_deref(), options.grep_options.as_deref())
        ])
    }

    /// `follow_logs(host:, container_id:, timestamps:, lines:, grep:, grep_options:)`: the local
    /// `ssh` line (`since` is ignored, as in Kamal).
    pub fn follow_logs(&self, host: &str, options: &LogsOptions) -> String {
        let mut xargs = String::from("xargs docker logs");
        if options.timestamps {
            xargs.push_str(" --timestamps");
        }
        if let Some(l) = &options.lines {
            xargs.push_str(&format!(" --tail {l}"));
        }
        xargs.push_str(" --follow 2>&1");
        let c = pipe(parts![
            self.container_id_command(&options.container_id),
            xargs,
            grep_double_quoted(options.grep.as_deref(), options.grep_options.as_deref())
        ]);
        base::run_over_ssh(self.config, &c.to_string(), host)
    }

    fn container_id_command(&self, container_id: &ContainerId) -> Cmd {
        match container_id {
            ContainerId::Command(c) => c.clone(),
            ContainerId::Id(id) => shell(cmd![format!("echo {id}")]),
            ContainerId::CurrentRunning => self.current_running_container_id(),
        }
    }

    // ---- Proxy --------------------------------------------------------------------------

    /// `deploy(target:)`: `docker exec kamal-proxy kamal-proxy deploy <prefix> --target=... ...`.
    pub fn deploy(&self, target: &str) -> Cmd {
        let role = self.r();
        let args = role.proxy().map(|p| p.deploy_command_args(target)).unwrap_or_default();
        self.proxy_exec(cmd!["deploy", role.container_prefix(), args])
    }

    /// Wharf's canary: the new version's container as the proxy's rollout target (health-checked
    /// first), `docker exec kamal-proxy kamal-proxy rollout deploy <prefix> --target="ID:PORT"
    /// --deploy-timeout="Ns" --drain-timeout="Ns"`.
    pub fn rollout_deploy(&self, target: &str) -> Cmd {
        let role = self.r();
        let args = role.proxy().map(|p| p.rollout_deploy_command_args(target)).unwrap_or_default();
        self.proxy_exec(cmd!["rollout", "deploy", role.container_prefix(), args])
    }

    /// Wharf's canary: who gets the rollout target, `... kamal-proxy rollout set <prefix>
    /// --percent=N [--list=a,b]`.
    pub fn rollout_set(&self, percent: u8, list: &[String]) -> Cmd {
        let list = (!list.is_empty()).then(|| format!("--list={}", list.join(",")));
        self.proxy_exec(cmd!["rollout", "set", self.r().container_prefix(), format!("--percent={percent}"), list])
    }

    /// Wharf's canary: everyone back on the active target, `... kamal-proxy rollout stop <prefix>`.
    pub fn rollout_stop(&self) -> Cmd {
        self.proxy_exec(cmd!["rollout", "stop", self.r().container_prefix()])
    }

    /// Wharf's canary gate: what the proxy counted per cohort, `... kamal-proxy stats <prefix>`
    /// (Wharf's proxy only).
    pub fn proxy_stats(&self) -> Cmd {
        self.proxy_exec(cmd!["stats", self.r().container_prefix()])
    }

    /// Wharf's canary: the file that records a role's canary version on the host,
    /// `.kamal/apps/<app>/canary-<role>`.
    pub fn canary_file(&self) -> String {
        file_join(&[&self.config.app_directory(), &format!("canary-{}", self.r().name())])
    }

    /// Wharf's canary: records `version` as the role's canary on the host.
    pub fn write_canary(&self, version: &str) -> Cmd {
        and(parts![make_directory(&self.config.app_directory()), cmd!["echo", version, ">", self.canary_file()]])
    }

    /// Wharf's canary: the role's canary version on the host, if any (`cat ... 2> /dev/null`).
    pub fn read_canary(&self) -> Cmd {
        cmd!["cat", self.canary_file(), "2> /dev/null", "|| true"]
    }

    /// Wharf's canary: forgets the role's canary on the host.
    pub fn remove_canary(&self) -> Cmd {
        cmd!["rm", "-f", self.canary_file()]
    }

    /// Wharf's diagnosis of a version that did not become healthy: the state of its container,
    /// `docker container inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}' <name>`.
    pub fn container_state(&self, version: &str) -> Cmd {
        docker(cmd![
            "container",
            "inspect",
            "--format",
            "'{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}'",
            self.container_name(Some(version))
        ])
    }

    /// Wharf's diagnosis: the proxy's last failed health checks of `version`'s container (its
    /// `Healthcheck failed` log lines, as upstream kamal-proxy writes them, for URLs on the
    /// container's id): `docker logs kamal-proxy --since 15m 2>&1 | grep -F '"Healthcheck failed"'
    /// | grep -F "http://$(docker container ls ... --quiet):" | tail -n 10`.
    pub fn proxy_health_check_failures(&self, version: &str) -> Cmd {
        let id = self.container_id_for_version(version, false).to_string();
        pipe(vec![
            Some(docker(cmd!["logs", self.config.proxy_boot().container_name(), "--since", "15m", "2>&1"])),
            Some(cmd!["grep", "-F", "'\"Healthcheck failed\"'"]),
            Some(cmd!["grep", "-F", format!("\"http://$({id}):\"")]),
            Some(cmd!["tail", "-n", "10"]),
        ])
    }

    /// Wharf's diagnosis: the proxy's view of its services, `docker exec kamal-proxy kamal-proxy list`.
    pub fn proxy_list(&self) -> Cmd {
        self.proxy_exec(cmd!["list"])
    }

    /// `remove`: `docker exec kamal-proxy kamal-proxy remove <prefix>`.
    pub fn remove(&self) -> Cmd {
        self.proxy_exec(cmd!["remove", self.r().container_prefix()])
    }

    /// `live`: `docker exec kamal-proxy kamal-proxy resume <prefix>`.
    pub fn live(&self) -> Cmd {
        self.proxy_exec(cmd!["resume", self.r().container_prefix()])
    }

    /// `maintenance(drain_timeout:, message:)`: `... kamal-proxy stop <prefix> [--drain-timeout="Ns"]
    /// [--message="..."]`.
    pub fn maintenance(&self, drain_timeout: Option<u64>, message: Option<&str>) -> Cmd {
        let role = self.r();
        let args = role.proxy().map(|p| p.stop_command_args(drain_timeout, message)).unwrap_or_default();
        self.proxy_exec(cmd!["stop", role.container_prefix(), args])
    }

    /// `remove_proxy_app_directory`: `rm -r .kamal/proxy/apps-config/<app>`.
    pub fn remove_proxy_app_directory(&self) -> Cmd {
        remove_directory(&self.config.proxy_boot().app_directory())
    }

    /// `create_ssl_directory`: `mkdir -p .kamal/proxy/apps-config/<app>/tls/<role>`.
    pub fn create_ssl_directory(&self) -> Cmd {
        make_directory(&file_join(&[&self.config.proxy_boot().tls_directory(), self.r().name()]))
    }

    fn proxy_exec(&self, command: Cmd) -> Cmd {
        docker(cmd!["exec", self.config.proxy_boot().container_name(), "kamal-proxy", command])
    }
}

fn copy_contents(source: &str, destination: &str, continue_on_error: bool) -> Cmd {
    cmd!["cp", "-rnT", source, destination, continue_on_error.then_some("|| true")]
}

/// `("grep '#{grep}'#{" #{grep_options}" if grep_options}" if grep)`.
pub(crate) fn grep_single_quoted(grep: Option<&str>, grep_options: Option<&str>) -> Option<String> {
    grep.map(|g| match grep_options {
        Some(o) => format!("grep '{g}' {o}"),
        None => format!("grep '{g}'"),
    })
}

/// `(%(grep "#{grep}"#{" #{grep_options}" if grep_options}) if grep)`.
pub(crate) fn grep_double_quoted(grep: Option<&str>, grep_options: Option<&str>) -> Option<String> {
    grep.map(|g| match grep_options {
        Some(o) => format!("grep \"{g}\" {o}"),
        None => format!("grep \"{g}\""),
    })
}
