//! Helpers shared by the ports of Kamal's configuration tests.
#![allow(dead_code)]

use serde_yaml::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use wharf_config::{ConfigError, Configuration, LoadOptions, MapSecrets, SecretLookup};

/// Parses YAML (Psych rules).
pub fn yaml(s: &str) -> Value {
    wharf_config::yaml::load_str(s, None).expect("test yaml")
}

/// `hash.merge(other)`: root keys of `overlay` replace those of `base`.
pub fn merge(base: &Value, overlay: &str) -> Value {
    let mut out = base.as_mapping().unwrap().clone();
    for (k, v) in yaml(overlay).as_mapping().unwrap() {
        out.insert(k.clone(), v.clone());
    }
    Value::Mapping(out)
}

/// `hash.deep_merge(other)`.
pub fn deep_merge(base: &Value, overlay: &str) -> Value {
    wharf_config::ruby::deep_merge(base, &yaml(overlay))
}

/// Removes a root key.
pub fn without(base: &Value, key: &str) -> Value {
    let mut out = base.as_mapping().unwrap().clone();
    out.remove(key);
    Value::Mapping(out)
}

/// Sets `path` (`a/b/c`) to a YAML value.
pub fn set(base: &Value, path: &str, value: &str) -> Value {
    let mut out = base.clone();
    let keys: Vec<&str> = path.split('/').collect();
    let mut cur = &mut out;
    for k in &keys[..keys.len() - 1] {
        let m = cur.as_mapping_mut().unwrap();
        if !m.contains_key(*k) {
            m.insert(Value::String(k.to_string()), Value::Mapping(Default::default()));
        }
        cur = m.get_mut(*k).unwrap();
    }
    let v = yaml(&format!("v: {value}"));
    cur.as_mapping_mut().unwrap().insert(Value::String(keys[keys.len() - 1].to_string()), v.get("v").unwrap().clone());
    out
}

pub fn options(secrets: Arc<dyn SecretLookup>) -> LoadOptions {
    LoadOptions { secrets, docker_arch: Some("amd64".into()), ..Default::default() }
}

/// `Kamal::Configuration.new(raw)` with `VERSION=missing` and no secrets.
pub fn config(raw: &Value) -> Configuration {
    try_config(raw).unwrap_or_else(|e| panic!("config should be valid, got: {e}"))
}

pub fn try_config(raw: &Value) -> Result<Configuration, ConfigError> {
    let mut opts = options(Arc::new(MapSecrets::default()));
    opts.env = HashMap::from([("VERSION".to_string(), "missing".to_string())]);
    Configuration::new(raw.clone(), &opts)
}

/// With secrets from `.kamal/secrets` lines (`A=b`).
pub fn config_with_secrets(raw: &Value, secrets: &[(&str, &str)]) -> Configuration {
    let mut opts = options(Arc::new(MapSecrets::new(secrets.iter().map(|(k, v)| (k.to_string(), v.to_string())))));
    opts.env = HashMap::from([("VERSION".to_string(), "missing".to_string())]);
    Configuration::new(raw.clone(), &opts).unwrap_or_else(|e| panic!("config should be valid, got: {e}"))
}

/// The error message of an invalid config.
pub fn error(raw: &Value) -> String {
    match try_config(raw) {
        Ok(_) => panic!("expected a configuration error"),
        Err(e) => e.to_string(),
    }
}

pub fn fixture(name: &str) -> PathBuf {
    wharf_testkit::kamal_fixture_path(name)
}

/// `Kamal::Configuration.create_from(config_file: fixture)`.
pub fn load_fixture(name: &str, destination: Option<&str>) -> Result<Configuration, ConfigError> {
    let mut opts = options(Arc::new(MapSecrets::default()));
    opts.config_file = fixture(name);
    opts.destination = destination.map(String::from);
    opts.version = Some("999".into());
    Configuration::load(opts)
}

pub fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}
