//! `Kamal::Configuration::Proxy` (how an app is deployed behind kamal-proxy: the
//! `kamal-proxy deploy` arguments), `Proxy::Run` (how kamal-proxy itself is run on a host, when
//! `proxy.run` is configured) and `Proxy::Boot` (kamal-proxy's directories and default boot
//! options).

use super::{Context, Volume};
use crate::error::ConfigError;
use crate::ruby::{deep_merge, dig, file_join, get, present, string_list, to_s, truthy};
use crate::utils::{argumentize_list, optionize};
use serde_yaml::{Mapping, Value};
use std::net::Ipv6Addr;
use std::sync::Arc;

/// kamal-proxy's container name.
pub const CONTAINER_NAME: &str = "kamal-proxy";
/// Request headers logged by default.
pub const DEFAULT_LOG_REQUEST_HEADERS: [&str; 3] = ["Cache-Control", "Last-Modified", "User-Agent"];
/// The oldest kamal-proxy version Kamal works with, and the default image tag.
pub const MINIMUM_VERSION: &str = "v0.9.2";
/// Default published HTTP port.
pub const DEFAULT_HTTP_PORT: u16 = 80;
/// Default published HTTPS port.
pub const DEFAULT_HTTPS_PORT: u16 = 443;
/// Default `--log-opt max-size` of the proxy container.
pub const DEFAULT_LOG_MAX_SIZE: &str = "10m";

/// A proxy configuration: the root `proxy`, a role's (merged over the root's), or an
/// accessory's.
#[derive(Clone)]
pub struct Proxy {
    ctx: Arc<Context>,
    config: Value,
    role_name: Option<String>,
    run: Option<ProxyRun>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").field("config", &self.config).field("role_name", &self.role_name).finish()
    }
}

impl Proxy {
    pub(crate) fn new(ctx: Arc<Context>, config: Option<&Value>, role_name: Option<String>) -> Proxy {
        let config = match config {
            None | Some(Value::Null) => Value::Mapping(Mapping::new()),
            Some(v) => v.clone(),
        };
        let run = get(&config, "run").filter(|r| present(r)).map(|r| ProxyRun { ctx: ctx.clone(), config: r.clone() });
        Proxy { ctx, config, role_name, run }
    }

    /// `merge`: this (role) proxy's config deep-merged over `other` (the root proxy).
    pub(crate) fn merge_over(&self, other: &Proxy) -> Proxy {
        Proxy::new(self.ctx.clone(), Some(&deep_merge(&other.config, &self.config)), self.role_name.clone())
    }

    /// The raw (merged) config.
    pub fn config(&self) -> &Value {
        &self.config
    }

    /// The role this proxy belongs to, if any.
    pub fn role_name(&self) -> Option<&str> {
        self.role_name.as_deref()
    }

    /// `proxy.run`, when set: how kamal-proxy is run on the hosts of this role or accessory.
    pub fn run(&self) -> Option<&ProxyRun> {
        self.run.as_ref()
    }

    /// `app_port` (default 80).
    pub fn app_port(&self) -> String {
        get(&self.config, "app_port").map(to_s).unwrap_or_else(|| "80".into())
    }

    /// `healthcheck.path`, or kamal-proxy's default `/up` (Wharf's failure diagnosis).
    pub fn healthcheck_path(&self) -> String {
        dig(&self.config, &["healthcheck", "path"]).filter(|v| !v.is_null()).map(to_s).unwrap_or_else(|| "/up".into())
    }

    /// `ssl?`: `ssl` is true or a certificate hash.
    pub fn ssl(&self) -> bool {
        truthy(get(&self.config, "ssl"))
    }

    /// The hosts: `hosts`, or `host` split on commas.
    pub fn hosts(&self) -> Vec<String> {
        if let Some(h) = get(&self.config, "hosts").filter(|v| truthy(Some(v))) {
            return string_list(Some(h));
        }
        match get(&self.config, "host").filter(|v| truthy(Some(v))) {
            Some(h) => ruby_split(&to_s(h), ','),
            None => vec![],
        }
    }

    /// `custom_ssl_certificate?`: `ssl` names a certificate and a private key secret.
    pub fn custom_ssl_certificate(&self) -> bool {
        match get(&self.config, "ssl") {
            Some(ssl @ Value::Mapping(_)) => {
                crate::ruby::present_opt(get(ssl, "certificate_pem"))
                    && crate::ruby::present_opt(get(ssl, "private_key_pem"))
            }
            _ => false,
        }
    }

    fn ssl_secret(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match get(&self.config, "ssl") {
            Some(ssl @ Value::Mapping(_)) => {
                let name = get(ssl, key).map(to_s).unwrap_or_default();
                self.ctx.secrets.secret(&name).map(Some).map_err(ConfigError::configuration)
            }
            _ => Ok(None),
        }
    }

    /// The certificate PEM, from the secret named by `ssl.certificate_pem`.
    pub fn certificate_pem_content(&self) -> Result<Option<String>, ConfigError> {
        self.ssl_secret("certificate_pem")
    }

    /// The private key PEM, from the secret named by `ssl.private_key_pem`.
    pub fn private_key_pem_content(&self) -> Result<Option<String>, ConfigError> {
        self.ssl_secret("private_key_pem")
    }

    fn tls_path(&self, directory: &str, filename: &str) -> Option<String> {
        if !self.custom_ssl_certificate() {
            return None;
        }
        let mut parts = vec![directory];
        if let Some(r) = &self.role_name {
            parts.push(r);
        }
        parts.push(filename);
        Some(file_join(&parts))
    }

    /// Where the custom certificate goes on the host.
    pub fn host_tls_cert(&self) -> Option<String> {
        self.tls_path(&self.ctx.proxy_boot().tls_directory(), "cert.pem")
    }

    /// Where the custom private key goes on the host.
    pub fn host_tls_key(&self) -> Option<String> {
        self.tls_path(&self.ctx.proxy_boot().tls_directory(), "key.pem")
    }

    /// The custom certificate's path in the proxy container.
    pub fn container_tls_cert(&self) -> Option<String> {
        self.tls_path(&self.ctx.proxy_boot().tls_container_directory(), "cert.pem")
    }

    /// The custom private key's path in the proxy container.
    pub fn container_tls_key(&self) -> Option<String> {
        self.tls_path(&self.ctx.proxy_boot().tls_container_directory(), "key.pem")
    }

    /// `path_prefixes`, or `path_prefix` split on commas.
    pub fn path_prefixes(&self) -> Vec<String> {
        if let Some(p) = get(&self.config, "path_prefixes").filter(|v| truthy(Some(v))) {
            return string_list(Some(p));
        }
        match get(&self.config, "path_prefix").filter(|v| truthy(Some(v))) {
            Some(p) => ruby_split(&to_s(p), ','),
            None => vec![],
        }
    }

    /// The options of `kamal-proxy deploy`, in Kamal's order, nil ones left out: host, tls,
    /// tls-certificate-path, tls-private-key-path, deploy-timeout, drain-timeout,
    /// health-check-interval, health-check-timeout, health-check-path, target-timeout,
    /// buffer-requests, buffer-responses, buffer-memory, max-request-body, max-response-body,
    /// path-prefix, strip-path-prefix, forward-headers, tls-redirect, log-request-header,
    /// log-response-header, error-pages.
    pub fn deploy_options(&self) -> Vec<(String, Value)> {
        let c = &self.config;
        let seconds = |v: Option<&Value>| -> Option<Value> {
            v.filter(|v| truthy(Some(v))).map(|v| Value::String(format!("{}s", to_s(v))))
        };
        let list = |items: Vec<String>| Value::Sequence(items.into_iter().map(Value::String).collect());
        let mut opts: Vec<(&str, Option<Value>)> = vec![];
        opts.push(("host", Some(list(self.hosts()))));
        opts.push(("tls", if self.ssl() { Some(Value::Bool(true)) } else { None }));
        opts.push(("tls-certificate-path", self.container_tls_cert().map(Value::String)));
        opts.push(("tls-private-key-path", self.container_tls_key().map(Value::String)));
        opts.push(("deploy-timeout", seconds(Some(&self.ctx.deploy_timeout()))));
        opts.push(("drain-timeout", seconds(Some(&self.ctx.drain_timeout()))));
        opts.push(("health-check-interval", seconds(dig(c, &["healthcheck", "interval"]))));
        opts.push(("health-check-timeout", seconds(dig(c, &["healthcheck", "timeout"]))));
        opts.push(("health-check-path", dig(c, &["healthcheck", "path"]).filter(|v| !v.is_null()).cloned()));
        opts.push(("target-timeout", seconds(get(c, "response_timeout"))));
        let buffering = get(c, "buffering");
        let buffer_flag = |key: &str| -> Option<Value> {
            match buffering {
                None => Some(Value::Bool(true)),
                Some(b) => match get(b, key) {
                    None => Some(Value::Bool(true)),
                    Some(Value::Null) => None,
                    Some(v) => Some(v.clone()),
                },
            }
        };
        opts.push(("buffer-requests", buffer_flag("requests")));
        opts.push(("buffer-responses", buffer_flag("responses")));
        opts.push(("buffer-memory", dig(c, &["buffering", "memory"]).filter(|v| !v.is_null()).cloned()));
        opts.push(("max-request-body", dig(c, &["buffering", "max_request_body"]).filter(|v| !v.is_null()).cloned()));
        opts.push(("max-response-body", dig(c, &["buffering", "max_response_body"]).filter(|v| !v.is_null()).cloned()));
        opts.push(("path-prefix", Some(list(self.path_prefixes()))));
        opts.push(("strip-path-prefix", get(c, "strip_path_prefix").filter(|v| !v.is_null()).cloned()));
        opts.push(("forward-headers", get(c, "forward_headers").filter(|v| !v.is_null()).cloned()));
        opts.push(("tls-redirect", get(c, "ssl_redirect").filter(|v| !v.is_null()).cloned()));
        let request_headers = dig(c, &["logging", "request_headers"])
            .filter(|v| truthy(Some(v)))
            .cloned()
            .unwrap_or_else(|| list(DEFAULT_LOG_REQUEST_HEADERS.iter().map(|s| s.to_string()).collect()));
        opts.push(("log-request-header", Some(request_headers)));
        opts.push(("log-response-header", dig(c, &["logging", "response_headers"]).filter(|v| !v.is_null()).cloned()));
        opts.push(("error-pages", self.error_pages().map(Value::String)));
        opts.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v))).collect()
    }

    /// `kamal-proxy deploy` arguments: `--target="<target>:<app_port>"` then the
    /// [`deploy_options`](Self::deploy_options) as `--key="value"` (`--key` for true, one per
    /// array element).
    pub fn deploy_command_args(&self, target: &str) -> Vec<String> {
        let target = Value::String(format!("{target}:{}", self.app_port()));
        let opts = self.deploy_options();
        let mut all: Vec<(String, &Value)> = vec![("target".to_string(), &target)];
        all.extend(opts.iter().map(|(k, v)| (k.clone(), v)));
        optionize(all, Some("="))
    }

    /// Wharf's canary: `kamal-proxy rollout deploy` arguments, `--target="ID:PORT"
    /// --deploy-timeout="Ns" --drain-timeout="Ns"` (the service's other settings stay the active
    /// deploy's).
    pub fn rollout_deploy_command_args(&self, target: &str) -> Vec<String> {
        let seconds = |v: Value| Value::String(format!("{}s", to_s(&v)));
        let opts: Vec<(String, Value)> = vec![
            ("target".into(), Value::String(format!("{target}:{}", self.app_port()))),
            ("deploy-timeout".into(), seconds(self.ctx.deploy_timeout())),
            ("drain-timeout".into(), seconds(self.ctx.drain_timeout())),
        ];
        optionize(opts.iter().map(|(k, v)| (k.clone(), v)), Some("="))
    }

    /// `kamal-proxy stop` arguments: `--drain-timeout="Ns"`, `--message="..."`.
    pub fn stop_command_args(&self, drain_timeout: Option<u64>, message: Option<&str>) -> Vec<String> {
        let mut opts: Vec<(String, Value)> = vec![];
        if let Some(t) = drain_timeout {
            opts.push(("drain-timeout".into(), Value::String(format!("{t}s"))));
        }
        if let Some(m) = message {
            opts.push(("message".into(), Value::String(m.to_string())));
        }
        optionize(opts.iter().map(|(k, v)| (k.clone(), v)), Some("="))
    }

    fn error_pages(&self) -> Option<String> {
        self.ctx.error_pages_path()?;
        Some(file_join(&[&self.ctx.proxy_boot().error_pages_container_directory(), &self.ctx.version()]))
    }
}

/// Ruby's `String#split(",")`: trailing empty fields dropped.
fn ruby_split(s: &str, sep: char) -> Vec<String> {
    let mut parts: Vec<String> = s.split(sep).map(String::from).collect();
    while parts.last().map(|p| p.is_empty()).unwrap_or(false) {
        parts.pop();
    }
    parts
}

/// `[::1]` for IPv6 addresses, as Kamal formats bind IPs.
fn format_bind_ip(ip: &str) -> String {
    if ip.parse::<Ipv6Addr>().is_ok() && !(ip.starts_with('[') && ip.ends_with(']')) {
        format!("[{ip}]")
    } else {
        ip.to_string()
    }
}

fn publish_args(http_port: &str, https_port: &str, bind_ips: Option<Vec<String>>) -> String {
    let ips: Vec<Option<String>> = match bind_ips {
        Some(ips) => ips.into_iter().map(Some).collect(),
        None => vec![None],
    };
    ips.into_iter()
        .map(|ip| {
            let ip = ip.map(|i| format_bind_ip(&i));
            let join = |port: &str, default: u16| {
                let mut parts = vec![];
                if let Some(i) = &ip {
                    parts.push(i.clone());
                }
                parts.push(port.to_string());
                parts.push(default.to_string());
                parts.join(":")
            };
            argumentize_list("--publish", &[join(http_port, DEFAULT_HTTP_PORT), join(https_port, DEFAULT_HTTPS_PORT)])
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `proxy.run`: how kamal-proxy is run on a host (image, ports, options, run command).
#[derive(Clone)]
pub struct ProxyRun {
    ctx: Arc<Context>,
    config: Value,
}

impl std::fmt::Debug for ProxyRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyRun").field("config", &self.config).finish()
    }
}

/// Two run configs are the same when their settings are (Kamal compares `run_config`).
impl PartialEq for ProxyRun {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
    }
}

impl ProxyRun {
    /// A run config on its own (as `Proxy::Run.new(config, run_config:)`).
    pub fn new(config: &super::Configuration, run_config: Value) -> ProxyRun {
        ProxyRun { ctx: config.ctx.clone(), config: run_config }
    }

    /// The raw settings.
    pub fn config(&self) -> &Value {
        &self.config
    }

    fn fetch(&self, key: &str) -> Option<&Value> {
        get(&self.config, key)
    }

    /// `debug`.
    pub fn debug(&self) -> bool {
        truthy(self.fetch("debug"))
    }

    /// `publish` (default true): publish the HTTP/HTTPS ports.
    pub fn publish(&self) -> bool {
        !matches!(self.fetch("publish"), Some(Value::Bool(false)) | Some(Value::Null))
    }

    /// `http_port` (default 80).
    pub fn http_port(&self) -> String {
        self.fetch("http_port").map(to_s).unwrap_or_else(|| DEFAULT_HTTP_PORT.to_string())
    }

    /// `https_port` (default 443).
    pub fn https_port(&self) -> String {
        self.fetch("https_port").map(to_s).unwrap_or_else(|| DEFAULT_HTTPS_PORT.to_string())
    }

    /// `bind_ips`.
    pub fn bind_ips(&self) -> Option<Vec<String>> {
        self.fetch("bind_ips").filter(|v| !v.is_null()).map(|v| string_list(Some(v)))
    }

    /// `--publish [ip:]http:80 --publish [ip:]https:443` per bind IP, joined with spaces, or
    /// `None` when `publish: false`.
    pub fn publish_args(&self) -> Option<String> {
        if self.publish() {
            Some(publish_args(&self.http_port(), &self.https_port(), self.bind_ips()))
        } else {
            None
        }
    }

    /// `log_max_size` (default `10m`).
    pub fn log_max_size(&self) -> Option<String> {
        match self.fetch("log_max_size") {
            None => Some(DEFAULT_LOG_MAX_SIZE.to_string()),
            Some(Value::Null) => None,
            Some(v) => Some(to_s(v)),
        }
    }

    /// `--log-opt max-size=<size>` (nothing when the size is blank).
    pub fn logging_args(&self) -> Option<Vec<String>> {
        let size = self.log_max_size().filter(|s| !crate::ruby::blank_str(s))?;
        Some(argumentize_list("--log-opt", &[format!("max-size={size}")]))
    }

    /// `version` (default `v0.9.2`).
    pub fn version(&self) -> String {
        self.fetch("version").map(to_s).unwrap_or_else(|| MINIMUM_VERSION.into())
    }

    /// `registry` of the proxy image.
    pub fn registry(&self) -> Option<String> {
        self.fetch("registry").filter(|v| !v.is_null()).map(to_s)
    }

    /// `repository` (default `basecamp/kamal-proxy`).
    pub fn repository(&self) -> String {
        self.fetch("repository").map(to_s).unwrap_or_else(|| "basecamp/kamal-proxy".into())
    }

    /// `[registry/]repository:version`.
    pub fn image(&self) -> String {
        let repo = match self.registry() {
            Some(r) => format!("{r}/{}", self.repository()),
            None => self.repository(),
        };
        format!("{repo}:{}", self.version())
    }

    /// `kamal-proxy`.
    pub fn container_name(&self) -> &'static str {
        CONTAINER_NAME
    }

    /// `options` as docker flags.
    pub fn options_args(&self) -> Option<Vec<String>> {
        match self.fetch("options") {
            Some(Value::Mapping(m)) => Some(crate::utils::optionize_mapping(m)),
            _ => None,
        }
    }

    /// `metrics_port`.
    pub fn metrics_port(&self) -> Option<String> {
        self.fetch("metrics_port").filter(|v| !v.is_null()).map(to_s)
    }

    /// `kamal-proxy run [--debug] [--metrics-port "N"]`.
    pub fn run_command(&self) -> String {
        let mut opts: Vec<(String, Value)> = vec![];
        if self.debug() {
            opts.push(("debug".into(), Value::Bool(true)));
        }
        if let Some(m) = self.fetch("metrics_port").filter(|v| !v.is_null()) {
            opts.push(("metrics-port".into(), m.clone()));
        }
        let mut parts = vec!["kamal-proxy".to_string(), "run".to_string()];
        parts.extend(optionize(opts.iter().map(|(k, v)| (k.clone(), v)), None));
        parts.join(" ")
    }

    /// The `docker run` options: the apps-config volume, publish args, logging args,
    /// `--expose=<metrics_port>`, then `options`.
    pub fn docker_options_args(&self) -> Vec<String> {
        let mut out = vec![];
        out.extend(self.apps_volume().docker_args());
        if let Some(p) = self.publish_args() {
            out.push(p);
        }
        if let Some(l) = self.logging_args() {
            out.extend(l);
        }
        if let Some(m) = self.metrics_port().filter(|m| !crate::ruby::blank_str(m)) {
            out.push(format!("--expose={m}"));
        }
        if let Some(o) = self.options_args() {
            out.extend(o);
        }
        out
    }

    /// `.kamal/proxy/apps-config` mounted at `/home/kamal-proxy/.apps-config`.
    pub fn apps_volume(&self) -> Volume {
        let boot = self.ctx.proxy_boot();
        Volume::new(boot.apps_directory(), boot.apps_container_directory(), None)
    }
}

/// `Proxy::Boot`: kamal-proxy's directories on the host and in its container, and the default
/// boot options when there is no `proxy.run`.
#[derive(Clone)]
pub struct ProxyBoot {
    run_directory: String,
    service_and_destination: String,
}

impl std::fmt::Debug for ProxyBoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyBoot").field("app_directory", &self.app_directory()).finish()
    }
}

impl ProxyBoot {
    pub(crate) fn new(run_directory: String, service_and_destination: String) -> ProxyBoot {
        ProxyBoot { run_directory, service_and_destination }
    }

    /// `--publish` args for the given ports and bind IPs (IPv6 in brackets); `Err` with Kamal's
    /// `ArgumentError` for an invalid IP.
    pub fn publish_args(
        &self,
        http_port: &str,
        https_port: &str,
        bind_ips: Option<&[String]>,
    ) -> Result<String, ConfigError> {
        if let Some(ips) = bind_ips {
            for ip in ips {
                let inner = ip.trim_start_matches('[').trim_end_matches(']');
                if ip.parse::<std::net::Ipv4Addr>().is_err() && inner.parse::<Ipv6Addr>().is_err() {
                    return Err(ConfigError::argument(format!("Invalid publish IP address: {ip}")));
                }
            }
        }
        Ok(publish_args(http_port, https_port, bind_ips.map(|i| i.to_vec())))
    }

    /// `--log-opt max-size=<size>`, or nothing for a blank size.
    pub fn logging_args(&self, max_size: &str) -> Option<Vec<String>> {
        if crate::ruby::blank_str(max_size) {
            None
        } else {
            Some(argumentize_list("--log-opt", &[format!("max-size={max_size}")]))
        }
    }

    /// `--publish 80:80 --publish 443:443 --log-opt max-size=10m`, the boot options used when
    /// the host has no saved options.
    pub fn default_boot_options(&self) -> Vec<String> {
        let mut out = vec![publish_args(&DEFAULT_HTTP_PORT.to_string(), &DEFAULT_HTTPS_PORT.to_string(), None)];
        out.extend(self.logging_args(DEFAULT_LOG_MAX_SIZE).unwrap_or_default());
        out
    }

    /// `basecamp`.
    pub fn repository_name(&self) -> &'static str {
        "basecamp"
    }

    /// `kamal-proxy`.
    pub fn image_name(&self) -> &'static str {
        "kamal-proxy"
    }

    /// `basecamp/kamal-proxy`.
    pub fn image_default(&self) -> String {
        format!("{}/{}", self.repository_name(), self.image_name())
    }

    /// `kamal-proxy`.
    pub fn container_name(&self) -> &'static str {
        CONTAINER_NAME
    }

    /// `.kamal/proxy`.
    pub fn host_directory(&self) -> String {
        file_join(&[&self.run_directory, "proxy"])
    }

    /// `.kamal/proxy/options`.
    pub fn options_file(&self) -> String {
        file_join(&[&self.host_directory(), "options"])
    }

    /// `.kamal/proxy/image`.
    pub fn image_file(&self) -> String {
        file_join(&[&self.host_directory(), "image"])
    }

    /// `.kamal/proxy/image_version`.
    pub fn image_version_file(&self) -> String {
        file_join(&[&self.host_directory(), "image_version"])
    }

    /// `.kamal/proxy/run_command`.
    pub fn run_command_file(&self) -> String {
        file_join(&[&self.host_directory(), "run_command"])
    }

    /// `.kamal/proxy/apps-config`.
    pub fn apps_directory(&self) -> String {
        file_join(&[&self.host_directory(), "apps-config"])
    }

    /// `/home/kamal-proxy/.apps-config`.
    pub fn apps_container_directory(&self) -> String {
        "/home/kamal-proxy/.apps-config".into()
    }

    /// The apps-config volume.
    pub fn apps_volume(&self) -> Volume {
        Volume::new(self.apps_directory(), self.apps_container_directory(), None)
    }

    /// `.kamal/proxy/apps-config/<service>[-<destination>]`.
    pub fn app_directory(&self) -> String {
        file_join(&[&self.apps_directory(), &self.service_and_destination])
    }

    /// `/home/kamal-proxy/.apps-config/<service>[-<destination>]`.
    pub fn app_container_directory(&self) -> String {
        file_join(&[&self.apps_container_directory(), &self.service_and_destination])
    }

    /// `<app_directory>/error_pages`.
    pub fn error_pages_directory(&self) -> String {
        file_join(&[&self.app_directory(), "error_pages"])
    }

    /// `<app_container_directory>/error_pages`.
    pub fn error_pages_container_directory(&self) -> String {
        file_join(&[&self.app_container_directory(), "error_pages"])
    }

    /// `<app_directory>/tls`.
    pub fn tls_directory(&self) -> String {
        file_join(&[&self.app_directory(), "tls"])
    }

    /// `<app_container_directory>/tls`.
    pub fn tls_container_directory(&self) -> String {
        file_join(&[&self.app_container_directory(), "tls"])
    }
}
