//! Wharf's command line: Kamal's command tree, options and aliases, flag for flag. As in Kamal,
//! `-h` is `--hosts` (help is `--help`), and every command takes the global options.

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "wharf",
    disable_help_flag = true,
    disable_version_flag = true,
    about = "Deploy web apps anywhere, with zero downtime (compatible with Kamal)"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone, Default)]
pub struct Global {
    /// Print help
    #[arg(long, global = true, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// Detailed logging
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,
    /// Minimal logging
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
    /// Run commands against a specific app version
    #[arg(long, global = true)]
    pub version: Option<String>,
    /// Run commands only on primary host instead of all
    #[arg(short = 'p', long, global = true)]
    pub primary: bool,
    /// Run commands on these hosts instead of all (separate by comma, supports wildcards with *)
    #[arg(short = 'h', long, global = true)]
    pub hosts: Option<String>,
    /// Run commands on these roles instead of all (separate by comma, supports wildcards with *)
    #[arg(short = 'r', long, global = true)]
    pub roles: Option<String>,
    /// Path to config file
    #[arg(short = 'c', long, global = true, default_value = "config/deploy.yml")]
    pub config_file: String,
    /// Specify destination to be used for config file (staging -> deploy.staging.yml)
    #[arg(short = 'd', long, global = true)]
    pub destination: Option<String>,
    /// Don't run hooks
    #[arg(short = 'H', long, global = true)]
    pub skip_hooks: bool,
    /// Wait for the deploy lock if it's already held instead of failing immediately
    #[arg(long, global = true)]
    pub lock_wait: bool,
    /// Maximum seconds to wait for the deploy lock when --lock-wait is set
    #[arg(long, global = true, default_value_t = 900)]
    pub lock_wait_timeout: u64,
    /// Seconds between deploy lock polls when --lock-wait is set
    #[arg(long, global = true, default_value_t = 15)]
    pub lock_wait_interval: u64,
}

/// `--output text|json` on the long commands (Wharf): Kamal's lines, or one JSON event per line
/// on stdout (docs/events.md), Kamal's lines then on stderr.
#[derive(Args, Debug, Clone, Default)]
pub struct OutputFlag {
    /// Progress as Kamal's lines (text) or as JSON events, one per line on stdout (json; Wharf)
    #[arg(long, value_enum, default_value = "text", value_name = "FORMAT")]
    pub output: OutputFormatArg,
}

/// The shells `wharf completion` writes a script for.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OutputFormatArg {
    #[default]
    Text,
    Json,
}

#[derive(Args, Debug, Clone, Default)]
pub struct DeployFlags {
    /// Skip image build and push
    #[arg(short = 'P', long)]
    pub skip_push: bool,
    /// Build without using Docker's build cache
    #[arg(long)]
    pub no_cache: bool,
    /// Print every command that would run, per host, without changing anything (Wharf)
    #[arg(long)]
    pub plan: bool,
    /// If any server fails to boot the new version, switch the others back to the previous one (Wharf)
    #[arg(long)]
    pub fleet_transaction: bool,
    /// Boot the new version beside the running one for this share of users, e.g. 10% (default: x-wharf canary percent); users are told apart by their kamal-rollout cookie (Wharf)
    #[arg(long, value_name = "PERCENT", num_args = 0..=1, default_missing_value = "")]
    pub canary: Option<String>,
    /// kamal-rollout cookie values always sent to the canary, comma-separated (Wharf)
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub canary_list: Vec<String>,
    /// Judge the canary by live traffic for the x-wharf canary gate's window, then promote or abort it (Wharf)
    #[arg(long)]
    pub canary_gate: bool,
    /// Boot the new version beside the running one, health-checked, without traffic; then `promote` or `discard` (Wharf)
    #[arg(long, conflicts_with_all = ["canary", "canary_list", "canary_gate"])]
    pub no_switch: bool,
    #[command(flatten)]
    pub output: OutputFlag,
}

#[derive(Args, Debug, Clone, Default)]
pub struct Confirm {
    /// Proceed without confirmation question
    #[arg(short = 'y', long)]
    pub confirmed: bool,
}

#[derive(Args, Debug, Clone, Default)]
pub struct LogsFlags {
    /// Show lines since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)
    #[arg(short = 's', long)]
    pub since: Option<String>,
    /// Number of lines to show from each server
    #[arg(short = 'n', long)]
    pub lines: Option<u64>,
    /// Show lines with grep match only (use this to fetch specific requests by id)
    #[arg(short = 'g', long)]
    pub grep: Option<String>,
    /// Additional options supplied to grep
    #[arg(long)]
    pub grep_options: Option<String>,
    /// Follow log on primary server (or specific host set by --hosts)
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Skip appending timestamps to logging output
    #[arg(short = 'T', long)]
    pub skip_timestamps: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Setup all accessories, push the env, and deploy app to servers
    Setup(DeployFlags),
    /// Deploy app to servers
    Deploy(DeployFlags),
    /// Deploy app to servers without bootstrapping servers, starting kamal-proxy and pruning
    Redeploy(DeployFlags),
    /// Rollback app to VERSION
    Rollback {
        version: String,
        /// Print every command that would run, per host, without changing anything (Wharf)
        #[arg(long)]
        plan: bool,
        /// If any server fails to boot the version, switch the others back (Wharf)
        #[arg(long)]
        fleet_transaction: bool,
        #[command(flatten)]
        output: OutputFlag,
    },
    /// Show details about all containers
    Details,
    /// Show audit log from servers
    Audit,
    /// Show combined config (including secrets!)
    Config,
    /// Show Kamal configuration documentation
    Docs { section: Option<String> },
    /// Create config stub in config/deploy.yml and secrets stub in .kamal
    Init {
        /// Add Kamal to the Gemfile and create a bin/kamal binstub
        #[arg(long)]
        bundle: bool,
    },
    /// Remove kamal-proxy, app, accessories, and registry session from servers
    Remove {
        #[command(flatten)]
        confirm: Confirm,
        /// Print every command that would run, per host, without changing anything (Wharf)
        #[arg(long)]
        plan: bool,
        #[command(flatten)]
        output: OutputFlag,
    },
    /// Upgrade from Kamal 1.x to 2.0
    Upgrade {
        #[command(flatten)]
        confirm: Confirm,
        /// Upgrade one host at a time
        #[arg(long)]
        rolling: bool,
    },
    /// Show Wharf version
    Version,
    /// Print a tree of all available commands
    Tree,
    /// Print a shell completion script: bash, zsh or fish (Wharf)
    Completion {
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Manage accessories (db/redis/search)
    #[command(subcommand)]
    Accessory(AccessoryCommand),
    /// Manage application
    #[command(subcommand)]
    App(AppCommand),
    /// Build application image
    #[command(subcommand)]
    Build(BuildCommand),
    /// Manage a canary deploy: status, promote, abort (Wharf)
    #[command(subcommand)]
    Canary(CanaryCommand),
    /// Switch everyone to the version `deploy --no-switch` booted, on every server (Wharf)
    Promote,
    /// Remove the version `deploy --no-switch` booted (Wharf)
    Discard,
    /// Manage the deploy lock
    #[command(subcommand)]
    Lock(LockCommand),
    /// Manage kamal-proxy
    #[command(subcommand)]
    Proxy(ProxyCommand),
    /// Prune old application images and containers
    #[command(subcommand)]
    Prune(PruneCommand),
    /// Login and -out of the image registry
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Helpers for extracting secrets
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Wharf plugins: list, inspect, fetch, verify, push, pack (Wharf)
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Bootstrap servers with curl and Docker
    #[command(subcommand)]
    Server(ServerCommand),
    /// An alias from deploy.yml, expanded before parsing
    #[command(external_subcommand)]
    External(Vec<String>),
}

#[derive(Subcommand, Debug)]
pub enum AppCommand {
    /// Boot app on servers (or reboot app if already running)
    Boot {
        /// Print every command that would run, per host, without changing anything (Wharf)
        #[arg(long)]
        plan: bool,
        #[command(flatten)]
        output: OutputFlag,
    },
    /// Start existing app container on servers
    Start,
    /// Stop app container on servers
    Stop,
    /// Show details about app containers
    Details,
    /// Execute a custom command on servers within the app container (use --help to show options)
    Exec {
        /// Execute command over ssh for an interactive shell (use for console/bash)
        #[arg(short = 'i', long)]
        interactive: bool,
        /// Reuse currently running container instead of starting a new one
        #[arg(long)]
        reuse: bool,
        /// Set environment variables for the command: -e KEY:VALUE [KEY:VALUE...] (Thor's hash: the pairs up to the first word without a colon)
        #[arg(short = 'e', long = "env", value_name = "KEY:VALUE")]
        env: Vec<String>,
        /// Execute command in a detached container
        #[arg(long)]
        detach: bool,
        /// Output raw, unmodified stdout
        #[arg(long)]
        raw: bool,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        cmd: Vec<String>,
    },
    /// Show app containers on servers
    Containers,
    /// Detect app stale containers
    #[command(alias = "stale_containers")]
    StaleContainers {
        /// Stop the stale containers found
        #[arg(short = 's', long)]
        stop: bool,
    },
    /// Show app images on servers
    Images,
    /// Show log lines from app on servers (use --help to show options)
    Logs {
        #[command(flatten)]
        flags: LogsFlags,
        /// Docker container ID to fetch logs
        #[arg(long)]
        container_id: Option<String>,
    },
    /// Remove app containers and images from servers
    Remove,
    /// Set the app to live mode
    Live,
    /// Set the app to maintenance mode
    Maintenance {
        /// How long to allow in-flight requests to complete (defaults to drain_timeout from config)
        #[arg(long)]
        drain_timeout: Option<u64>,
        /// Message to display to clients while stopped
        #[arg(long)]
        message: Option<String>,
    },
    /// Show app version currently running on servers
    Version,
    #[command(hide = true)]
    #[command(alias = "remove_container")]
    RemoveContainer { version: String },
    #[command(hide = true)]
    #[command(alias = "remove_containers")]
    RemoveContainers,
    #[command(hide = true)]
    #[command(alias = "remove_images")]
    RemoveImages,
    #[command(hide = true)]
    #[command(alias = "remove_app_directories")]
    RemoveAppDirectories,
}

#[derive(Subcommand, Debug)]
pub enum AccessoryCommand {
    /// Boot new accessory service on host (use NAME=all to boot all accessories)
    Boot {
        name: String,
        #[command(flatten)]
        output: OutputFlag,
    },
    /// Reboot existing accessory on host (stop container, remove container, start new container; use NAME=all to boot all accessories)
    Reboot {
        name: String,
        #[command(flatten)]
        output: OutputFlag,
    },
    /// Start existing accessory container on host
    Start { name: String },
    /// Stop existing accessory container on host
    Stop { name: String },
    /// Restart existing accessory container on host
    Restart { name: String },
    /// Show details about accessory on host (use NAME=all to show all accessories)
    Details { name: String },
    /// Execute a custom command on servers within the accessory container (use --help to show options)
    Exec {
        name: String,
        /// Execute command over ssh for an interactive shell (use for console/bash)
        #[arg(short = 'i', long)]
        interactive: bool,
        /// Reuse currently running container instead of starting a new one
        #[arg(long)]
        reuse: bool,
        /// Output raw, unmodified stdout
        #[arg(long)]
        raw: bool,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        cmd: Vec<String>,
    },
    /// Show log lines from accessory on host (use --help to show options)
    Logs {
        name: String,
        #[command(flatten)]
        flags: LogsFlags,
    },
    /// Remove accessory container, image and data directory from host (use NAME=all to remove all accessories)
    Remove {
        name: String,
        #[command(flatten)]
        confirm: Confirm,
    },
    /// Upgrade accessories from Kamal 1.x to 2.0 (restart them in 'kamal' network)
    Upgrade {
        name: String,
        /// Upgrade one host at a time
        #[arg(long)]
        rolling: bool,
        #[command(flatten)]
        confirm: Confirm,
    },
    #[command(hide = true)]
    Upload { name: String },
    #[command(hide = true)]
    Directories { name: String },
    #[command(hide = true)]
    #[command(alias = "pull_image")]
    PullImage { name: String },
    #[command(hide = true)]
    #[command(alias = "remove_container")]
    RemoveContainer { name: String },
    #[command(hide = true)]
    #[command(alias = "remove_image")]
    RemoveImage { name: String },
    #[command(hide = true)]
    #[command(alias = "remove_service_directory")]
    RemoveServiceDirectory { name: String },
}

#[derive(Subcommand, Debug)]
pub enum BuildCommand {
    /// Build app and push app image to registry then pull image on servers
    Deliver,
    /// Build and push app image to registry
    Push {
        /// Exported type for the build result, and may be any exported type supported by 'buildx --output'
        #[arg(long, default_value = "registry", value_name = "EXPORT_TYPE")]
        output: String,
        /// Build without using Docker's build cache
        #[arg(long)]
        no_cache: bool,
    },
    /// Pull app image from registry onto servers
    Pull,
    /// Create a build setup
    Create,
    /// Remove build setup
    Remove,
    /// Show build setup
    Details,
    /// Build using the working directory, tag it as dirty, and push to local image store.
    #[command(verbatim_doc_comment)]
    Dev {
        /// Exported type for the build result, and may be any exported type supported by 'buildx --output'
        #[arg(long, default_value = "docker", value_name = "EXPORT_TYPE")]
        output: String,
        /// Build without using Docker's build cache
        #[arg(long)]
        no_cache: bool,
    },
}

/// `proxy boot_config set`'s options, as Kamal's (Thor booleans take `true`/`false`).
#[derive(Args, Debug)]
pub struct BootConfigOptions {
    /// Publish the proxy ports on the host
    #[arg(long, default_value = "true", num_args = 0..=1, default_missing_value = "true", value_parser = thor_boolean)]
    publish: bool,
    /// Host IP address to bind HTTP/HTTPS traffic to. Defaults to all interfaces
    #[arg(long)]
    publish_host_ip: Vec<String>,
    /// HTTP port to publish on the host
    #[arg(long, default_value_t = 80)]
    http_port: u16,
    /// HTTPS port to publish on the host
    #[arg(long, default_value_t = 443)]
    https_port: u16,
    /// Max size of proxy logs
    #[arg(long, default_value = "10m")]
    log_max_size: String,
    /// Registry to use for the proxy image
    #[arg(long)]
    registry: Option<String>,
    /// Repository for the proxy image
    #[arg(long)]
    repository: Option<String>,
    /// Version of the proxy to run
    #[arg(long)]
    image_version: Option<String>,
    /// Port to report prometheus metrics on
    #[arg(long)]
    metrics_port: Option<u16>,
    /// Whether to run the proxy in debug mode
    #[arg(long, default_value = "false", num_args = 0..=1, default_missing_value = "true", value_parser = thor_boolean)]
    debug: bool,
    /// Docker options to pass to the proxy container
    #[arg(long, num_args = 0.., value_name = "option=value")]
    docker_options: Vec<String>,
}

impl From<BootConfigOptions> for wharf_deploy::proxy::boot_config::SetOptions {
    fn from(o: BootConfigOptions) -> Self {
        wharf_deploy::proxy::boot_config::SetOptions {
            publish: o.publish,
            publish_host_ip: o.publish_host_ip,
            http_port: o.http_port,
            https_port: o.https_port,
            log_max_size: o.log_max_size,
            registry: o.registry,
            repository: o.repository,
            image_version: o.image_version,
            metrics_port: o.metrics_port,
            debug: o.debug,
            docker_options: o.docker_options,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum CanaryCommand {
    /// Show the canary on each server and what the proxy counted for its users and for the rest
    Status,
    /// Switch everyone to the canary on every server, stop the old version, boot the other roles
    Promote,
    /// Send everyone back to the running version and remove the canary containers
    Abort,
}

#[derive(Subcommand, Debug)]
pub enum LockCommand {
    /// Report lock status
    Status,
    /// Acquire the deploy lock
    Acquire {
        /// A lock message
        #[arg(short = 'm', long, required = true)]
        message: String,
    },
    /// Release the deploy lock
    Release,
}

#[derive(Subcommand, Debug)]
pub enum ProxyCommand {
    /// Boot proxy on servers
    Boot {
        #[command(flatten)]
        output: OutputFlag,
    },
    /// Manage kamal-proxy boot configuration
    #[command(alias = "boot_config")]
    BootConfig {
        /// set, get or reset
        subcommand: String,
        #[command(flatten)]
        options: BootConfigOptions,
    },
    /// Reboot proxy on servers (stop container, remove container, start new container)
    Reboot {
        /// Reboot proxy on hosts in sequence, rather than in parallel
        #[arg(long)]
        rolling: bool,
        /// Hand traffic over to the new proxy without dropping a request (Wharf: a second proxy
        /// answers while kamal-proxy is replaced; needs iptables as root on the servers)
        #[arg(long)]
        zero_downtime: bool,
        #[command(flatten)]
        confirm: Confirm,
        #[command(flatten)]
        output: OutputFlag,
    },
    /// Upgrade to kamal-proxy on servers (stop container, remove container, start new container, reboot app)
    #[command(hide = true)]
    Upgrade {
        /// Upgrade one host at a time
        #[arg(long)]
        rolling: bool,
        #[command(flatten)]
        confirm: Confirm,
    },
    /// Start existing proxy container on servers
    Start,
    /// Stop existing proxy container on servers
    Stop,
    /// Restart existing proxy container on servers
    Restart,
    /// Show details about proxy container from servers
    Details,
    /// Show log lines from proxy on servers
    Logs {
        #[command(flatten)]
        flags: LogsFlags,
    },
    /// Remove proxy container and image from servers
    Remove {
        /// Force removing proxy when apps are still installed
        #[arg(long)]
        force: bool,
    },
    #[command(hide = true)]
    #[command(alias = "remove_container")]
    RemoveContainer,
    #[command(hide = true)]
    #[command(alias = "remove_image")]
    RemoveImage,
    #[command(hide = true)]
    #[command(alias = "remove_proxy_directory")]
    RemoveProxyDirectory,
}

#[derive(Subcommand, Debug)]
pub enum PruneCommand {
    /// Prune unused images and stopped containers
    All {
        #[command(flatten)]
        output: OutputFlag,
    },
    /// Prune unused images
    Images {
        #[command(flatten)]
        output: OutputFlag,
    },
    /// Prune all stopped containers, except the last n (default 5)
    Containers {
        /// Number of containers to retain
        #[arg(long, value_name = "N")]
        retain: Option<usize>,
        #[command(flatten)]
        output: OutputFlag,
    },
}

#[derive(Args, Debug, Clone, Default)]
pub struct RegistryFlags {
    /// Skip local login
    #[arg(short = 'L', long)]
    pub skip_local: bool,
    /// Skip remote login
    #[arg(short = 'R', long)]
    pub skip_remote: bool,
}

#[derive(Subcommand, Debug)]
pub enum RegistryCommand {
    /// Setup local registry or log in to remote registry locally and remotely
    Setup(RegistryFlags),
    /// Remove local registry or log out of remote registry locally and remotely
    Remove(RegistryFlags),
    /// Log in to remote registry locally and remotely
    Login(RegistryFlags),
    /// Log out of remote registry locally and remotely
    Logout(RegistryFlags),
}

#[derive(Subcommand, Debug)]
pub enum SecretsCommand {
    /// Fetch secrets from a vault
    Fetch {
        /// Which vault adapter to use
        #[arg(short = 'a', long, required = true)]
        adapter: String,
        /// The account identifier or username
        #[arg(long)]
        account: Option<String>,
        /// A vault or folder to fetch the secrets from
        #[arg(long)]
        from: Option<String>,
        #[arg(long, hide = true)]
        inline: bool,
        secrets: Vec<String>,
    },
    /// Extract a single secret from the results of a fetch call
    Extract {
        name: String,
        secrets: String,
        #[arg(long, hide = true)]
        inline: bool,
    },
    /// Print the secrets (for debugging)
    Print,
}

#[derive(Subcommand, Debug)]
pub enum ServerCommand {
    /// Run a custom command on the server (use --help to show options)
    Exec {
        /// Run the command interactively (use for console/bash)
        #[arg(short = 'i', long)]
        interactive: bool,
        /// Output raw, unmodified stdout
        #[arg(long)]
        raw: bool,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        cmd: Vec<String>,
    },
    /// Set up Docker to run Kamal apps
    Bootstrap,
}

/// `wharf plugin ...` (see wharf_deploy::plugins::commands).
#[derive(Subcommand, Debug)]
pub enum PluginCommand {
    /// List the built-in plugins and those configured in deploy.yml
    List,
    /// Show a plugin's manifest, capabilities, digest and component interface
    Inspect {
        /// A configured plugin's name, a built-in's name, or a source (path, https://, oci://, builtin:)
        plugin: String,
        /// The sha256 of an https:// source
        #[arg(long)]
        sha256: Option<String>,
    },
    /// Resolve every configured plugin, fill the cache and write .kamal/plugins.lock
    Fetch,
    /// Check every configured plugin against .kamal/plugins.lock
    Verify,
    /// Pack SOURCE if needed and push it to an OCI registry
    Push {
        /// A plugin.toml, a directory holding one, or a packed .wasm (or any other source)
        source: String,
        /// Where to push: oci://REGISTRY/REPOSITORY:TAG
        reference: String,
    },
    /// Write a self-contained plugin file (the component with its plugin.toml inside)
    Pack {
        /// A plugin.toml or a directory holding one
        manifest: String,
        /// The file to write (default: NAME.wasm)
        #[arg(short = 'o', long)]
        output: Option<String>,
    },
}

impl Global {
    /// The options as the deploy library takes them.
    pub fn options(&self) -> wharf_deploy::GlobalOptions {
        wharf_deploy::GlobalOptions {
            verbose: self.verbose,
            quiet: self.quiet,
            version: self.version.clone(),
            primary: self.primary,
            hosts: self.hosts.clone(),
            roles: self.roles.clone(),
            config_file: self.config_file.clone(),
            destination: self.destination.clone(),
            skip_hooks: self.skip_hooks,
            lock_wait: self.lock_wait,
            lock_wait_timeout: self.lock_wait_timeout,
            lock_wait_interval: self.lock_wait_interval,
            docker_arch: None,
        }
    }
}

/// A Thor boolean option's optional value: `true` or `false` (`--publish false`).
fn thor_boolean(value: &str) -> Result<bool, String> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!("expected true or false, got {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    fn argv(words: &str) -> Vec<String> {
        std::iter::once("wharf").chain(words.split(' ')).map(str::to_string).collect()
    }

    #[test]
    fn boot_config_takes_kamals_options_as_thor_parses_them() {
        let words = "proxy boot_config set --publish false --debug true --metrics_port 9000 --image_version 0.9.9 --docker_options label=foo=bar add_host=a:b -c x.yml";
        let cli = Cli::try_parse_from(crate::thor::normalize(&Cli::command(), argv(words)).unwrap()).unwrap();
        let Command::Proxy(ProxyCommand::BootConfig { subcommand, options: o }) = cli.command else {
            panic!("not boot_config")
        };
        assert_eq!(subcommand, "set");
        let set: wharf_deploy::proxy::boot_config::SetOptions = o.into();
        assert!(!set.publish && set.debug);
        assert_eq!((set.metrics_port, set.image_version.as_deref()), (Some(9000), Some("0.9.9")));
        assert_eq!(set.docker_options, ["label=foo=bar", "add_host=a:b"]);
        assert_eq!(cli.global.config_file, "x.yml");
    }
}
