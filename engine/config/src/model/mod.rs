//! The resolved configuration: Kamal's `Kamal::Configuration` and its parts, with Kamal's
//! computed values as methods named like Kamal's (Ruby predicates `foo?` become `foo()` or
//! `is_foo()`). No I/O: everything is computed from the loaded YAML, the destination, the
//! version, the environment and a [`SecretLookup`].
//!
//! [`Configuration::new`] runs Kamal's constructor: validation of every section in Kamal's order,
//! then the `ensure_*` checks, so the first error is the one Kamal would raise.

mod accessory;
mod alias;
mod boot;
mod builder;
mod docker_options;
mod env;
mod logging;
mod output;
mod proxy;
mod registry;
mod role;
mod ssh;
mod volume;

pub use accessory::{Accessory, AccessoryPath, DEFAULT_NETWORK};
pub use alias::Alias;
pub use boot::Boot;
pub use builder::Builder;
pub use env::{Env, EnvTag};
pub use logging::Logging;
pub use output::Output;
pub use proxy::{
    Proxy, ProxyBoot, ProxyRun, CONTAINER_NAME as PROXY_CONTAINER_NAME, DEFAULT_HTTPS_PORT, DEFAULT_HTTP_PORT,
    DEFAULT_LOG_MAX_SIZE, DEFAULT_LOG_REQUEST_HEADERS, MINIMUM_VERSION as PROXY_MINIMUM_VERSION,
};
pub use registry::Registry;
pub use role::Role;
pub use ssh::{Ssh, SshProxy, Sshkit, KEY_DATA_DEPRECATION};
pub use volume::Volume;

use crate::error::ConfigError;
use crate::options::LoadOptions;
use crate::ruby::{file_join, get, present, present_opt, to_s, truthy, GemVersion};
use crate::secrets::SecretLookup;
use crate::validate;
use builder::DockerArch;
use serde_yaml::{Mapping, Value};
use std::sync::{Arc, RwLock};

/// `hooks_output` levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HooksOutput {
    /// `:quiet`
    Quiet,
    /// `:verbose`
    Verbose,
}

/// What every part of the configuration shares.
pub(crate) struct Context {
    pub(crate) raw: Value,
    pub(crate) destination: Option<String>,
    pub(crate) version: RwLock<Option<String>>,
    /// Why there is no version (no git repository), for a command that may do without one.
    pub(crate) version_unavailable: RwLock<Option<String>>,
    pub(crate) secrets: Arc<dyn SecretLookup>,
    pub(crate) docker_arch: DockerArch,
}

impl Context {
    pub(crate) fn raw_get(&self, key: &str) -> Option<&Value> {
        get(&self.raw, key)
    }

    pub(crate) fn service(&self) -> String {
        self.raw_get("service").map(to_s).unwrap_or_default()
    }

    pub(crate) fn service_and_destination(&self) -> String {
        match &self.destination {
            Some(d) => format!("{}-{d}", self.service()),
            None => self.service(),
        }
    }

    pub(crate) fn version(&self) -> String {
        self.version.read().unwrap().clone().unwrap_or_default()
    }

    fn or_default(&self, key: &str, default: i64) -> Value {
        self.raw_get(key).filter(|v| truthy(Some(v))).cloned().unwrap_or(Value::Number(default.into()))
    }

    pub(crate) fn deploy_timeout(&self) -> Value {
        self.or_default("deploy_timeout", 30)
    }

    pub(crate) fn drain_timeout(&self) -> Value {
        self.or_default("drain_timeout", 30)
    }

    pub(crate) fn stop_timeout(&self) -> Option<Value> {
        self.raw_get("stop_timeout").filter(|v| truthy(Some(v))).cloned()
    }

    pub(crate) fn error_pages_path(&self) -> Option<String> {
        self.raw_get("error_pages_path").filter(|v| truthy(Some(v))).map(to_s)
    }

    pub(crate) fn run_directory(&self) -> String {
        ".kamal".into()
    }

    pub(crate) fn apps_directory(&self) -> String {
        file_join(&[&self.run_directory(), "apps"])
    }

    pub(crate) fn app_directory(&self) -> String {
        file_join(&[&self.apps_directory(), &self.service_and_destination()])
    }

    pub(crate) fn env_directory(&self) -> String {
        file_join(&[&self.app_directory(), "env"])
    }

    pub(crate) fn assets_directory(&self) -> String {
        file_join(&[&self.app_directory(), "assets"])
    }

    pub(crate) fn proxy_boot(&self) -> ProxyBoot {
        ProxyBoot::new(self.run_directory(), self.service_and_destination())
    }

    pub(crate) fn primary_role_name(&self) -> String {
        self.raw_get("primary_role").filter(|v| truthy(Some(v))).map(to_s).unwrap_or_else(|| "web".into())
    }

    pub(crate) fn env(&self) -> Env {
        Env::new(self.raw_get("env").unwrap_or(&Value::Null), self.secrets.clone())
    }

    pub(crate) fn env_tags(&self) -> Vec<EnvTag> {
        match self.raw_get("env").and_then(|e| get(e, "tags")) {
            Some(Value::Mapping(tags)) => {
                tags.iter().map(|(name, config)| EnvTag::new(to_s(name), config, self.secrets.clone())).collect()
            }
            _ => vec![],
        }
    }

    pub(crate) fn env_tag(&self, name: &str) -> Option<EnvTag> {
        self.env_tags().into_iter().find(|t| t.name() == name)
    }

    pub(crate) fn logging(&self) -> Logging {
        Logging::new(self.raw_get("logging"))
    }
}

/// The whole configuration: Kamal's `Kamal::Configuration`.
#[derive(Clone)]
pub struct Configuration {
    pub(crate) ctx: Arc<Context>,
    roles: Vec<Role>,
    accessories: Vec<Accessory>,
    aliases: Vec<Alias>,
    boot: Boot,
    builder: Builder,
    env: Env,
    logging: Logging,
    output: Output,
    proxy: Proxy,
    ssh: Ssh,
    sshkit: Sshkit,
    registry: Registry,
    wharf: crate::extension::WharfExtension,
    /// ENV changes made by the templates (see [`Configuration::erb_env_changes`]).
    pub(crate) env_changes: Vec<(String, Option<String>)>,
}

impl std::fmt::Debug for Configuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Configuration")
            .field("service", &self.service())
            .field("destination", &self.destination())
            .field("roles", &self.roles)
            .field("accessories", &self.accessories)
            .finish()
    }
}

/// `Kamal::Utils.docker_arch`: the local docker's architecture as Kamal asks for it
/// (`docker info --format '{{.Architecture}}'`, `aarch64` → `arm64`, `x86_64` → `amd64`, else
/// as reported, empty when docker does not answer).
fn probe_docker_arch(options: &LoadOptions) -> String {
    let cwd = options.cwd.clone().or_else(|| std::env::current_dir().ok()).unwrap_or_default();
    let ctx = wharf_erb::Context::new(options.env.clone(), cwd);
    wharf_erb::Evaluator::new(ctx).render("<%= Kamal::Utils.docker_arch %>").unwrap_or_default()
}

/// Maps the machine's architecture to docker's name for it (what `docker info` reports).
pub fn host_docker_arch() -> String {
    match std::env::consts::ARCH {
        "x86_64" => "amd64".into(),
        "aarch64" => "arm64".into(),
        other => other.into(),
    }
}

impl Configuration {
    /// Validates and resolves an already loaded config (`Kamal::Configuration.new(raw_config,
    /// destination:, version:)`). `raw` is the merged YAML (root keys as strings). The
    /// `config_file` of `options` is not read, and the `.kamal/hooks/*traefik*` check is skipped
    /// (it needs the file system: [`Configuration::load`] does it).
    pub fn new(raw: Value, options: &LoadOptions) -> Result<Configuration, ConfigError> {
        Self::build(raw, options, None)
    }

    pub(crate) fn build(
        raw: Value,
        options: &LoadOptions,
        hook_exists: Option<&dyn Fn(&str) -> bool>,
    ) -> Result<Configuration, ConfigError> {
        let raw = match raw {
            Value::Mapping(m) => Value::Mapping(symbolize_root(m)),
            other => {
                return Err(ConfigError::configuration(format!(
                    "Configuration should be a hash, found: {}",
                    crate::ruby::inspect(&other)
                )))
            }
        };
        let version = options
            .version
            .clone()
            .filter(|v| !crate::ruby::blank_str(v))
            .or_else(|| options.env.get("VERSION").cloned());
        let ctx = Arc::new(Context {
            raw: raw.clone(),
            destination: options.destination.clone(),
            version: RwLock::new(version),
            version_unavailable: RwLock::new(None),
            secrets: options.secrets.clone(),
            docker_arch: match &options.docker_arch {
                Some(arch) => DockerArch::known(arch.clone()),
                // asked of docker when first needed, as Kamal does
                None if options.probe_docker_arch => {
                    let options = options.clone();
                    DockerArch::probed(move || probe_docker_arch(&options))
                }
                None => DockerArch::known(host_docker_arch()),
            },
        });
        let raw_get = |k: &str| get(&raw, k);

        // Kamal's constructor, in order.
        validate::validate_configuration(&raw)?;

        // Servers and roles
        let servers = raw_get("servers").cloned().unwrap_or(Value::Null);
        validate::validate_servers(&servers)?;
        let role_names: Vec<String> = match &servers {
            Value::Sequence(_) => vec!["web".into()],
            Value::Mapping(m) => {
                let mut names: Vec<String> = m.keys().map(to_s).collect();
                names.sort();
                names
            }
            _ => vec![],
        };
        let mut roles = vec![];
        for name in &role_names {
            let role_config = match &servers {
                Value::Sequence(_) => Value::Mapping(Mapping::new()),
                other => get(other, name).cloned().unwrap_or(Value::Null),
            };
            validate::validate_role(name, &role_config)?;
            if let Value::Mapping(_) = role_config {
                validate::validate_env(
                    get(&role_config, "env").unwrap_or(&Value::Mapping(Mapping::new())),
                    &format!("servers/{name}/env"),
                )?;
                validate::validate_logging(
                    get(&role_config, "logging").unwrap_or(&Value::Mapping(Mapping::new())),
                    &format!("servers/{name}/logging"),
                )?;
            }
            let role = Role::new(ctx.clone(), name.clone());
            if role.running_proxy() {
                let proxy_config = match get(role.specializations(), "proxy") {
                    None | Some(Value::Null) | Some(Value::Bool(true)) => Value::Mapping(Mapping::new()),
                    Some(v) => v.clone(),
                };
                validate::validate_proxy(&proxy_config, &format!("servers/{name}/proxy"))?;
            }
            roles.push(role);
        }

        // Registry
        let registry_config = raw_get("registry").cloned().unwrap_or(Value::Mapping(Mapping::new()));
        validate::validate_registry(&registry_config, "registry")?;
        let registry = Registry::new(Some(&registry_config), ctx.secrets.clone());

        // Accessories
        let mut accessories = vec![];
        if let Some(Value::Mapping(accs)) = raw_get("accessories") {
            let role_hosts = |name: &str| roles.iter().find(|r: &&Role| r.name() == name).map(|r| r.hosts());
            for (name, config) in accs {
                let name = to_s(name);
                validate::validate_accessory(&name, config)?;
                ensure_valid_accessory_roles(&name, config, &role_names)?;
                validate::validate_env(
                    get(config, "env").unwrap_or(&Value::Mapping(Mapping::new())),
                    &format!("accessories/{name}/env"),
                )?;
                if present_opt(get(config, "proxy")) {
                    validate::validate_proxy(get(config, "proxy").unwrap(), &format!("accessories/{name}/proxy"))?;
                }
                if present_opt(get(config, "registry")) {
                    validate::validate_registry(
                        get(config, "registry").unwrap(),
                        &format!("accessories/{name}/registry"),
                    )?;
                }
                accessories.push(Accessory::new(ctx.clone(), name, config.clone(), &role_hosts));
            }
        }

        // Aliases
        let mut aliases = vec![];
        if let Some(Value::Mapping(m)) = raw_get("aliases") {
            for (name, command) in m {
                let name = to_s(name);
                validate::validate_alias(&name, command)?;
                aliases.push(Alias::new(name, to_s(command)));
            }
        }

        // Boot (over all hosts)
        let all_hosts = all_hosts_of(&roles, &accessories);
        let boot_config = raw_get("boot").filter(|v| !v.is_null()).cloned().unwrap_or(Value::Mapping(Mapping::new()));
        validate::validate_section("boot", &boot_config)?;
        let boot = Boot::new(Some(&boot_config), all_hosts.len());

        // Builder
        let builder_config =
            raw_get("builder").filter(|v| !v.is_null()).cloned().unwrap_or(Value::Mapping(Mapping::new()));
        let image = image_of(&raw, &registry);
        let builder = Builder::new(
            Some(&builder_config),
            image.clone(),
            registry.server(),
            raw_get("service").map(to_s),
            ctx.docker_arch.clone(),
            ctx.secrets.clone(),
        );
        validate::validate_builder(&builder_config)?;

        // Env, logging, output
        let env_config = raw_get("env").filter(|v| !v.is_null()).cloned().unwrap_or(Value::Mapping(Mapping::new()));
        validate::validate_env(&env_config, "env")?;
        let env = Env::new(&env_config, ctx.secrets.clone());
        let logging_config =
            raw_get("logging").filter(|v| !v.is_null()).cloned().unwrap_or(Value::Mapping(Mapping::new()));
        validate::validate_logging(&logging_config, "logging")?;
        let logging = Logging::new(Some(&logging_config));
        let output_config =
            raw_get("output").filter(|v| !v.is_null()).cloned().unwrap_or(Value::Mapping(Mapping::new()));
        if !matches!(&output_config, Value::Mapping(m) if m.is_empty()) {
            validate::validate_section("output", &output_config)?;
        }
        if let Value::Mapping(m) = &output_config {
            for (key, settings) in m {
                match to_s(key).as_str() {
                    "otel" if !truthy(get(settings, "endpoint")) => {
                        return Err(ConfigError::argument("OTel endpoint is required"))
                    }
                    "file" if !truthy(get(settings, "path")) => {
                        return Err(ConfigError::argument("file path is required"))
                    }
                    _ => {}
                }
            }
        }
        let output = Output::new(Some(&output_config));

        // Proxy, ssh, sshkit
        let proxy_config = raw_get("proxy").cloned().unwrap_or(Value::Null);
        let proxy_config = if proxy_config.is_null() { Value::Mapping(Mapping::new()) } else { proxy_config };
        validate::validate_proxy(&proxy_config, "proxy")?;
        let proxy = Proxy::new(ctx.clone(), Some(&proxy_config), None);
        let ssh_config = raw_get("ssh").filter(|v| !v.is_null()).cloned().unwrap_or(Value::Mapping(Mapping::new()));
        validate::validate_section("ssh", &ssh_config)?;
        let ssh = Ssh::new(Some(&ssh_config), ctx.secrets.clone());
        let sshkit_config =
            raw_get("sshkit").filter(|v| !v.is_null()).cloned().unwrap_or(Value::Mapping(Mapping::new()));
        validate::validate_section("sshkit", &sshkit_config)?;
        let sshkit = Sshkit::new(raw_get("sshkit").filter(|v| !v.is_null()));

        for role in roles.iter_mut() {
            role.resolve_proxy(&proxy);
        }

        // Wharf's own settings (Kamal ignores root `x-*` keys).
        let wharf = crate::extension::WharfExtension::parse(&raw)?;

        let config = Configuration {
            ctx,
            roles,
            accessories,
            aliases,
            boot,
            builder,
            env,
            logging,
            output,
            proxy,
            ssh,
            sshkit,
            registry,
            wharf,
            env_changes: vec![],
        };
        config.ensure(options, hook_exists)?;
        Ok(config)
    }

    fn ensure(&self, options: &LoadOptions, hook_exists: Option<&dyn Fn(&str) -> bool>) -> Result<(), ConfigError> {
        // ensure_destination_if_required
        if self.require_destination() && options.destination.is_none() {
            return Err(ConfigError::argument("You must specify a destination"));
        }

        // ensure_required_keys_present
        for key in ["service", "registry"] {
            if !present_opt(self.ctx.raw_get(key)) {
                return Err(ConfigError::configuration(format!("Missing required configuration for {key}")));
            }
        }
        if self.image().map(|i| crate::ruby::blank_str(&i)).unwrap_or(true) {
            return Err(ConfigError::configuration("Missing required configuration for image"));
        }
        if self.ctx.raw_get("servers").map(|s| s.is_null()).unwrap_or(true) {
            if !present_opt(self.ctx.raw_get("accessories")) {
                return Err(ConfigError::configuration("No servers or accessories specified"));
            }
        } else {
            let primary = self.primary_role_name();
            let Some(primary_role) = self.role(&primary) else {
                return Err(ConfigError::configuration(format!("The primary_role {primary} isn't defined")));
            };
            if primary_role.hosts().is_empty() {
                return Err(ConfigError::configuration(format!(
                    "No servers specified for the {} primary_role",
                    primary_role.name()
                )));
            }
            if !self.allow_empty_roles() {
                for role in &self.roles {
                    if role.hosts().is_empty() {
                        return Err(ConfigError::configuration(format!(
                            "No servers specified for the {} role. You can ignore this with allow_empty_roles: true",
                            role.name()
                        )));
                    }
                }
            }
        }

        // ensure_valid_kamal_version
        if let Some(minimum) = self.minimum_version() {
            let min = GemVersion::parse(&minimum).map_err(ConfigError::argument)?;
            let current = GemVersion::parse(crate::KAMAL_VERSION).unwrap();
            if min > current {
                return Err(ConfigError::configuration(format!(
                    "Current version is {}, minimum required is {minimum}",
                    crate::KAMAL_VERSION
                )));
            }
        }

        // ensure_retain_containers_valid
        if self.retain_containers() < 1 {
            return Err(ConfigError::configuration("Must retain at least 1 container"));
        }

        // ensure_valid_service_name
        // `raw_config[:service] =~ /^[a-z0-9_-]+$/i`: only a string can match
        let service = match self.ctx.raw_get("service") {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        let line_matches =
            |l: &str| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !service.split('\n').any(line_matches) {
            return Err(ConfigError::configuration(
                "Service name can only include alphanumeric characters, hyphens, and underscores",
            ));
        }

        // ensure_no_traefik_reboot_hooks
        if let Some(exists) = hook_exists {
            let hooks: Vec<&str> = ["pre-traefik-reboot", "post-traefik-reboot"]
                .into_iter()
                .filter(|h| exists(&file_join(&[&self.hooks_path(), h])))
                .collect();
            if !hooks.is_empty() {
                return Err(ConfigError::configuration(format!(
                    "Found {}, these should be renamed to (pre|post)-proxy-reboot",
                    hooks.join(", ")
                )));
            }
        }

        // ensure_one_host_for_ssl_roles (the merged role proxies are validated here, lazily, in Kamal)
        for role in &self.roles {
            if let Some(proxy) = role.proxy() {
                validate::validate_proxy(proxy.config(), "proxy")?;
            }
            role.ensure_one_host_for_ssl()?;
        }

        // ensure_unique_hosts_for_ssl_roles
        let ssl_hosts: Vec<String> = self
            .roles
            .iter()
            .filter(|r| r.ssl())
            .flat_map(|r| r.proxy().map(|p| p.hosts()).unwrap_or_default())
            .collect();
        let mut duplicates: Vec<String> = vec![];
        for h in &ssl_hosts {
            if ssl_hosts.iter().filter(|x| *x == h).count() > 1 && !duplicates.contains(h) {
                duplicates.push(h.clone());
            }
        }
        if !duplicates.is_empty() {
            return Err(ConfigError::configuration(format!(
                "Different roles can't share the same host for SSL: {}",
                duplicates.join(", ")
            )));
        }

        // ensure_local_registry_remote_builder_has_ssh_url
        if self.registry.local() && self.builder.is_remote() {
            let remote = self.builder.remote().unwrap_or_default();
            if uri_scheme(&remote).as_deref() != Some("ssh") {
                return Err(ConfigError::configuration(
                    "Local registry with remote builder requires an SSH URL (e.g., ssh://user@host)",
                ));
            }
        }

        // ensure_no_conflicting_proxy_runs
        for host in self.all_hosts() {
            let runs = self.proxy_runs(&host);
            let mut unique: Vec<&ProxyRun> = vec![];
            for r in &runs {
                if !unique.contains(&r) {
                    unique.push(r);
                }
            }
            if unique.len() > 1 {
                return Err(ConfigError::configuration(format!(
                    "Conflicting proxy run configurations for host {host}"
                )));
            }
        }

        // ensure_valid_hooks_output!
        match self.ctx.raw_get("hooks_output") {
            Some(Value::Mapping(m)) => {
                for (hook, level) in m {
                    validate_hooks_output_level(&to_s(level), Some(&to_s(hook)))?;
                }
            }
            Some(v @ Value::String(_)) | Some(v @ Value::Tagged(_)) => validate_hooks_output_level(&to_s(v), None)?,
            _ => {}
        }
        Ok(())
    }

    /// Sets the version (`config.version = ...`), e.g. the git revision computed by the caller.
    pub fn set_version(&self, version: impl Into<String>) {
        *self.ctx.version.write().unwrap() = Some(version.into());
    }

    /// The version: the one given to [`LoadOptions`] or [`set_version`](Self::set_version), else
    /// `$VERSION` from the given environment; empty until one is set (Kamal then uses the git
    /// revision, which the caller computes).
    pub fn version(&self) -> String {
        self.ctx.version()
    }

    /// Whether a version is known.
    pub fn has_version(&self) -> bool {
        self.ctx.version.read().unwrap().is_some()
    }

    /// Records why there is no version (e.g. no git repository), for a command that only reads
    /// the servers and may never need one: [`require_version`](Self::require_version) answers
    /// with it where something does, as Kamal raises where a command first asks for the version.
    pub fn set_version_unavailable(&self, why: impl Into<String>) {
        *self.ctx.version_unavailable.write().unwrap() = Some(why.into());
    }

    /// The version, or why there is none.
    pub fn require_version(&self) -> Result<String, String> {
        match self.ctx.version.read().unwrap().clone() {
            Some(version) => Ok(version),
            None => Err(self.ctx.version_unavailable.read().unwrap().clone().unwrap_or_else(|| "no version".into())),
        }
    }

    /// The version, abbreviated to 7 characters unless it contains `_` (`<sha>_uncommitted_...`).
    pub fn abbreviated_version(&self) -> String {
        let v = self.version();
        if v.contains('_') {
            v
        } else {
            v.chars().take(7).collect()
        }
    }

    /// Wharf's settings under `x-wharf` (plugins, their grants, WASM hooks, the builder).
    pub fn wharf(&self) -> &crate::extension::WharfExtension {
        &self.wharf
    }

    /// The merged YAML (root keys as strings).
    pub fn raw_config(&self) -> &Value {
        &self.ctx.raw
    }

    /// `service`.
    pub fn service(&self) -> String {
        self.ctx.service()
    }

    /// `-d` destination.
    pub fn destination(&self) -> Option<&str> {
        self.ctx.destination.as_deref()
    }

    /// `<service>[-<destination>]`.
    pub fn service_and_destination(&self) -> String {
        self.ctx.service_and_destination()
    }

    /// `minimum_version`.
    pub fn minimum_version(&self) -> Option<String> {
        self.ctx.raw_get("minimum_version").filter(|v| truthy(Some(v))).map(to_s)
    }

    /// The roles, sorted by name (`web` only for a plain host list).
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// The role names as `kamal config` lists them: `["web"]` for a host list, else sorted.
    pub fn role_names(&self) -> Vec<String> {
        self.roles.iter().map(|r| r.name().to_string()).collect()
    }

    /// A role by name.
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name() == name)
    }

    /// The accessories, in file order.
    pub fn accessories(&self) -> &[Accessory] {
        &self.accessories
    }

    /// An accessory by name.
    pub fn accessory(&self, name: &str) -> Option<&Accessory> {
        self.accessories.iter().find(|a| a.name() == name)
    }

    /// Every host of every role and accessory, without duplicates, in order.
    pub fn all_hosts(&self) -> Vec<String> {
        all_hosts_of(&self.roles, &self.accessories)
    }

    /// The roles that include a host.
    pub fn host_roles(&self, host: &str) -> Vec<&Role> {
        self.roles.iter().filter(|r| r.hosts().iter().any(|h| h == host)).collect()
    }

    /// The accessories that run on a host.
    pub fn host_accessories(&self, host: &str) -> Vec<&Accessory> {
        self.accessories.iter().filter(|a| a.hosts().iter().any(|h| h == host)).collect()
    }

    /// The hosts of all roles, without duplicates.
    pub fn app_hosts(&self) -> Vec<String> {
        uniq(self.roles.iter().flat_map(|r| r.hosts()).collect())
    }

    /// The primary role's first host.
    pub fn primary_host(&self) -> Option<String> {
        self.primary_role().and_then(|r| r.primary_host())
    }

    /// `primary_role` (default `web`).
    pub fn primary_role_name(&self) -> String {
        self.ctx.primary_role_name()
    }

    /// The primary role.
    pub fn primary_role(&self) -> Option<&Role> {
        self.role(&self.primary_role_name())
    }

    /// `allow_empty_roles`.
    pub fn allow_empty_roles(&self) -> bool {
        truthy(self.ctx.raw_get("allow_empty_roles"))
    }

    /// The roles running behind the proxy.
    pub fn proxy_roles(&self) -> Vec<&Role> {
        self.roles.iter().filter(|r| r.running_proxy()).collect()
    }

    /// Their names.
    pub fn proxy_role_names(&self) -> Vec<String> {
        self.proxy_roles().iter().map(|r| r.name().to_string()).collect()
    }

    /// The accessories behind the proxy.
    pub fn proxy_accessories(&self) -> Vec<&Accessory> {
        self.accessories.iter().filter(|a| a.running_proxy()).collect()
    }

    /// The hosts of proxy roles and proxy accessories (where kamal-proxy runs).
    pub fn proxy_hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = self.proxy_roles().iter().flat_map(|r| r.hosts()).collect();
        hosts.extend(self.proxy_accessories().iter().flat_map(|a| a.hosts().to_vec()));
        uniq(hosts)
    }

    /// Alias of [`proxy_hosts`](Self::proxy_hosts) restricted to roles.
    pub fn proxy_role_hosts(&self) -> Vec<String> {
        uniq(self.proxy_roles().iter().flat_map(|r| r.hosts()).collect())
    }

    /// `image`, or the service name with a local registry.
    pub fn image(&self) -> Option<String> {
        image_of(&self.ctx.raw, &self.registry)
    }

    /// `[registry server/]image`.
    pub fn repository(&self) -> String {
        let image = self.image().unwrap_or_default();
        match self.registry.server() {
            Some(s) => format!("{s}/{image}"),
            None => image,
        }
    }

    /// `<repository>:<version>`.
    pub fn absolute_image(&self) -> String {
        format!("{}:{}", self.repository(), self.version())
    }

    /// `<repository>:<latest_tag>`.
    pub fn latest_image(&self) -> String {
        format!("{}:{}", self.repository(), self.latest_tag())
    }

    /// `latest`, or `latest-<destination>`.
    pub fn latest_tag(&self) -> String {
        match self.destination() {
            Some(d) => format!("latest-{d}"),
            None => "latest".into(),
        }
    }

    /// `<service>-<version>`.
    pub fn service_with_version(&self) -> String {
        format!("{}-{}", self.service(), self.version())
    }

    /// `require_destination`.
    pub fn require_destination(&self) -> bool {
        truthy(self.ctx.raw_get("require_destination"))
    }

    /// `retain_containers` (default 5).
    pub fn retain_containers(&self) -> i64 {
        match self.ctx.raw_get("retain_containers").filter(|v| truthy(Some(v))) {
            Some(Value::Number(n)) => n.as_i64().unwrap_or(5),
            Some(v) => to_s(v).trim().parse().unwrap_or(0),
            None => 5,
        }
    }

    /// `--volume` args for `volumes`.
    pub fn volume_args(&self) -> Vec<String> {
        match self.ctx.raw_get("volumes").filter(|v| present(v)) {
            Some(v) => crate::utils::argumentize_list("--volume", &crate::ruby::string_list(Some(v))),
            None => vec![],
        }
    }

    /// The root logging flags (default `--log-opt max-size="10m"`).
    pub fn logging_args(&self) -> Vec<String> {
        self.logging.args()
    }

    fn seconds(&self, key: &str, default: u64) -> u64 {
        match self.ctx.raw_get(key).filter(|v| truthy(Some(v))) {
            Some(v) => to_s(v).trim().parse().unwrap_or(default),
            None => default,
        }
    }

    /// `readiness_delay` (default 7).
    pub fn readiness_delay(&self) -> u64 {
        self.seconds("readiness_delay", 7)
    }

    /// `deploy_timeout` (default 30).
    pub fn deploy_timeout(&self) -> u64 {
        self.seconds("deploy_timeout", 30)
    }

    /// `drain_timeout` (default 30).
    pub fn drain_timeout(&self) -> u64 {
        self.seconds("drain_timeout", 30)
    }

    /// `stop_timeout`.
    pub fn stop_timeout(&self) -> Option<u64> {
        self.ctx.stop_timeout().and_then(|v| to_s(&v).trim().parse().ok())
    }

    /// `.kamal` (hard-coded, as in Kamal).
    pub fn run_directory(&self) -> String {
        self.ctx.run_directory()
    }

    /// `.kamal/apps`.
    pub fn apps_directory(&self) -> String {
        self.ctx.apps_directory()
    }

    /// `.kamal/apps/<service>[-<destination>]`.
    pub fn app_directory(&self) -> String {
        self.ctx.app_directory()
    }

    /// `.kamal/apps/<app>/env`.
    pub fn env_directory(&self) -> String {
        self.ctx.env_directory()
    }

    /// `.kamal/apps/<app>/assets`.
    pub fn assets_directory(&self) -> String {
        self.ctx.assets_directory()
    }

    /// `hooks_path` (default `.kamal/hooks`).
    pub fn hooks_path(&self) -> String {
        self.ctx.raw_get("hooks_path").filter(|v| truthy(Some(v))).map(to_s).unwrap_or_else(|| ".kamal/hooks".into())
    }

    /// `secrets_path` (default `.kamal/secrets`).
    pub fn secrets_path(&self) -> String {
        secrets_path_of(&self.ctx.raw)
    }

    /// `asset_path`.
    pub fn asset_path(&self) -> Option<String> {
        self.ctx.raw_get("asset_path").filter(|v| truthy(Some(v))).map(to_s)
    }

    /// `error_pages_path`.
    pub fn error_pages_path(&self) -> Option<String> {
        self.ctx.error_pages_path()
    }

    /// Root `labels`.
    pub fn labels(&self) -> Option<Mapping> {
        match self.ctx.raw_get("labels") {
            Some(Value::Mapping(m)) => Some(m.clone()),
            _ => None,
        }
    }

    /// The root env tags (`env.tags`), in order.
    pub fn env_tags(&self) -> Vec<EnvTag> {
        self.ctx.env_tags()
    }

    /// One root env tag.
    pub fn env_tag(&self, name: &str) -> Option<EnvTag> {
        self.ctx.env_tag(name)
    }

    /// The `hooks_output` level for a hook: the global level, or the hook's in a per-hook hash.
    pub fn hooks_output_for(&self, hook: &str) -> Option<HooksOutput> {
        let level = match self.ctx.raw_get("hooks_output") {
            Some(Value::Mapping(m)) => m.get(hook).map(to_s),
            Some(v @ Value::String(_)) | Some(v @ Value::Tagged(_)) => Some(to_s(v)),
            _ => None,
        }?;
        match level.trim_start_matches(':') {
            "quiet" => Some(HooksOutput::Quiet),
            "verbose" => Some(HooksOutput::Verbose),
            _ => None,
        }
    }

    /// The `proxy.run` settings for a host (all roles and accessories on a host agree).
    pub fn proxy_run(&self, host: &str) -> Option<ProxyRun> {
        self.proxy_runs(host).into_iter().next()
    }

    fn proxy_runs(&self, host: &str) -> Vec<ProxyRun> {
        let mut runs = vec![];
        for r in self.host_roles(host) {
            if let Some(run) = r.proxy().and_then(|p| p.run()) {
                runs.push(run.clone());
            }
        }
        for a in self.host_accessories(host) {
            if let Some(run) = a.proxy().and_then(|p| p.run()) {
                runs.push(run.clone());
            }
        }
        runs
    }

    /// `boot`.
    pub fn boot(&self) -> &Boot {
        &self.boot
    }

    /// `builder`.
    pub fn builder(&self) -> &Builder {
        &self.builder
    }

    /// The ENV changes deploy.yml's ERB made (`ENV[...] =`, `Dotenv.load`): `(name, value)`, a
    /// `None` value for a removed variable. Kamal's process keeps them, so hooks, secrets and
    /// commands see them; the CLI applies them to its own environment.
    pub fn erb_env_changes(&self) -> &[(String, Option<String>)] {
        &self.env_changes
    }

    /// The root `env`.
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// The root `logging`.
    pub fn logging(&self) -> &Logging {
        &self.logging
    }

    /// `output`.
    pub fn output(&self) -> &Output {
        &self.output
    }

    /// The root `proxy`.
    pub fn proxy(&self) -> &Proxy {
        &self.proxy
    }

    /// kamal-proxy's directories and defaults (`Proxy::Boot`).
    pub fn proxy_boot(&self) -> ProxyBoot {
        self.ctx.proxy_boot()
    }

    /// `ssh`.
    pub fn ssh(&self) -> &Ssh {
        &self.ssh
    }

    /// `sshkit`.
    pub fn sshkit(&self) -> &Sshkit {
        &self.sshkit
    }

    /// `registry`.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The aliases, in file order.
    pub fn aliases(&self) -> &[Alias] {
        &self.aliases
    }

    /// An alias by name.
    pub fn alias(&self, name: &str) -> Option<&Alias> {
        self.aliases.iter().find(|a| a.name() == name)
    }

    /// The secrets the configuration reads.
    pub fn secrets(&self) -> &Arc<dyn SecretLookup> {
        &self.ctx.secrets
    }
}

/// `secrets_path` of a raw config (default `.kamal/secrets`), for loading secrets before the
/// configuration is built.
pub fn secrets_path_of(raw: &Value) -> String {
    get(raw, "secrets_path").filter(|v| truthy(Some(v))).map(to_s).unwrap_or_else(|| ".kamal/secrets".into())
}

fn validate_hooks_output_level(level: &str, hook: Option<&str>) -> Result<(), ConfigError> {
    let level = level.trim_start_matches(':');
    if level == "quiet" || level == "verbose" {
        return Ok(());
    }
    let context = hook.map(|h| format!(" for hook '{h}'")).unwrap_or_default();
    Err(ConfigError::configuration(format!("Invalid hooks_output '{level}'{context}, must be one of: quiet, verbose")))
}

fn ensure_valid_accessory_roles(name: &str, config: &Value, role_names: &[String]) -> Result<(), ConfigError> {
    if let Some(roles) = get(config, "roles").filter(|v| truthy(Some(v))) {
        let missing: Vec<String> =
            crate::ruby::string_list(Some(roles)).into_iter().filter(|r| !role_names.contains(r)).collect();
        if !missing.is_empty() {
            return Err(ConfigError::configuration(format!(
                "accessories/{name}: unknown roles {}",
                missing.join(", ")
            )));
        }
    } else if let Some(role) = get(config, "role").filter(|v| truthy(Some(v))) {
        let role = to_s(role);
        if !role_names.contains(&role) {
            return Err(ConfigError::configuration(format!("accessories/{name}: unknown role {role}")));
        }
    }
    Ok(())
}

fn image_of(raw: &Value, registry: &Registry) -> Option<String> {
    let image = get(raw, "image").filter(|v| present(v)).map(to_s);
    if image.is_some() {
        return image;
    }
    if registry.local() {
        get(raw, "service").filter(|v| !v.is_null()).map(to_s)
    } else {
        None
    }
}

fn all_hosts_of(roles: &[Role], accessories: &[Accessory]) -> Vec<String> {
    let mut hosts: Vec<String> = roles.iter().flat_map(|r| r.hosts()).collect();
    hosts.extend(accessories.iter().flat_map(|a| a.hosts().to_vec()));
    uniq(hosts)
}

fn uniq(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// `URI(x).scheme`: the scheme of a URL, if it has one.
fn uri_scheme(s: &str) -> Option<String> {
    let (scheme, _) = s.split_once(':')?;
    let valid = scheme.chars().next().map(|c| c.is_ascii_alphabetic()).unwrap_or(false)
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.');
    if valid {
        Some(scheme.to_ascii_lowercase())
    } else {
        None
    }
}

/// `symbolize_keys` of the root: `:service` and `service` name the same key.
fn symbolize_root(m: Mapping) -> Mapping {
    let mut out = Mapping::new();
    for (k, v) in m {
        let key = match crate::yaml::as_symbol(&k) {
            Some(name) => Value::String(name.to_string()),
            None => k,
        };
        out.insert(key, v);
    }
    out
}
