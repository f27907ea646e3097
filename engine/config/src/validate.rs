//! Kamal's `Kamal::Configuration::Validator` and its special validators (role, servers, env,
//! proxy, accessory, builder, registry, alias), with Kamal's exact messages and `/`-joined key
//! paths.
//!
//! As in Kamal, the schema is the example YAML of Kamal's docs (`schema/*.yml`, embedded): a
//! config is walked against the example, keys the example lacks are unknown, and the example
//! value's type is the expected type (`...` meaning "a hash"). The semantic checks of
//! `Configuration#ensure_*` live in [`crate::model`], where the resolved values are.

use crate::error::ConfigError;
use crate::ruby::{get, present, present_opt, to_s};
use serde_yaml::Value;
use std::sync::OnceLock;

type Result<T> = std::result::Result<T, ConfigError>;

/// Kamal's docs, embedded: `(name, text)`.
pub const SCHEMA_DOCS: &[(&str, &str)] = &[
    ("accessory", include_str!("../schema/accessory.yml")),
    ("alias", include_str!("../schema/alias.yml")),
    ("boot", include_str!("../schema/boot.yml")),
    ("builder", include_str!("../schema/builder.yml")),
    ("configuration", include_str!("../schema/configuration.yml")),
    ("env", include_str!("../schema/env.yml")),
    ("logging", include_str!("../schema/logging.yml")),
    ("output", include_str!("../schema/output.yml")),
    ("proxy", include_str!("../schema/proxy.yml")),
    ("registry", include_str!("../schema/registry.yml")),
    ("role", include_str!("../schema/role.yml")),
    ("servers", include_str!("../schema/servers.yml")),
    ("ssh", include_str!("../schema/ssh.yml")),
    ("sshkit", include_str!("../schema/sshkit.yml")),
];

/// The raw text of one of Kamal's configuration docs (what `kamal docs <section>` prints).
pub fn doc(name: &str) -> Option<&'static str> {
    SCHEMA_DOCS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A doc loaded as YAML (as Psych loads it: duplicate keys keep the last value).
fn schema(name: &str) -> &'static Value {
    static LOADED: OnceLock<Vec<(&'static str, Value)>> = OnceLock::new();
    let all = LOADED.get_or_init(|| {
        SCHEMA_DOCS
            .iter()
            .map(|(n, t)| (*n, crate::yaml::load_str(t, None).expect("Kamal's schema docs parse")))
            .collect()
    });
    &all.iter().find(|(n, _)| *n == name).expect("known schema").1
}

fn example(doc: &str, path: &[&str]) -> &'static Value {
    let mut cur = schema(doc);
    for p in path {
        cur = get(cur, p).expect("schema path");
    }
    cur
}

/// Ruby classes as Kamal's validator sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RType {
    String,
    Integer,
    Float,
    Bool,
    Array,
    Hash,
    Nil,
    Symbol,
}

impl RType {
    fn of(v: &Value) -> RType {
        match v {
            Value::Null => RType::Nil,
            Value::Bool(_) => RType::Bool,
            Value::Number(n) => {
                if n.is_f64() {
                    RType::Float
                } else {
                    RType::Integer
                }
            }
            Value::String(_) => RType::String,
            Value::Sequence(_) => RType::Array,
            Value::Mapping(_) => RType::Hash,
            Value::Tagged(t) => RType::of(&t.value),
        }
    }

    fn description(self) -> &'static str {
        match self {
            RType::String => "a string",
            RType::Integer => "an integer",
            RType::Float => "a float",
            RType::Bool => "a boolean",
            RType::Array => "an array",
            RType::Hash => "a hash",
            RType::Nil => "a nilclass",
            RType::Symbol => "a symbol",
        }
    }
}

fn stringish(v: &Value) -> bool {
    matches!(RType::of(v), RType::String | RType::Symbol | RType::Integer | RType::Float | RType::Bool)
}

fn valid_type(v: &Value, t: RType) -> bool {
    let actual = RType::of(v);
    actual == t || (t == RType::String && stringish(v)) || (t == RType::Symbol && actual == RType::String)
}

/// Kamal's validator state: the current `/`-joined context.
pub struct Validator {
    context: String,
    allow_extensions: bool,
}

impl Validator {
    /// A validator whose messages are prefixed with `context: ` (nothing for the root).
    pub fn new(context: impl Into<String>) -> Self {
        Validator { context: context.into(), allow_extensions: false }
    }

    fn root() -> Self {
        Validator { context: String::new(), allow_extensions: true }
    }

    /// Raises `"<context>: <message>"`.
    pub fn error(&self, message: impl AsRef<str>) -> ConfigError {
        if self.context.is_empty() {
            ConfigError::configuration(message.as_ref())
        } else {
            ConfigError::configuration(format!("{}: {}", self.context, message.as_ref()))
        }
    }

    fn with_context<T>(&mut self, key: &str, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let old = self.context.clone();
        if !crate::ruby::blank_str(key) {
            if self.context.is_empty() {
                self.context = key.to_string();
            } else {
                self.context = format!("{}/{}", self.context, key);
            }
        }
        let r = f(self);
        self.context = old;
        r
    }

    fn type_error(&self, types: &[RType]) -> ConfigError {
        let mut descriptions: Vec<&str> = vec![];
        for t in types {
            let d = t.description();
            if !descriptions.contains(&d) {
                descriptions.push(d);
            }
        }
        self.error(format!("should be {}", descriptions.join(" or ")))
    }

    fn validate_type(&self, v: &Value, types: &[RType]) -> Result<()> {
        if types.iter().any(|t| valid_type(v, *t)) {
            Ok(())
        } else {
            Err(self.type_error(types))
        }
    }

    /// `validate_against_example!`: the generic walk.
    pub fn validate_against_example(&mut self, config: &Value, example: &Value) -> Result<()> {
        self.validate_type(config, &[RType::of(example)])?;
        let (Value::Mapping(config_map), Value::Mapping(example_map)) = (config, example) else {
            return Ok(());
        };
        self.check_unknown_keys(config_map, example_map)?;
        for (key, value) in config_map {
            let key_s = to_s(key);
            if extension(&key_s) {
                continue;
            }
            let example_value = example_map.get(key).unwrap_or(&Value::Null);
            self.with_context(&key_s, |v| v.validate_key(&key_s, value, example_value))?;
        }
        Ok(())
    }

    fn validate_key(&mut self, key: &str, value: &Value, example_value: &Value) -> Result<()> {
        if example_value.as_str() == Some("...") {
            if !(key == "proxy" && matches!(value, Value::Bool(_))) {
                if key == "servers" {
                    self.validate_type(value, &[RType::Array, RType::Hash])?;
                } else {
                    self.validate_type(value, &[RType::Hash])?;
                }
            }
        } else if key == "ssl" {
            self.validate_type(value, &[RType::Bool, RType::Bool, RType::Hash])?;
        } else if key == "hooks_output" {
            self.validate_hooks_output(value)?;
        } else if key == "hosts" {
            self.validate_servers(value)?;
        } else if let Value::Sequence(items) = example_value {
            let first = items.first().map(RType::of).unwrap_or(RType::Nil);
            if key == "arch" {
                self.validate_array_of_or_type(value, first)?;
            } else if key == "config" {
                self.validate_ssh_config(value)?;
            } else if key == "files" || key == "directories" {
                self.validate_paths(value)?;
            } else {
                self.validate_array_of(value, first)?;
            }
        } else if let Value::Mapping(m) = example_value {
            match key {
                "options" | "args" => self.validate_type(value, &[RType::Hash])?,
                "labels" => {
                    let t = m.iter().next().map(|(_, v)| RType::of(v)).unwrap_or(RType::Nil);
                    self.validate_hash_of(value, t)?
                }
                _ => self.validate_against_example(value, example_value)?,
            }
        } else {
            self.validate_type(value, &[RType::of(example_value)])?;
        }
        Ok(())
    }

    fn check_unknown_keys(&self, config: &serde_yaml::Mapping, example: &serde_yaml::Mapping) -> Result<()> {
        let unknown: Vec<String> = config
            .keys()
            .filter(|k| !example.contains_key(*k))
            .map(to_s)
            .filter(|k| !(self.allow_extensions && extension(k)))
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(self.unknown_keys_error(&unknown))
        }
    }

    fn unknown_keys_error(&self, unknown: &[String]) -> ConfigError {
        let word = if unknown.len() == 1 { "key" } else { "keys" };
        self.error(format!("unknown {word}: {}", unknown.join(", ")))
    }

    fn validate_array_of_or_type(&mut self, value: &Value, t: RType) -> Result<()> {
        let r = if matches!(value, Value::Sequence(_)) {
            self.validate_array_of(value, t)
        } else {
            self.validate_type(value, &[t])
        };
        r.map_err(|_| self.type_error(&[RType::Array, t]))
    }

    fn validate_array_of(&mut self, value: &Value, t: RType) -> Result<()> {
        self.validate_type(value, &[RType::Array])?;
        if let Value::Sequence(items) = value {
            for (i, item) in items.iter().enumerate() {
                self.with_context(&i.to_string(), |v| v.validate_type(item, &[t]))?;
            }
        }
        Ok(())
    }

    fn validate_hash_of(&mut self, value: &Value, t: RType) -> Result<()> {
        self.validate_type(value, &[RType::Hash])?;
        if let Value::Mapping(m) = value {
            for (k, item) in m {
                self.with_context(&to_s(k), |v| v.validate_type(item, &[t]))?;
            }
        }
        Ok(())
    }

    /// `validate_servers!`: a host list whose entries are strings or `{host: tag(s)}`.
    fn validate_servers(&mut self, servers: &Value) -> Result<()> {
        self.validate_type(servers, &[RType::Array])?;
        let Value::Sequence(items) = servers else { return Ok(()) };
        for (i, server) in items.iter().enumerate() {
            self.with_context(&i.to_string(), |v| {
                v.validate_type(server, &[RType::String, RType::Hash])?;
                if let Value::Mapping(m) = server {
                    if m.len() != 1 {
                        return Err(v.error("multiple hosts found"));
                    }
                    let (host, tags) = m.iter().next().unwrap();
                    v.with_context(&to_s(host), |v| {
                        v.validate_type(tags, &[RType::String, RType::Array])?;
                        if matches!(tags, Value::Sequence(_)) {
                            v.validate_array_of(tags, RType::String)?;
                        }
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    fn validate_ssh_config(&mut self, config: &Value) -> Result<()> {
        match config {
            Value::Sequence(_) => self.validate_array_of(config, RType::String),
            Value::Bool(_) | Value::String(_) => Ok(()),
            _ => Err(self.type_error(&[RType::Bool, RType::Bool, RType::String, RType::Array])),
        }
    }

    fn validate_paths(&mut self, paths: &Value) -> Result<()> {
        self.validate_type(paths, &[RType::Array])?;
        let Value::Sequence(items) = paths else { return Ok(()) };
        for (i, path) in items.iter().enumerate() {
            self.with_context(&i.to_string(), |v| {
                v.validate_type(path, &[RType::String, RType::Hash])?;
                if let Value::Mapping(_) = path {
                    for key in ["local", "remote", "mode", "owner", "options"] {
                        if let Some(item) = get(path, key) {
                            v.with_context(key, |v| v.validate_type(item, &[RType::String]))?;
                        }
                    }
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    fn validate_hooks_output(&mut self, value: &Value) -> Result<()> {
        if let Value::Mapping(m) = value {
            for (hook, level) in m {
                self.with_context(&to_s(hook), |v| v.validate_type(level, &[RType::String, RType::Symbol]))?;
            }
            Ok(())
        } else {
            self.validate_type(value, &[RType::String, RType::Symbol])
        }
    }

    fn validate_labels(&mut self, labels: Option<&Value>) -> Result<()> {
        let Some(labels) = labels.filter(|l| present(l)) else { return Ok(()) };
        let Value::Mapping(m) = labels else { return Ok(()) };
        self.with_context("labels", |v| {
            for (key, _) in m {
                let key = to_s(key);
                v.with_context(&key, |v| {
                    if ["destination", "role", "service"].contains(&key.as_str()) {
                        Err(v.error("invalid label. destination, role, and service are reserved labels"))
                    } else {
                        Ok(())
                    }
                })?;
            }
            Ok(())
        })
    }

    fn validate_docker_options(&mut self, options: Option<&Value>) -> Result<()> {
        let Some(Value::Mapping(m)) = options else { return Ok(()) };
        let Some((_, policy)) = m.iter().find(|(k, _)| to_s(k) == "restart") else { return Ok(()) };
        self.with_context("options/restart", |v| {
            let Value::String(s) = policy else {
                return Err(v.error("should be a string. Use \"no\" to disable restarts"));
            };
            if !valid_restart_policy(s) {
                return Err(v.error("should be no, always, unless-stopped, on-failure, or on-failure:N"));
            }
            Ok(())
        })
    }
}

fn valid_restart_policy(s: &str) -> bool {
    match s {
        "no" | "always" | "unless-stopped" | "on-failure" => true,
        _ => s
            .strip_prefix("on-failure:")
            .map(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            .unwrap_or(false),
    }
}

fn extension(key: &str) -> bool {
    key.starts_with("x-")
}

/// The root walk (`Validator::Configuration`): `x-*` keys are allowed at the root only.
pub fn validate_configuration(raw: &Value) -> Result<()> {
    Validator::root().validate_against_example(raw, schema("configuration"))
}

/// `Validator::Servers`: `servers` is a host list, a hash of roles, or absent.
pub fn validate_servers(servers: &Value) -> Result<()> {
    let mut v = Validator::new("servers");
    v.validate_type(servers, &[RType::Array, RType::Hash, RType::Nil])?;
    if matches!(servers, Value::Sequence(_)) {
        v.validate_servers(servers)?;
    }
    Ok(())
}

/// `Validator::Role` for `servers/<name>`.
pub fn validate_role(name: &str, config: &Value) -> Result<()> {
    let mut v = Validator::new(format!("servers/{name}"));
    v.validate_type(config, &[RType::Array, RType::Hash])?;
    if matches!(config, Value::Sequence(_)) {
        v.validate_servers(config)
    } else {
        v.validate_against_example(config, example("role", &["servers", "workers"]))?;
        v.validate_labels(get(config, "labels"))?;
        v.validate_docker_options(get(config, "options"))
    }
}

/// `Validator::Env` for an env hash under `context` (`env`, `servers/web/env`, ...).
pub fn validate_env(config: &Value, context: &str) -> Result<()> {
    let mut v = Validator::new(context);
    validate_env_with(&mut v, config)
}

fn validate_env_with(v: &mut Validator, config: &Value) -> Result<()> {
    const SPECIAL: [&str; 3] = ["clear", "secret", "tags"];
    let Value::Mapping(m) = config else {
        return v.validate_hash_of(config, RType::String);
    };
    let keys: Vec<String> = m.keys().map(to_s).collect();
    let known = keys.iter().any(|k| SPECIAL.contains(&k.as_str()));
    if !known {
        return v.validate_hash_of(config, RType::String);
    }
    let unknown: Vec<String> = keys.iter().filter(|k| !SPECIAL.contains(&k.as_str())).cloned().collect();
    if !unknown.is_empty() {
        return Err(v.unknown_keys_error(&unknown));
    }
    if let Some(clear) = get(config, "clear") {
        v.with_context("clear", |v| v.validate_hash_of(clear, RType::String))?;
    }
    if let Some(secret) = get(config, "secret") {
        v.with_context("secret", |v| v.validate_array_of(secret, RType::String))?;
    }
    if let Some(tags) = get(config, "tags") {
        if v.context == "env" {
            v.with_context("tags", |v| {
                v.validate_type(tags, &[RType::Hash])?;
                if let Value::Mapping(tm) = tags {
                    for (tag, value) in tm {
                        v.with_context(&to_s(tag), |v| {
                            v.validate_type(value, &[RType::Hash])?;
                            let mut nested = Validator::new(v.context.clone());
                            validate_env_with(&mut nested, value)
                        })?;
                    }
                }
                Ok(())
            })?;
        } else {
            return Err(v.error("tags are only allowed in the root env"));
        }
    }
    Ok(())
}

/// `Kamal::Configuration::Logging`'s validation under `context`.
pub fn validate_logging(config: &Value, context: &str) -> Result<()> {
    Validator::new(context).validate_against_example(config, example("logging", &["logging"]))
}

/// `Validator::Proxy` under `context` (`proxy`, `servers/web/proxy`, `accessories/db/proxy`).
pub fn validate_proxy(config: &Value, context: &str) -> Result<()> {
    if config.is_null() {
        return Ok(());
    }
    let mut v = Validator::new(context);
    v.validate_against_example(config, example("proxy", &["proxy"]))?;
    let ssl = get(config, "ssl");
    if !present_opt(get(config, "host")) && !present_opt(get(config, "hosts")) && crate::ruby::truthy(ssl) {
        return Err(v.error("Must set a host to enable automatic SSL"));
    }
    if get(config, "host").is_some() && get(config, "hosts").is_some() {
        return Err(v.error("Specify one of 'host' or 'hosts', not both"));
    }
    if let Some(ssl @ Value::Mapping(_)) = ssl {
        let cert = present_opt(get(ssl, "certificate_pem"));
        let key = present_opt(get(ssl, "private_key_pem"));
        if cert && !key {
            return Err(v.error("Missing private_key_pem setting (required when certificate_pem is present)"));
        }
        if key && !cert {
            return Err(v.error("Missing certificate_pem setting (required when private_key_pem is present)"));
        }
    }
    if let Some(run) = get(config, "run").filter(|r| crate::ruby::truthy(Some(r))) {
        // Kamal checks `config["bind_ips"]` (not the run's) here, which is never set: no-op.
        if matches!(get(run, "publish"), Some(Value::Bool(false)))
            && (present_opt(get(run, "bind_ips"))
                || present_opt(get(run, "http_port"))
                || present_opt(get(run, "https_port")))
        {
            return Err(v.error("Cannot set http_port, https_port or bind_ips when publish is false"));
        }
    }
    Ok(())
}

/// `Validator::Registry` under `context` (`registry` or `accessories/<name>/registry`).
pub fn validate_registry(config: &Value, context: &str) -> Result<()> {
    let mut v = Validator::new(context);
    let mut config_rest = config.clone();
    if let Value::Mapping(m) = &mut config_rest {
        m.remove("username");
        m.remove("password");
    }
    let mut example_rest = example("registry", &["registry"]).clone();
    if let Value::Mapping(m) = &mut example_rest {
        m.remove("username");
        m.remove("password");
    }
    v.validate_against_example(&config_rest, &example_rest)?;
    let local = get(config, "server").map(|s| local_registry_server(&to_s(s))).unwrap_or(false);
    for key in ["username", "password"] {
        if local {
            continue;
        }
        v.with_context(key, |v| {
            let value = get(config, key);
            if !present_opt(value) {
                return Err(v.error("is required"));
            }
            let ok = match value {
                Some(Value::String(_)) => true,
                Some(Value::Sequence(items)) => items.len() == 1 && matches!(items[0], Value::String(_)),
                _ => false,
            };
            if !ok {
                return Err(v.error("should be a string or an array with one string (for secret lookup)"));
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Kamal's `server.match?("^localhost[:$]")`: a line starting `localhost:` (or `localhost$`).
pub fn local_registry_server(server: &str) -> bool {
    server.split('\n').any(|line| line.starts_with("localhost:") || line.starts_with("localhost$"))
}

/// `Validator::Accessory` for `accessories/<name>`.
pub fn validate_accessory(name: &str, config: &Value) -> Result<()> {
    let mut v = Validator::new(format!("accessories/{name}"));
    v.validate_against_example(config, example("accessory", &["accessories", "mysql"]))?;
    let count = ["host", "hosts", "role", "roles", "tag", "tags"].iter().filter(|k| get(config, k).is_some()).count();
    if count != 1 {
        return Err(v.error("specify one of `host`, `hosts`, `role`, `roles`, `tag` or `tags`"));
    }
    v.validate_labels(get(config, "labels"))?;
    v.validate_docker_options(get(config, "options"))
}

/// The top-level commands of Kamal's CLI (`Kamal::Cli::Main.commands`), which aliases can't shadow.
pub const BUILT_IN_COMMANDS: &[&str] = &[
    "setup",
    "deploy",
    "redeploy",
    "rollback",
    "details",
    "audit",
    "config",
    "docs",
    "init",
    "remove",
    "upgrade",
    "version",
    "accessory",
    "app",
    "build",
    "lock",
    "proxy",
    "prune",
    "registry",
    "secrets",
    "server",
];

/// `Validator::Alias` for `aliases/<name>`.
pub fn validate_alias(name: &str, command: &Value) -> Result<()> {
    let mut v = Validator::new(format!("aliases/{name}"));
    v.validate_against_example(command, example("alias", &["aliases", "uname"]))?;
    let valid =
        !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !valid {
        return Err(v.error(format!(
            "Invalid alias name: '{name}'. Must only contain lowercase letters, alphanumeric, hyphens and underscores."
        )));
    }
    if BUILT_IN_COMMANDS.contains(&name) {
        return Err(v.error(format!("Alias '{name}' conflicts with a built-in command.")));
    }
    Ok(())
}

/// `Validator::Builder`.
pub fn validate_builder(config: &Value) -> Result<()> {
    let mut v = Validator::new("builder");
    v.validate_against_example(config, example("builder", &["builder"]))?;
    if let Some(cache) = get(config, "cache").filter(|c| crate::ruby::truthy(Some(c))) {
        if let Some(t) = get(cache, "type").filter(|t| crate::ruby::truthy(Some(t))) {
            let t = to_s(t);
            if t != "gha" && t != "registry" {
                return Err(v.error(format!("Invalid cache type: {t}")));
            }
        }
    }
    if !present_opt(get(config, "arch")) {
        return Err(v.error("Builder arch not set"));
    }
    if crate::ruby::truthy(get(config, "pack")) {
        if let Some(Value::Sequence(a)) = get(config, "arch") {
            if a.len() > 1 {
                return Err(v.error("buildpacks only support building for one arch"));
            }
        }
    }
    if matches!(get(config, "local"), Some(Value::Bool(false))) && !present_opt(get(config, "remote")) {
        return Err(v.error("Cannot disable local builds, no remote is set"));
    }
    Ok(())
}

/// Generic validation of a section against its doc (`boot`, `ssh`, `sshkit`, `output`).
pub fn validate_section(section: &str, config: &Value) -> Result<()> {
    Validator::new(section).validate_against_example(config, example(section, &[section]))
}
