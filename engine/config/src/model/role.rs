//! `Kamal::Configuration::Role`: one entry of `servers` (the implicit `web` role for a plain host
//! list): its hosts and their tags, command, docker options, labels, logging, env per host,
//! proxy, assets, container names and stop arguments.

use super::{Context, Env, EnvTag, Logging, Proxy, Volume};
use crate::error::ConfigError;
use crate::ruby::{file_join, get, present, string_list, to_s};
use crate::utils::{argumentize_list, argumentize_mapping};
use serde_yaml::{Mapping, Value};
use std::sync::Arc;

/// A role.
#[derive(Clone)]
pub struct Role {
    ctx: Arc<Context>,
    name: String,
    specializations: Value,
    tagged_hosts: Vec<(String, Vec<String>)>,
    running_proxy: bool,
    specialized_proxy: Option<Proxy>,
    proxy: Option<Proxy>,
}

impl std::fmt::Debug for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Role").field("name", &self.name).field("hosts", &self.hosts()).finish()
    }
}

impl Role {
    pub(crate) fn new(ctx: Arc<Context>, name: String) -> Role {
        let servers = ctx.raw_get("servers").cloned().unwrap_or(Value::Null);
        let role_config = match &servers {
            Value::Sequence(_) => Value::Mapping(Mapping::new()),
            other => get(other, &name).cloned().unwrap_or(Value::Null),
        };
        let specializations = match &role_config {
            Value::Mapping(_) => role_config.clone(),
            _ => Value::Mapping(Mapping::new()),
        };
        let host_configs: Vec<Value> = match &servers {
            Value::Sequence(items) => items.clone(),
            _ => match &role_config {
                Value::Sequence(items) => items.clone(),
                other => match get(other, "hosts") {
                    Some(Value::Sequence(items)) => items.clone(),
                    Some(Value::Null) | None => vec![],
                    Some(v) => vec![v.clone()],
                },
            },
        };
        let mut tagged_hosts: Vec<(String, Vec<String>)> = vec![];
        for hc in host_configs {
            let entry = match &hc {
                Value::Mapping(m) => m.iter().next().map(|(h, tags)| (to_s(h), string_list(Some(tags)))),
                Value::String(s) => Some((s.clone(), vec![])),
                _ => None,
            };
            if let Some((host, tags)) = entry {
                if let Some(existing) = tagged_hosts.iter_mut().find(|(h, _)| *h == host) {
                    existing.1 = tags;
                } else {
                    tagged_hosts.push((host, tags));
                }
            }
        }
        let proxy_spec = get(&specializations, "proxy");
        let primary = name == ctx.primary_role_name();
        let running_proxy =
            if primary { !matches!(proxy_spec, Some(Value::Bool(false))) } else { crate::ruby::truthy(proxy_spec) };
        let specialized_proxy = if running_proxy {
            let cfg = match proxy_spec {
                None | Some(Value::Null) | Some(Value::Bool(true)) => None,
                Some(v) => Some(v),
            };
            Some(Proxy::new(ctx.clone(), cfg, Some(name.clone())))
        } else {
            None
        };
        Role { ctx, name, specializations, tagged_hosts, running_proxy, specialized_proxy, proxy: None }
    }

    /// Merges the role's proxy settings over the root proxy (`specialized_proxy.merge(config.proxy)`).
    pub(crate) fn resolve_proxy(&mut self, root: &Proxy) {
        self.proxy = self.specialized_proxy.as_ref().map(|p| p.merge_over(root));
    }

    /// The role's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The role's own settings (`{}` for a plain host list).
    pub fn specializations(&self) -> &Value {
        &self.specializations
    }

    /// The hosts, in order (tags stripped).
    pub fn hosts(&self) -> Vec<String> {
        self.tagged_hosts.iter().map(|(h, _)| h.clone()).collect()
    }

    /// The first host.
    pub fn primary_host(&self) -> Option<String> {
        self.tagged_hosts.first().map(|(h, _)| h.clone())
    }

    /// The tags given to a host (`- host: tag` or `- host: [tags]`).
    pub fn tags(&self, host: &str) -> Vec<String> {
        self.tagged_hosts.iter().find(|(h, _)| h == host).map(|(_, t)| t.clone()).unwrap_or_default()
    }

    /// The root env tags that apply to a host (tags without an `env.tags` entry are ignored).
    pub fn env_tags(&self, host: &str) -> Vec<EnvTag> {
        self.tags(host).iter().filter_map(|t| self.ctx.env_tag(t)).collect()
    }

    /// `cmd`.
    pub fn cmd(&self) -> Option<String> {
        get(&self.specializations, "cmd").filter(|v| !v.is_null()).map(to_s)
    }

    /// `options` as docker flags (`--memory "2g"`), except `restart`.
    pub fn option_args(&self) -> Vec<String> {
        super::docker_options::args(&self.specializations)
    }

    /// `options.restart`, default `unless-stopped`.
    pub fn restart_policy(&self) -> String {
        super::docker_options::restart_policy(&self.specializations)
    }

    /// The labels: `service`, `role`, `destination` (nil without one), then the root and role
    /// `labels`.
    pub fn labels(&self) -> Mapping {
        let mut labels = Mapping::new();
        labels.insert("service".into(), Value::String(self.ctx.service()));
        labels.insert("role".into(), Value::String(self.name.clone()));
        labels.insert("destination".into(), self.ctx.destination.clone().map(Value::String).unwrap_or(Value::Null));
        for source in [self.ctx.raw_get("labels"), get(&self.specializations, "labels")] {
            if let Some(Value::Mapping(m)) = source.filter(|v| present(v)) {
                for (k, v) in m {
                    labels.insert(k.clone(), v.clone());
                }
            }
        }
        labels
    }

    /// `--label key="value"` for each label (`--label destination` without a destination).
    pub fn label_args(&self) -> Vec<String> {
        argumentize_mapping("--label", &self.labels())
    }

    /// The role's logging: its `logging` deep-merged over the root's.
    pub fn logging(&self) -> Logging {
        self.ctx.logging().merge(&Logging::new(get(&self.specializations, "logging")))
    }

    /// The docker logging flags.
    pub fn logging_args(&self) -> Vec<String> {
        self.logging().args()
    }

    /// The proxy settings (the role's merged over the root's), when the role runs behind the
    /// proxy.
    pub fn proxy(&self) -> Option<&Proxy> {
        self.proxy.as_ref()
    }

    /// `running_proxy?`: the primary role unless `proxy: false`; other roles only with `proxy`
    /// set.
    pub fn running_proxy(&self) -> bool {
        self.running_proxy
    }

    /// `ssl?`
    pub fn ssl(&self) -> bool {
        self.running_proxy && self.proxy.as_ref().map(|p| p.ssl()).unwrap_or(false)
    }

    /// The role's `stop_timeout`, else the root's.
    pub fn stop_timeout(&self) -> Option<Value> {
        get(&self.specializations, "stop_timeout")
            .filter(|v| crate::ruby::truthy(Some(v)))
            .cloned()
            .or_else(|| self.ctx.stop_timeout())
    }

    /// `docker stop` arguments: `-t <stop_timeout>`, or `-t <drain_timeout>` for roles without the
    /// proxy (the proxy drains requests itself), or nothing.
    pub fn stop_args(&self) -> Vec<String> {
        let timeout =
            self.stop_timeout().or_else(|| if self.running_proxy { None } else { Some(self.ctx.drain_timeout()) });
        match timeout {
            Some(t) => vec!["-t".to_string(), to_s(&t)],
            None => vec![],
        }
    }

    /// The env on a host: root env, role env, then the env of each of the host's tags.
    pub fn env(&self, host: &str) -> Env {
        let mut env = self
            .ctx
            .env()
            .merge(&Env::new(get(&self.specializations, "env").unwrap_or(&Value::Null), self.ctx.secrets.clone()));
        for tag in self.env_tags(host) {
            env = env.merge(tag.env());
        }
        env
    }

    /// `--env KEY="value"` for the clear env, then `--env-file <secrets_path>`.
    pub fn env_args(&self, host: &str) -> Vec<String> {
        let mut args = self.env(host).clear_args();
        args.extend(argumentize_list("--env-file", &[self.secrets_path()]));
        args
    }

    /// `.kamal/apps/<service>[-<destination>]/env/roles`.
    pub fn env_directory(&self) -> String {
        file_join(&[&self.ctx.env_directory(), "roles"])
    }

    /// The env file's content for a host (secrets only).
    pub fn secrets_io(&self, host: &str) -> Result<String, ConfigError> {
        self.env(host).secrets_io()
    }

    /// `.kamal/apps/<service>[-<destination>]/env/roles/<role>.env`.
    pub fn secrets_path(&self) -> String {
        file_join(&[&self.ctx.env_directory(), "roles", &format!("{}.env", self.name)])
    }

    /// `primary?`
    pub fn primary(&self) -> bool {
        self.name == self.ctx.primary_role_name()
    }

    /// `<service>-<role>[-<destination>]-<version>` (the configured version when `None`).
    pub fn container_name(&self, version: Option<&str>) -> String {
        let version = version.map(String::from).unwrap_or_else(|| self.ctx.version());
        if version.is_empty() {
            self.container_prefix()
        } else {
            format!("{}-{}", self.container_prefix(), version)
        }
    }

    /// `<service>-<role>[-<destination>]`.
    pub fn container_prefix(&self) -> String {
        let mut parts = vec![self.ctx.service(), self.name.clone()];
        if let Some(d) = &self.ctx.destination {
            parts.push(d.clone());
        }
        parts.join("-")
    }

    fn asset_path_config(&self) -> Option<(String, Option<String>)> {
        let raw = get(&self.specializations, "asset_path")
            .filter(|v| crate::ruby::truthy(Some(v)))
            .or_else(|| self.ctx.raw_get("asset_path"))
            .filter(|v| present(v))?;
        let raw = to_s(raw);
        match raw.split_once(':') {
            Some((p, o)) => Some((p.to_string(), Some(o.to_string()))),
            None => Some((raw, None)),
        }
    }

    /// The path of the assets in the image (`asset_path`, the role's or the root's, without
    /// mount options).
    pub fn asset_path(&self) -> Option<String> {
        self.asset_path_config().map(|(p, _)| p)
    }

    /// The mount options after `:` in `asset_path`.
    pub fn asset_path_options(&self) -> Option<String> {
        self.asset_path_config().and_then(|(_, o)| o)
    }

    /// `assets?`: an asset path and the proxy.
    pub fn assets(&self) -> bool {
        self.asset_path().map(|p| !crate::ruby::blank_str(&p)).unwrap_or(false) && self.running_proxy
    }

    fn versioned(&self, version: Option<&str>) -> String {
        let v = version.map(String::from).unwrap_or_else(|| self.ctx.version());
        format!("{}-{}", self.name, v)
    }

    /// The asset volume for a version (the configured one when `None`).
    pub fn asset_volume(&self, version: Option<&str>) -> Option<Volume> {
        if !self.assets() {
            return None;
        }
        Some(Volume::new(
            self.asset_volume_directory(version),
            self.asset_path().unwrap_or_default(),
            self.asset_path_options(),
        ))
    }

    /// The asset volume's docker args.
    pub fn asset_volume_args(&self, version: Option<&str>) -> Option<Vec<String>> {
        self.asset_volume(version).map(|v| v.docker_args())
    }

    /// `.kamal/apps/<app>/assets/extracted/<role>-<version>`.
    pub fn asset_extracted_directory(&self, version: Option<&str>) -> String {
        file_join(&[&self.ctx.assets_directory(), "extracted", &self.versioned(version)])
    }

    /// `.kamal/apps/<app>/assets/volumes/<role>-<version>`.
    pub fn asset_volume_directory(&self, version: Option<&str>) -> String {
        file_join(&[&self.ctx.assets_directory(), "volumes", &self.versioned(version)])
    }

    /// `ensure_one_host_for_ssl`.
    pub(crate) fn ensure_one_host_for_ssl(&self) -> Result<(), ConfigError> {
        if let Some(proxy) = &self.proxy {
            let hosts = self.hosts();
            if self.running_proxy && proxy.ssl() && hosts.len() > 1 && !proxy.custom_ssl_certificate() {
                return Err(ConfigError::configuration(format!(
                    "SSL is only supported on a single server unless you provide custom certificates, found {} servers for role {}",
                    hosts.len(),
                    self.name
                )));
            }
        }
        Ok(())
    }
}
