//! Wharf's own settings in deploy.yml, under the root key `x-wharf` (Kamal ignores root keys
//! starting with `x-`, so the same file still deploys with Kamal): the WebAssembly plugins a
//! project uses, what the user allows each of them, which run at which hook, and the builder.
//!
//! ```yaml
//! x-wharf:
//!   plugins:
//!     notify:
//!       source: examples/hooks/rust-notify   # a path, https://...wasm (with sha256), oci://..., builtin:NAME
//!       sha256: 3f2a...                      # required for https, checked for any source
//!       allow:
//!         programs: ["git rev-parse **"]      # program, then argument patterns
//!         directories: ["."]                  # relative to the project
//!         hosts: ["hooks.example.com"]        # wasi:http
//!         env: [NOTIFY_CHANNEL]               # variables it may read and set on programs
//!         secrets: [SLACK_TOKEN]              # secrets a hook is given (others are withheld)
//!         memory: 256                         # MiB, 1 to 4096
//!         timeout: 60                         # seconds, 1 to 86400
//!         terminal: false                     # programs it runs may prompt the user
//!   hooks:
//!     post-deploy: [notify]
//!   builder: docker                           # a builder plugin; `docker` is built in
//!   fleet_transaction: true                   # a failed boot anywhere reverts the servers that switched
//!   docker_from_packages: true                # bootstrap: the distribution's Docker when get.docker.com fails
//!   warm_versions: 1                          # previous versions kept running: `rollback` is a switch
//!   upgrade_old_proxy: true                   # a too-old kamal-proxy is upgraded without downtime, not an error
//!   canary:                                   # `deploy --canary` (docs/progressive-delivery.md)
//!     percent: 10                             # share of users (by their kamal-rollout cookie)
//!     list: [beta-user]                       # kamal-rollout cookie values always in the canary
//!     gate:                                   # `deploy --canary-gate`: judged by live traffic
//!       window: 60                            # seconds watched
//!       min_requests: 50                      # canary requests needed for a verdict
//!       max_error_rate_increase: 1            # 5xx rate over the rest's, in percentage points
//!       max_p95_ratio: 1.5                    # canary p95 latency / the rest's
//! ```

use std::collections::BTreeMap;

use serde_yaml::Value;

use crate::error::ConfigError;
use crate::ruby::{get, inspect, to_s};

/// The hooks Kamal runs (and so the points a WASM hook can be attached to).
pub const HOOK_NAMES: &[&str] = &[
    "docker-setup",
    "pre-connect",
    "pre-build",
    "pre-deploy",
    "post-deploy",
    "pre-app-boot",
    "post-app-boot",
    "pre-proxy-reboot",
    "post-proxy-reboot",
];

/// Everything under `x-wharf`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WharfExtension {
    /// The plugins, in the order written.
    pub plugins: Vec<PluginConfig>,
    /// Hook name to the plugins run at that point, in order (after the script hook).
    pub hooks: BTreeMap<String, Vec<String>>,
    /// The builder plugin (`None`: the built-in `docker`).
    pub builder: Option<String>,
    /// `fleet_transaction`: when any server fails to boot the new version, the servers that had
    /// already switched go back to the previous one (Kamal leaves them on the new version).
    pub fleet_transaction: bool,
    /// `docker_from_packages`: when `server bootstrap` (and `setup`) cannot install Docker with
    /// Kamal's get.docker.com script (no internet, say), install the distribution's own package.
    pub docker_from_packages: bool,
    /// `warm_versions`: how many previous versions of the roles behind the proxy keep running
    /// after a deploy (no traffic), so that `rollback` to one is a proxy switch. 0: Kamal's.
    pub warm_versions: usize,
    /// `canary`: defaults of `deploy --canary` and the gate's thresholds.
    pub canary: CanaryConfig,
    /// `upgrade_old_proxy`: where `deploy`, `setup` or `proxy boot` finds kamal-proxy older than
    /// the version Kamal requires, it is upgraded as `proxy reboot --zero-downtime` does instead
    /// of stopping with Kamal's "too old" error.
    pub upgrade_old_proxy: bool,
}

/// `x-wharf/canary`.
#[derive(Clone, Debug, PartialEq)]
pub struct CanaryConfig {
    /// The share of users `deploy --canary` gives the new version when the flag has no value.
    pub percent: u8,
    /// `kamal-rollout` cookie values always sent to the canary.
    pub list: Vec<String>,
    pub gate: CanaryGate,
}

impl Default for CanaryConfig {
    fn default() -> Self {
        CanaryConfig { percent: 10, list: vec![], gate: CanaryGate::default() }
    }
}

/// `x-wharf/canary/gate`: when `deploy --canary-gate` promotes the canary.
#[derive(Clone, Debug, PartialEq)]
pub struct CanaryGate {
    /// Seconds of traffic watched.
    pub window: u64,
    /// Canary requests needed (over all servers) for a verdict; fewer is an abort.
    pub min_requests: u64,
    /// How much higher the canary's 5xx rate may be than the rest's, in percentage points.
    pub max_error_rate_increase: f64,
    /// How many times the rest's p95 latency the canary's may be.
    pub max_p95_ratio: f64,
}

impl Default for CanaryGate {
    fn default() -> Self {
        CanaryGate { window: 60, min_requests: 50, max_error_rate_increase: 1.0, max_p95_ratio: 1.5 }
    }
}

impl Eq for CanaryConfig {}

impl CanaryConfig {
    fn parse(v: &Value) -> Result<CanaryConfig, ConfigError> {
        let m = mapping(v, "canary")?;
        check_keys(m, "canary", &["percent", "list", "gate"])?;
        let mut c = CanaryConfig::default();
        match get(v, "percent") {
            None | Some(Value::Null) => {}
            Some(Value::Number(n)) if n.as_u64().is_some_and(|p| p <= 100) => c.percent = n.as_u64().unwrap() as u8,
            Some(other) => return Err(err("canary/percent", &format!("should be 0 to 100, found {}", inspect(other)))),
        }
        if let Some(list) = get(v, "list").filter(|l| !l.is_null()) {
            c.list = string_list(list, "canary/list")?;
        }
        if let Some(gate) = get(v, "gate").filter(|g| !g.is_null()) {
            let gm = mapping(gate, "canary/gate")?;
            check_keys(gm, "canary/gate", &["window", "min_requests", "max_error_rate_increase", "max_p95_ratio"])?;
            let number = |key: &str| -> Result<Option<f64>, ConfigError> {
                match get(gate, key) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::Number(n)) if n.as_f64().is_some_and(|f| f >= 0.0) => Ok(n.as_f64()),
                    Some(other) => Err(err(
                        &format!("canary/gate/{key}"),
                        &format!("should be a number, 0 or more, found {}", inspect(other)),
                    )),
                }
            };
            if let Some(w) = number("window")? {
                if w < 1.0 || w.fract() != 0.0 {
                    return Err(err("canary/gate/window", &format!("should be whole seconds, 1 or more, found {w}")));
                }
                c.gate.window = w as u64;
            }
            if let Some(n) = number("min_requests")? {
                c.gate.min_requests = n as u64;
            }
            if let Some(n) = number("max_error_rate_increase")? {
                c.gate.max_error_rate_increase = n;
            }
            if let Some(n) = number("max_p95_ratio")? {
                c.gate.max_p95_ratio = n;
            }
        }
        Ok(c)
    }
}

impl WharfExtension {
    pub fn plugin(&self, name: &str) -> Option<&PluginConfig> {
        self.plugins.iter().find(|p| p.name == name)
    }

    /// The plugins attached to `hook`.
    pub fn hook_plugins(&self, hook: &str) -> &[String] {
        self.hooks.get(hook).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// One entry of `x-wharf/plugins`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PluginConfig {
    pub name: String,
    /// Where the plugin comes from (see the module docs).
    pub source: String,
    /// The expected SHA-256 (hex) of the plugin file.
    pub sha256: Option<String>,
    pub allow: PluginAllow,
}

/// What the user allows a plugin (`allow:`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PluginAllow {
    /// Each: a program followed by argument patterns, split on whitespace (`git rev-parse **`).
    pub programs: Vec<Vec<String>>,
    pub directories: Vec<String>,
    pub hosts: Vec<String>,
    pub env: Vec<String>,
    /// Secrets (names from `.kamal/secrets`) a hook plugin is given in its environment, for the
    /// hooks Kamal gives secrets to; the others are withheld from it.
    pub secrets: Vec<String>,
    /// MiB.
    pub memory: Option<u64>,
    /// Seconds.
    pub timeout: Option<u64>,
    /// Programs it runs may prompt on the user's terminal.
    pub terminal: bool,
}

fn err(key: &str, message: &str) -> ConfigError {
    ConfigError::configuration(format!("x-wharf/{key}: {message}"))
}

fn string_list(v: &Value, key: &str) -> Result<Vec<String>, ConfigError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Sequence(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                Value::Number(_) | Value::Bool(_) => Ok(to_s(item)),
                other => Err(err(&format!("{key}/{i}"), &format!("should be a string, found {}", inspect(other)))),
            })
            .collect(),
        other => Err(err(key, &format!("should be an array of strings, found {}", inspect(other)))),
    }
}

fn positive(v: &Value, key: &str) -> Result<u64, ConfigError> {
    match v.as_u64() {
        Some(n) if n > 0 => Ok(n),
        _ => Err(err(key, &format!("should be a positive integer, found {}", inspect(v)))),
    }
}

/// A positive integer no larger than `max` (`unit` names it in the message).
fn bounded(v: &Value, key: &str, max: u64, unit: &str) -> Result<u64, ConfigError> {
    let n = positive(v, key)?;
    if n > max {
        return Err(err(key, &format!("should be at most {max} {unit}, found {n}")));
    }
    Ok(n)
}

/// The largest memory a plugin may be given (a 32-bit WebAssembly memory's size), in MiB.
pub const MAX_MEMORY_MIB: u64 = 4096;
/// The longest a plugin call may be allowed to run, in seconds (a day).
pub const MAX_TIMEOUT_SECS: u64 = 86_400;

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn mapping<'a>(v: &'a Value, key: &str) -> Result<&'a serde_yaml::Mapping, ConfigError> {
    v.as_mapping().ok_or_else(|| err(key, &format!("should be a hash, found {}", inspect(v))))
}

fn check_keys(m: &serde_yaml::Mapping, key: &str, allowed: &[&str]) -> Result<(), ConfigError> {
    for k in m.keys() {
        let k = to_s(k);
        if !allowed.contains(&k.as_str()) {
            let prefix = if key.is_empty() { String::new() } else { format!("{key}/") };
            return Err(err(
                &format!("{prefix}{k}"),
                &format!("unknown key (expected one of: {})", allowed.join(", ")),
            ));
        }
    }
    Ok(())
}

impl PluginAllow {
    fn parse(v: &Value, key: &str) -> Result<PluginAllow, ConfigError> {
        let m = mapping(v, key)?;
        check_keys(m, key, &["programs", "directories", "hosts", "env", "secrets", "memory", "timeout", "terminal"])?;
        let list = |k: &str| get(v, k).map(|x| string_list(x, &format!("{key}/{k}"))).transpose();
        let mut programs = vec![];
        for (i, p) in list("programs")?.unwrap_or_default().into_iter().enumerate() {
            let words: Vec<String> = p.split_whitespace().map(str::to_string).collect();
            if words.is_empty() {
                return Err(err(&format!("{key}/programs/{i}"), "is empty"));
            }
            programs.push(words);
        }
        let env = list("env")?.unwrap_or_default();
        if let Some(bad) = env.iter().find(|e| {
            e.is_empty()
                || e.starts_with(|c: char| c.is_ascii_digit())
                || !e.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }) {
            return Err(err(&format!("{key}/env"), &format!("{bad:?} is not a variable name")));
        }
        Ok(PluginAllow {
            programs,
            directories: list("directories")?.unwrap_or_default(),
            hosts: list("hosts")?.unwrap_or_default(),
            env,
            secrets: list("secrets")?.unwrap_or_default(),
            memory: get(v, "memory")
                .map(|x| bounded(x, &format!("{key}/memory"), MAX_MEMORY_MIB, "MiB"))
                .transpose()?,
            timeout: get(v, "timeout")
                .map(|x| bounded(x, &format!("{key}/timeout"), MAX_TIMEOUT_SECS, "seconds"))
                .transpose()?,
            terminal: match get(v, "terminal") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    return Err(err(
                        &format!("{key}/terminal"),
                        &format!("should be a boolean, found {}", inspect(other)),
                    ))
                }
            },
        })
    }
}

/// A true/false key of `x-wharf` (absent or null: false).
fn boolean(v: &Value, key: &str) -> Result<bool, ConfigError> {
    match get(v, key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(err(key, &format!("should be true or false, found {}", inspect(other)))),
    }
}

impl WharfExtension {
    /// Reads and checks `x-wharf` of the (root-symbolized) raw config; absent means empty.
    pub fn parse(raw: &Value) -> Result<WharfExtension, ConfigError> {
        let Some(v) = get(raw, "x-wharf") else { return Ok(WharfExtension::default()) };
        if v.is_null() {
            return Ok(WharfExtension::default());
        }
        let m = mapping(v, "")
            .map_err(|_| ConfigError::configuration(format!("x-wharf: should be a hash, found {}", inspect(v))))?;
        check_keys(
            m,
            "",
            &[
                "plugins",
                "hooks",
                "builder",
                "fleet_transaction",
                "docker_from_packages",
                "warm_versions",
                "canary",
                "upgrade_old_proxy",
            ],
        )?;
        let mut ext = WharfExtension::default();
        if let Some(plugins) = get(v, "plugins") {
            for (name, config) in mapping(plugins, "plugins")? {
                let name = to_s(name);
                let key = format!("plugins/{name}");
                if !valid_name(&name) {
                    return Err(err(&key, "a plugin name uses only a-z, 0-9, - and _"));
                }
                let pm = mapping(config, &key)?;
                check_keys(pm, &key, &["source", "sha256", "allow"])?;
                let source = match get(config, "source") {
                    Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
                    Some(other) => {
                        return Err(err(
                            &format!("{key}/source"),
                            &format!("should be a string, found {}", inspect(other)),
                        ))
                    }
                    None => return Err(err(&format!("{key}/source"), "is required")),
                };
                let sha256 = match get(config, "sha256") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) if s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()) => {
                        Some(s.to_ascii_lowercase())
                    }
                    Some(other) => {
                        return Err(err(
                            &format!("{key}/sha256"),
                            &format!("should be 64 hex digits, found {}", inspect(other)),
                        ))
                    }
                };
                if source.starts_with("https://") && sha256.is_none() {
                    return Err(err(&format!("{key}/sha256"), "is required for an https source"));
                }
                if source.starts_with("http://") {
                    return Err(err(&format!("{key}/source"), "plain http is not allowed; use https with a sha256"));
                }
                let allow = match get(config, "allow") {
                    None | Some(Value::Null) => PluginAllow::default(),
                    Some(a) => PluginAllow::parse(a, &format!("{key}/allow"))?,
                };
                ext.plugins.push(PluginConfig { name, source, sha256, allow });
            }
        }
        if let Some(hooks) = get(v, "hooks") {
            for (hook, names) in mapping(hooks, "hooks")? {
                let hook = to_s(hook);
                let key = format!("hooks/{hook}");
                if !HOOK_NAMES.contains(&hook.as_str()) {
                    return Err(err(&key, &format!("unknown hook (hooks are: {})", HOOK_NAMES.join(", "))));
                }
                let names = string_list(names, &key)?;
                for n in &names {
                    if ext.plugin(n).is_none() {
                        return Err(err(&key, &format!("no plugin named {n} under x-wharf/plugins")));
                    }
                }
                ext.hooks.insert(hook, names);
            }
        }
        match get(v, "builder") {
            None | Some(Value::Null) => {}
            Some(Value::String(b)) if b == "docker" || ext.plugin(b).is_some() => ext.builder = Some(b.clone()),
            Some(Value::String(b)) => {
                return Err(err(
                    "builder",
                    &format!("no plugin named {b} under x-wharf/plugins (the built-in builder is docker)"),
                ))
            }
            Some(other) => return Err(err("builder", &format!("should be a string, found {}", inspect(other)))),
        }
        ext.fleet_transaction = boolean(v, "fleet_transaction")?;
        ext.docker_from_packages = boolean(v, "docker_from_packages")?;
        ext.upgrade_old_proxy = boolean(v, "upgrade_old_proxy")?;
        ext.warm_versions = match get(v, "warm_versions") {
            None | Some(Value::Null) => 0,
            Some(Value::Number(n)) if n.as_u64().is_some_and(|w| w <= 10) => n.as_u64().unwrap() as usize,
            Some(other) => return Err(err("warm_versions", &format!("should be 0 to 10, found {}", inspect(other)))),
        };
        if let Some(canary) = get(v, "canary").filter(|c| !c.is_null()) {
            ext.canary = CanaryConfig::parse(canary)?;
        }
        Ok(ext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<WharfExtension, String> {
        let raw: Value = serde_yaml::from_str(yaml).unwrap();
        WharfExtension::parse(&raw).map_err(|e| e.message().to_string())
    }

    #[test]
    fn full_example() {
        let ext = parse(
            "x-wharf:\n  plugins:\n    notify:\n      source: examples/hooks/rust-notify\n      allow:\n        programs: [\"git rev-parse **\"]\n        directories: [.]\n        hosts: hooks.example.com\n        env: [CHANNEL]\n        memory: 256\n        timeout: 60\n    check:\n      source: https://example.com/c.wasm\n      sha256: ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\n  hooks:\n    post-deploy: notify\n    pre-deploy: [check, notify]\n  builder: docker\n",
        )
        .unwrap();
        assert_eq!(ext.plugins.len(), 2);
        let n = ext.plugin("notify").unwrap();
        assert_eq!(n.allow.programs, vec![vec!["git".to_string(), "rev-parse".into(), "**".into()]]);
        assert_eq!(n.allow.directories, vec!["."]);
        assert_eq!(n.allow.hosts, vec!["hooks.example.com"]);
        assert_eq!((n.allow.memory, n.allow.timeout), (Some(256), Some(60)));
        assert_eq!(ext.plugin("check").unwrap().sha256.as_deref().unwrap()[..6], *"abcdef");
        assert_eq!(ext.hook_plugins("pre-deploy"), ["check", "notify"]);
        assert_eq!(ext.hook_plugins("post-deploy"), ["notify"]);
        assert!(ext.hook_plugins("pre-build").is_empty());
        assert_eq!(ext.builder.as_deref(), Some("docker"));
        assert_eq!(parse("service: x").unwrap(), WharfExtension::default());
        assert!(parse("x-wharf:\n  fleet_transaction: true").unwrap().fleet_transaction);
        assert!(!parse("x-wharf:\n  builder: docker").unwrap().fleet_transaction);
        assert!(parse("x-wharf:\n  upgrade_old_proxy: true").unwrap().upgrade_old_proxy);
        assert!(parse("x-wharf:\n  docker_from_packages: true").unwrap().docker_from_packages);
        assert_eq!(parse("x-wharf:\n  warm_versions: 2").unwrap().warm_versions, 2);
        assert_eq!(
            parse("x-wharf:\n  warm_versions: -1").unwrap_err().to_string(),
            "x-wharf/warm_versions: should be 0 to 10, found -1"
        );
        let canary =
            parse("x-wharf:\n  canary:\n    percent: 25\n    list: [beta]\n    gate: {window: 30, max_p95_ratio: 2}")
                .unwrap()
                .canary;
        assert_eq!(
            (canary.percent, canary.list, canary.gate.window, canary.gate.max_p95_ratio),
            (25, vec!["beta".to_string()], 30, 2.0)
        );
        assert_eq!(canary.gate.min_requests, 50, "a default kept");
        for (yml, message) in [
            ("x-wharf:\n  canary:\n    percent: 150", "x-wharf/canary/percent: should be 0 to 100, found 150"),
            (
                "x-wharf:\n  canary:\n    gate: {window: 0}",
                "x-wharf/canary/gate/window: should be whole seconds, 1 or more, found 0",
            ),
            (
                "x-wharf:\n  canary:\n    gate: {max_p95_ratio: fast}",
                "x-wharf/canary/gate/max_p95_ratio: should be a number, 0 or more, found \"fast\"",
            ),
            (
                "x-wharf:\n  canary:\n    share: 5",
                "x-wharf/canary/share: unknown key (expected one of: percent, list, gate)",
            ),
        ] {
            assert_eq!(parse(yml).unwrap_err().to_string(), message, "{yml}");
        }
        assert_eq!(
            parse("x-wharf:\n  docker_from_packages: yes please").unwrap_err().to_string(),
            "x-wharf/docker_from_packages: should be true or false, found \"yes please\""
        );
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            ("x-wharf: 3", "x-wharf: should be a hash, found 3"),
            ("x-wharf:\n  plugin: {}", "x-wharf/plugin: unknown key (expected one of: plugins, hooks, builder, fleet_transaction, docker_from_packages, warm_versions, canary, upgrade_old_proxy)"),
            ("x-wharf:\n  fleet_transaction: yes please", "x-wharf/fleet_transaction: should be true or false, found \"yes please\""),
            ("x-wharf:\n  plugins:\n    a:\n      allow: {}", "x-wharf/plugins/a/source: is required"),
            ("x-wharf:\n  plugins:\n    A:\n      source: x", "x-wharf/plugins/A: a plugin name uses only a-z, 0-9, - and _"),
            ("x-wharf:\n  plugins:\n    a:\n      source: https://h/a.wasm", "x-wharf/plugins/a/sha256: is required for an https source"),
            ("x-wharf:\n  plugins:\n    a:\n      source: http://h/a.wasm", "x-wharf/plugins/a/source: plain http is not allowed; use https with a sha256"),
            ("x-wharf:\n  plugins:\n    a:\n      source: x\n      sha256: abc", "x-wharf/plugins/a/sha256: should be 64 hex digits, found \"abc\""),
            ("x-wharf:\n  plugins:\n    a:\n      source: x\n      allow:\n        memory: -1", "x-wharf/plugins/a/allow/memory: should be a positive integer, found -1"),
            ("x-wharf:\n  plugins:\n    a:\n      source: x\n      allow:\n        net: []", "x-wharf/plugins/a/allow/net: unknown key (expected one of: programs, directories, hosts, env, secrets, memory, timeout, terminal)"),
            ("x-wharf:\n  plugins:\n    a:\n      source: x\n      allow:\n        timeout: 9223372036854775807", "x-wharf/plugins/a/allow/timeout: should be at most 86400 seconds, found 9223372036854775807"),
            ("x-wharf:\n  plugins:\n    a:\n      source: x\n      allow:\n        memory: 18446744073709551615", "x-wharf/plugins/a/allow/memory: should be at most 4096 MiB, found 18446744073709551615"),
            ("x-wharf:\n  plugins:\n    a:\n      source: x\n      allow:\n        env: [A-B]", "x-wharf/plugins/a/allow/env: \"A-B\" is not a variable name"),
            ("x-wharf:\n  hooks:\n    post-deploy: [nope]", "x-wharf/hooks/post-deploy: no plugin named nope under x-wharf/plugins"),
            ("x-wharf:\n  hooks:\n    post-traefik-reboot: []", "x-wharf/hooks/post-traefik-reboot: unknown hook (hooks are: docker-setup, pre-connect, pre-build, pre-deploy, post-deploy, pre-app-boot, post-app-boot, pre-proxy-reboot, post-proxy-reboot)"),
            ("x-wharf:\n  builder: kaniko", "x-wharf/builder: no plugin named kaniko under x-wharf/plugins (the built-in builder is docker)"),
        ];
        for (yaml, message) in cases {
            assert_eq!(parse(yaml).unwrap_err(), message, "{yaml}");
        }
    }
}
