//! `Kamal::Configuration::Accessory`: a service run next to the app (`accessories.<name>`):
//! image, hosts (from `host`/`hosts`/`role`/`roles`/`tag`/`tags`), port, labels, env, files,
//! directories, volumes, network, options, proxy and registry.

use super::{Context, Env, Proxy, Registry, Volume};
use crate::error::ConfigError;
use crate::ruby::{absolute_path, file_join, get, present, string_list, to_s};
use crate::utils::{argumentize_list, argumentize_mapping};
use serde_yaml::{Mapping, Value};
use std::sync::Arc;

/// The default docker network of accessories.
pub const DEFAULT_NETWORK: &str = "kamal";

/// A file or directory of an accessory (`files` / `directories` entry), as Kamal resolves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessoryPath {
    /// The local side as written (`local:` or the part before the first `:`).
    pub local: String,
    /// Kamal's key for the entry. Files: the local path as written (Kamal expands it to an
    /// absolute path, or renders it as ERB when it ends in `erb`: see [`AccessoryPath::erb`]).
    /// Directories: the directory on the host, `$PWD/<service_name>/<local>` for relative paths.
    pub key: String,
    /// The host side of the volume (relative to `$PWD` on the host unless absolute).
    pub host_path: String,
    /// The path in the container.
    pub container_path: String,
    /// Mount options (`ro`, `z`, ...).
    pub options: Option<String>,
    /// The mode to give the file or directory (files default to `755`).
    pub mode: Option<String>,
    /// The owner to give it.
    pub owner: Option<String>,
}

impl AccessoryPath {
    /// A file to render as ERB (with the accessory's env in `ENV`) before uploading.
    pub fn erb(&self) -> bool {
        self.local.ends_with("erb")
    }

    /// The volume mounting it.
    pub fn volume(&self) -> Volume {
        Volume::new(self.host_path.clone(), self.container_path.clone(), self.options.clone())
    }
}

/// An accessory.
#[derive(Clone)]
pub struct Accessory {
    ctx: Arc<Context>,
    name: String,
    config: Value,
    hosts: Vec<String>,
    env: Env,
    proxy: Option<Proxy>,
    registry: Option<Registry>,
}

impl std::fmt::Debug for Accessory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accessory").field("name", &self.name).field("hosts", &self.hosts).finish()
    }
}

impl Accessory {
    pub(crate) fn new(
        ctx: Arc<Context>,
        name: String,
        config: Value,
        role_hosts: &dyn Fn(&str) -> Option<Vec<String>>,
    ) -> Accessory {
        let hosts = Self::resolve_hosts(&ctx, &config, role_hosts);
        let env = Env::new(get(&config, "env").unwrap_or(&Value::Null), ctx.secrets.clone());
        let proxy = if get(&config, "proxy").map(present).unwrap_or(false) {
            Some(Proxy::new(ctx.clone(), get(&config, "proxy"), None))
        } else {
            None
        };
        let registry = if get(&config, "registry").map(present).unwrap_or(false) {
            Some(Registry::new(get(&config, "registry"), ctx.secrets.clone()))
        } else {
            None
        };
        Accessory { ctx, name, config, hosts, env, proxy, registry }
    }

    fn resolve_hosts(ctx: &Context, config: &Value, role_hosts: &dyn Fn(&str) -> Option<Vec<String>>) -> Vec<String> {
        let host_entries = |v: &Value| -> Vec<String> {
            match v {
                Value::Sequence(items) => items
                    .iter()
                    .filter_map(|i| match i {
                        Value::Mapping(m) => m.keys().next().map(to_s),
                        Value::Null => None,
                        other => Some(to_s(other)),
                    })
                    .collect(),
                Value::Null => vec![],
                other => vec![to_s(other)],
            }
        };
        if let Some(h) = get(config, "host") {
            return host_entries(&Value::Sequence(vec![h.clone()]));
        }
        if let Some(h) = get(config, "hosts") {
            return host_entries(h);
        }
        if let Some(r) = get(config, "role") {
            return role_hosts(&to_s(r)).unwrap_or_default();
        }
        if let Some(rs) = get(config, "roles") {
            return string_list(Some(rs)).iter().flat_map(|r| role_hosts(r).unwrap_or_default()).collect();
        }
        let tags = if let Some(t) = get(config, "tag") {
            vec![to_s(t)]
        } else if let Some(ts) = get(config, "tags") {
            string_list(Some(ts))
        } else {
            return vec![];
        };
        let Some(Value::Mapping(servers)) = ctx.raw_get("servers") else { return vec![] };
        let mut out = vec![];
        for tag in &tags {
            for (_, servers_in_role) in servers {
                // Only roles given as a plain host list are searched (as in Kamal).
                let Value::Sequence(items) = servers_in_role else { continue };
                for host in items {
                    if let Value::Mapping(m) = host {
                        if let Some((h, t)) = m.iter().next() {
                            let matches = match t {
                                Value::Sequence(ts) => ts.iter().any(|x| to_s(x) == *tag),
                                Value::String(s) => s.contains(tag.as_str()),
                                _ => false,
                            };
                            if matches {
                                out.push(to_s(h));
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// The accessory's name (its key under `accessories`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw settings.
    pub fn config(&self) -> &Value {
        &self.config
    }

    /// `service`, default `<service>-<name>` (the container name).
    pub fn service_name(&self) -> String {
        get(&self.config, "service")
            .filter(|v| crate::ruby::truthy(Some(v)))
            .map(to_s)
            .unwrap_or_else(|| format!("{}-{}", self.ctx.service(), self.name))
    }

    /// `[registry server/]image`.
    pub fn image(&self) -> String {
        let image = get(&self.config, "image").map(to_s).unwrap_or_default();
        match self.registry.as_ref().and_then(|r| r.server()) {
            Some(server) => format!("{server}/{image}"),
            None => image,
        }
    }

    /// The accessory's own registry, if it has one.
    pub fn registry(&self) -> Option<&Registry> {
        self.registry.as_ref()
    }

    /// The hosts it runs on.
    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// `port`, as `host:container` (`"3306"` becomes `"3306:3306"`).
    pub fn port(&self) -> Option<String> {
        let port = get(&self.config, "port").filter(|v| !v.is_null()).map(to_s)?;
        Some(if port.contains(':') { port } else { format!("{port}:{port}") })
    }

    /// `--network <network>`.
    pub fn network_args(&self) -> Vec<String> {
        argumentize_list("--network", &[self.network()])
    }

    /// `network`, default `kamal`.
    pub fn network(&self) -> String {
        get(&self.config, "network")
            .filter(|v| crate::ruby::truthy(Some(v)))
            .map(to_s)
            .unwrap_or_else(|| DEFAULT_NETWORK.into())
    }

    /// `--publish <port>` when a port is set.
    pub fn publish_args(&self) -> Option<Vec<String>> {
        self.port().map(|p| argumentize_list("--publish", &[p]))
    }

    /// `service=<service_name>`, then the accessory's `labels`.
    pub fn labels(&self) -> Mapping {
        let mut labels = Mapping::new();
        labels.insert("service".into(), Value::String(self.service_name()));
        if let Some(Value::Mapping(m)) = get(&self.config, "labels") {
            for (k, v) in m {
                labels.insert(k.clone(), v.clone());
            }
        }
        labels
    }

    /// `--label key="value"` for each label.
    pub fn label_args(&self) -> Vec<String> {
        argumentize_mapping("--label", &self.labels())
    }

    /// The env.
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// `--env KEY="value"` for the clear env, then `--env-file <secrets_path>`.
    pub fn env_args(&self) -> Vec<String> {
        let mut args = self.env.clear_args();
        args.extend(argumentize_list("--env-file", &[self.secrets_path()]));
        args
    }

    /// `.kamal/apps/<app>/env/accessories`.
    pub fn env_directory(&self) -> String {
        file_join(&[&self.ctx.env_directory(), "accessories"])
    }

    /// The env file's content (secrets only).
    pub fn secrets_io(&self) -> Result<String, ConfigError> {
        self.env.secrets_io()
    }

    /// `.kamal/apps/<app>/env/accessories/<name>.env`.
    pub fn secrets_path(&self) -> String {
        file_join(&[&self.ctx.env_directory(), "accessories", &format!("{}.env", self.name)])
    }

    fn paths(&self, key: &str, default_mode: Option<&str>, file: bool) -> Vec<AccessoryPath> {
        let Some(Value::Sequence(items)) = get(&self.config, key) else { return vec![] };
        let service_name = self.service_name();
        let mut out: Vec<AccessoryPath> = vec![];
        for item in items {
            let (local, remote, options, mode, owner) = match item {
                Value::Mapping(_) => (
                    get(item, "local").map(to_s).unwrap_or_default(),
                    get(item, "remote").map(to_s).unwrap_or_default(),
                    get(item, "options").filter(|v| !v.is_null()).map(to_s),
                    get(item, "mode")
                        .filter(|v| crate::ruby::truthy(Some(v)))
                        .map(to_s)
                        .or_else(|| default_mode.map(String::from)),
                    get(item, "owner").filter(|v| !v.is_null()).map(to_s),
                ),
                other => {
                    let s = to_s(other);
                    let mut parts = s.splitn(3, ':');
                    let local = parts.next().unwrap_or("").to_string();
                    let remote = parts.next().unwrap_or("").to_string();
                    let options = parts.next().map(String::from);
                    (local, remote, options, default_mode.map(String::from), None)
                }
            };
            let (key, host_path) = if file {
                (local.clone(), format!("{service_name}{remote}"))
            } else if absolute_path(&local) {
                (local.clone(), local.clone())
            } else {
                (format!("$PWD/{service_name}/{local}"), file_join(&[&service_name, &local]))
            };
            let entry = AccessoryPath { local, key, host_path, container_path: remote, options, mode, owner };
            // Kamal keys these by `key` (a hash): a repeated key replaces the earlier entry.
            // Rendered ERB files are distinct objects and never collide.
            match out.iter_mut().find(|e| e.key == entry.key && !(file && entry.erb())) {
                Some(existing) => *existing = entry,
                None => out.push(entry),
            }
        }
        out
    }

    /// `files`: each `local:remote[:options]` or `{local, remote, mode, owner, options}`, mode
    /// default `755`; the host path is `<service_name><remote>`.
    pub fn files(&self) -> Vec<AccessoryPath> {
        self.paths("files", Some("755"), true)
    }

    /// `directories`: like files, no default mode; relative locals live under
    /// `$PWD/<service_name>/`.
    pub fn directories(&self) -> Vec<AccessoryPath> {
        self.paths("directories", None, false)
    }

    /// `volumes` as given.
    pub fn specific_volumes(&self) -> Vec<String> {
        string_list(get(&self.config, "volumes"))
    }

    /// `--volume` args: `volumes`, then the files, then the directories.
    pub fn volume_args(&self) -> Vec<String> {
        let mut out = argumentize_list("--volume", &self.specific_volumes());
        for p in self.files().into_iter().chain(self.directories()) {
            out.extend(p.volume().docker_args());
        }
        out
    }

    /// `options` as docker flags, except `restart`.
    pub fn option_args(&self) -> Vec<String> {
        super::docker_options::args(&self.config)
    }

    /// `options.restart`, default `unless-stopped`.
    pub fn restart_policy(&self) -> String {
        super::docker_options::restart_policy(&self.config)
    }

    /// `cmd`.
    pub fn cmd(&self) -> Option<String> {
        get(&self.config, "cmd").filter(|v| !v.is_null()).map(to_s)
    }

    /// `running_proxy?`: `proxy` is set.
    pub fn running_proxy(&self) -> bool {
        self.proxy.is_some()
    }

    /// The proxy settings.
    pub fn proxy(&self) -> Option<&Proxy> {
        self.proxy.as_ref()
    }
}
