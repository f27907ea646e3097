//! Helpers shared by the ports of Kamal's `test/commands/*_test.rb`: the test config hashes are
//! written as YAML/JSON (JSON is YAML flow style) and loaded through wharf-config's public
//! `Configuration::new`, with fixed secrets (Kamal's `setup_test_secrets`).
#![allow(dead_code)]

use serde_yaml::Value;
use std::collections::HashMap;
use std::sync::Arc;
use wharf_config::{Configuration, LoadOptions, MapSecrets};

/// Parses YAML (Psych rules).
pub fn yaml(s: &str) -> Value {
    wharf_config::yaml::load_str(s, None).expect("test yaml")
}

/// `@config[:a][:b] = value`: sets `path` (`a/b`) to a YAML value.
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
    cur.as_mapping_mut().unwrap().insert(Value::String(keys[keys.len() - 1].to_string()), yaml(value));
    out
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

/// `hash.delete(key)`.
pub fn without(base: &Value, key: &str) -> Value {
    let mut out = base.as_mapping().unwrap().clone();
    out.remove(key);
    Value::Mapping(out)
}

/// `Kamal::Configuration.new(raw, destination:, version:)` with the given test secrets and a
/// local docker of `amd64`.
pub fn config(
    raw: &Value,
    destination: Option<&str>,
    version: Option<&str>,
    secrets: &[(&str, &str)],
) -> Configuration {
    let options = LoadOptions {
        destination: destination.map(String::from),
        version: version.map(String::from),
        env: HashMap::new(),
        secrets: Arc::new(MapSecrets::new(secrets.iter().map(|(k, v)| (k.to_string(), v.to_string())))),
        docker_arch: Some("amd64".into()),
        ..Default::default()
    };
    Configuration::new(raw.clone(), &options).unwrap_or_else(|e| panic!("config should be valid, got: {e}"))
}

/// `assert_match regex, string` (Ruby regexes match anywhere).
#[track_caller]
pub fn assert_match(pattern: &str, actual: &str) {
    let re = regex::Regex::new(pattern).expect("test regex");
    assert!(re.is_match(actual), "expected {pattern:?} to match {actual:?}");
}

/// `assert_no_match regex, string`.
#[track_caller]
pub fn assert_no_match(pattern: &str, actual: &str) {
    let re = regex::Regex::new(pattern).expect("test regex");
    assert!(!re.is_match(actual), "expected {pattern:?} not to match {actual:?}");
}

/// Words of a command, for comparing with Kamal's arrays.
pub fn words(cmd: &wharf_commands::Cmd) -> Vec<String> {
    cmd.words().into_iter().map(String::from).collect()
}

/// Strings from literals.
pub fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}
