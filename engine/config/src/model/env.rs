//! `Kamal::Configuration::Env` and `Env::Tag`: clear values, secret names (`NAME` or
//! `NAME:SECRET_NAME`), merged root → role → tags, written as `--env` args and an env file.

use crate::error::ConfigError;
use crate::ruby::{get, to_s};
use crate::secrets::SecretLookup;
use crate::utils::{argumentize_mapping, env_file};
use serde_yaml::{Mapping, Value};
use std::sync::Arc;

/// An env: clear values and secret keys.
#[derive(Clone)]
pub struct Env {
    clear: Mapping,
    secret_keys: Vec<String>,
    secrets: Arc<dyn SecretLookup>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env").field("clear", &self.clear).field("secret_keys", &self.secret_keys).finish()
    }
}

impl Env {
    /// An env from its (validated) config: a flat hash of clear values, or
    /// `{clear: {...}, secret: [...], tags: {...}}`.
    pub fn new(config: &Value, secrets: Arc<dyn SecretLookup>) -> Env {
        let complex = get(config, "secret").is_some() || get(config, "tags").is_some();
        let clear = match get(config, "clear") {
            Some(Value::Mapping(m)) => m.clone(),
            Some(_) => Mapping::new(),
            None if complex => Mapping::new(),
            None => match config {
                Value::Mapping(m) => m.clone(),
                _ => Mapping::new(),
            },
        };
        let secret_keys = match get(config, "secret") {
            Some(Value::Sequence(items)) => items.iter().map(to_s).collect(),
            _ => vec![],
        };
        Env { clear, secret_keys, secrets }
    }

    /// The clear values, in order (values as loaded: strings, numbers, ...).
    pub fn clear(&self) -> &Mapping {
        &self.clear
    }

    /// A clear value as a string (`to_s`).
    pub fn clear_value(&self, key: &str) -> Option<String> {
        self.clear.get(key).map(to_s)
    }

    /// The secret entries as written (`NAME` or `NAME:SECRET_NAME`).
    pub fn secret_keys(&self) -> &[String] {
        &self.secret_keys
    }

    /// `--env KEY="value"` for each clear value.
    pub fn clear_args(&self) -> Vec<String> {
        argumentize_mapping("--env", &self.clear)
    }

    /// The secrets with aliases resolved: `(KEY, value)` pairs, each looked up by the secret name.
    pub fn aliased_secrets(&self) -> Result<Vec<(String, String)>, ConfigError> {
        let mut out: Vec<(String, String)> = vec![];
        for key in &self.secret_keys {
            let (name, secret) = match key.split_once(':') {
                Some((n, s)) => (n.to_string(), s.to_string()),
                None => (key.clone(), key.clone()),
            };
            let value = self.secrets.secret(&secret).map_err(ConfigError::configuration)?;
            if let Some(existing) = out.iter_mut().find(|(k, _)| *k == name) {
                existing.1 = value;
            } else {
                out.push((name, value));
            }
        }
        Ok(out)
    }

    /// The env file's content (`Kamal::EnvFile`): `KEY=value` lines for the secrets only, or a
    /// single newline when there are none.
    pub fn secrets_io(&self) -> Result<String, ConfigError> {
        Ok(env_file(&self.aliased_secrets()?))
    }

    /// Clear values and secrets together (`Env#to_h`), values as strings.
    pub fn to_h(&self) -> Result<Vec<(String, String)>, ConfigError> {
        let mut out: Vec<(String, String)> = self.clear.iter().map(|(k, v)| (to_s(k), to_s(v))).collect();
        for (k, v) in self.aliased_secrets()? {
            if let Some(existing) = out.iter_mut().find(|(key, _)| *key == k) {
                existing.1 = v;
            } else {
                out.push((k, v));
            }
        }
        Ok(out)
    }

    /// `merge`: clear values of `other` win, secret keys are unioned.
    pub fn merge(&self, other: &Env) -> Env {
        let mut clear = self.clear.clone();
        for (k, v) in &other.clear {
            clear.insert(k.clone(), v.clone());
        }
        let mut secret_keys = self.secret_keys.clone();
        for k in &other.secret_keys {
            if !secret_keys.contains(k) {
                secret_keys.push(k.clone());
            }
        }
        // `|` also removes duplicates within self
        let mut seen: Vec<String> = vec![];
        secret_keys.retain(|k| {
            if seen.contains(k) {
                false
            } else {
                seen.push(k.clone());
                true
            }
        });
        Env { clear, secret_keys, secrets: self.secrets.clone() }
    }
}

/// A root `env.tags.<name>` entry: the env applied to hosts tagged `name`.
#[derive(Clone, Debug)]
pub struct EnvTag {
    name: String,
    env: Env,
}

impl EnvTag {
    pub(crate) fn new(name: String, config: &Value, secrets: Arc<dyn SecretLookup>) -> EnvTag {
        EnvTag { name, env: Env::new(config, secrets) }
    }

    /// The tag name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tag's env.
    pub fn env(&self) -> &Env {
        &self.env
    }
}
