//! `Kamal::Configuration::Ssh` (how to reach the hosts) and `Kamal::Configuration::Sshkit`
//! (connection pool and concurrency settings).

use crate::error::ConfigError;
use crate::ruby::{get, string_list, to_s};
use crate::secrets::SecretLookup;
use crate::yaml::{symbol, Node};
use serde_yaml::Value;
use std::sync::Arc;

/// Printed once per inline `ssh.key_data` entry when it is used.
pub const KEY_DATA_DEPRECATION: &str =
    "Inline key_data usage is deprecated and will be removed in Kamal 3. Please store your key_data in a secret.";

/// How to reach a host through another one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SshProxy {
    /// `ssh.proxy`: a jump host, `user@host` (`root@` added when no user is given).
    Jump(String),
    /// `ssh.proxy_command`: a ProxyCommand template (`%h`, `%p`).
    Command(String),
}

/// The `ssh` section.
#[derive(Clone)]
pub struct Ssh {
    config: Value,
    secrets: Arc<dyn SecretLookup>,
}

impl std::fmt::Debug for Ssh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ssh").field("user", &self.user()).field("port", &self.port()).finish()
    }
}

impl Ssh {
    pub(crate) fn new(config: Option<&Value>, secrets: Arc<dyn SecretLookup>) -> Ssh {
        Ssh { config: config.cloned().unwrap_or(Value::Null), secrets }
    }

    /// `user` (default `root`).
    pub fn user(&self) -> String {
        get(&self.config, "user").map(to_s).unwrap_or_else(|| "root".into())
    }

    /// `port` as given (default 22); a string port (`"2222"`) is kept a string, as in Kamal.
    pub fn port_value(&self) -> Value {
        get(&self.config, "port").cloned().unwrap_or(Value::Number(22.into()))
    }

    /// `port` as a number (default 22).
    pub fn port(&self) -> u16 {
        to_s(&self.port_value()).trim().parse().unwrap_or(22)
    }

    /// `proxy` (jump host) or `proxy_command`.
    pub fn proxy(&self) -> Option<SshProxy> {
        if let Some(p) = get(&self.config, "proxy").filter(|v| crate::ruby::truthy(Some(v))) {
            let p = to_s(p);
            Some(SshProxy::Jump(if p.contains('@') { p } else { format!("root@{p}") }))
        } else {
            get(&self.config, "proxy_command")
                .filter(|v| crate::ruby::truthy(Some(v)))
                .map(|c| SshProxy::Command(to_s(c)))
        }
    }

    /// `keys_only`.
    pub fn keys_only(&self) -> Option<bool> {
        get(&self.config, "keys_only").and_then(Value::as_bool)
    }

    /// `keys` (private key files).
    pub fn keys(&self) -> Option<Vec<String>> {
        get(&self.config, "keys").filter(|v| !v.is_null()).map(|v| string_list(Some(v)))
    }

    /// `key_data`: each entry is a secret name (resolved) or, deprecated, the key itself.
    pub fn key_data(&self) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(entries) = get(&self.config, "key_data").filter(|v| !v.is_null()) else { return Ok(None) };
        let mut out = vec![];
        for k in string_list(Some(entries)) {
            if self.secrets.has_secret(&k) {
                out.push(self.secrets.secret(&k).map_err(ConfigError::configuration)?);
            } else {
                out.push(k);
            }
        }
        Ok(Some(out))
    }

    /// The `key_data` entries that are inline keys rather than secret names (each earns a
    /// [`KEY_DATA_DEPRECATION`] warning when used).
    pub fn inline_key_data(&self) -> Vec<String> {
        string_list(get(&self.config, "key_data")).into_iter().filter(|k| !self.secrets.has_secret(k)).collect()
    }

    /// `config`: `true`/`false`, a path, or paths of ssh config files.
    pub fn config(&self) -> Option<Value> {
        get(&self.config, "config").filter(|v| !v.is_null()).cloned()
    }

    /// `forward_agent`.
    pub fn forward_agent(&self) -> Option<bool> {
        get(&self.config, "forward_agent").and_then(Value::as_bool)
    }

    /// `log_level` (default `fatal`), without a symbol's colon.
    pub fn log_level(&self) -> String {
        get(&self.config, "log_level").map(to_s).unwrap_or_else(|| "fatal".into())
    }

    /// Kamal's `Ssh#to_h` (the `ssh_options` of `kamal config`): user, port, proxy, keepalive,
    /// keepalive_interval, keys_only, keys, key_data, config, forward_agent, log_level.
    pub fn to_h(&self) -> Result<Node, ConfigError> {
        let mut pairs: Vec<(Node, Node)> = vec![];
        let mut put = |k: &str, v: Node| pairs.push((Node::sym(k), v));
        put("user", Node::Value(get(&self.config, "user").cloned().unwrap_or_else(|| Value::String("root".into()))));
        put("port", Node::Value(self.port_value()));
        match self.proxy() {
            Some(SshProxy::Jump(j)) => {
                put("proxy", Node::Object("Net::SSH::Proxy::Jump".into(), vec![("jump_proxies".into(), Node::str(j))]))
            }
            Some(SshProxy::Command(c)) => put(
                "proxy",
                Node::Object(
                    "Net::SSH::Proxy::Command".into(),
                    vec![
                        ("command_line_template".into(), Node::str(c)),
                        ("command_line".into(), Node::Value(Value::Null)),
                        ("timeout".into(), Node::Value(Value::Number(60.into()))),
                    ],
                ),
            ),
            None => {}
        }
        put("keepalive", Node::Value(Value::Bool(true)));
        put("keepalive_interval", Node::Value(Value::Number(30.into())));
        for key in ["keys_only", "keys"] {
            if let Some(v) = get(&self.config, key).filter(|v| !v.is_null()) {
                put(key, Node::Value(v.clone()));
            }
        }
        if let Some(data) = self.key_data()? {
            put("key_data", Node::Array(data.into_iter().map(Node::str).collect()));
        }
        for key in ["config", "forward_agent"] {
            if let Some(v) = get(&self.config, key).filter(|v| !v.is_null()) {
                put(key, Node::Value(v.clone()));
            }
        }
        put("log_level", Node::Value(get(&self.config, "log_level").cloned().unwrap_or_else(|| symbol("fatal"))));
        Ok(Node::Hash(pairs))
    }
}

/// The `sshkit` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Sshkit {
    config: Value,
}

impl Sshkit {
    pub(crate) fn new(config: Option<&Value>) -> Sshkit {
        Sshkit { config: config.cloned().unwrap_or(Value::Null) }
    }

    fn int(&self, key: &str, default: u64) -> u64 {
        match get(&self.config, key) {
            Some(Value::Number(n)) => n.as_u64().unwrap_or(default),
            Some(v @ Value::String(_)) => to_s(v).trim().parse().unwrap_or(default),
            _ => default,
        }
    }

    /// `max_concurrent_starts` (default 30).
    pub fn max_concurrent_starts(&self) -> u64 {
        self.int("max_concurrent_starts", 30)
    }

    /// `pool_idle_timeout` in seconds (default 900).
    pub fn pool_idle_timeout(&self) -> u64 {
        self.int("pool_idle_timeout", 900)
    }

    /// `dns_retries` (default 3).
    pub fn dns_retries(&self) -> u64 {
        self.int("dns_retries", 3)
    }

    /// The raw section (`{}` when unset), as `kamal config` prints it.
    pub fn to_h(&self) -> Value {
        match &self.config {
            Value::Null => Value::Mapping(Default::default()),
            v => v.clone(),
        }
    }
}
