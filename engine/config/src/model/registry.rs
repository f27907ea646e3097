//! `Kamal::Configuration::Registry`: the image registry (`server`, default Docker Hub) and its
//! credentials, each a string or a one-item array naming a secret.

use crate::error::ConfigError;
use crate::ruby::{get, to_s};
use crate::secrets::SecretLookup;
use crate::validate::local_registry_server;
use serde_yaml::Value;
use std::sync::Arc;

/// A `registry` section (root, or an accessory's).
#[derive(Clone)]
pub struct Registry {
    config: Value,
    secrets: Arc<dyn SecretLookup>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("server", &self.server()).finish()
    }
}

impl Registry {
    pub(crate) fn new(config: Option<&Value>, secrets: Arc<dyn SecretLookup>) -> Registry {
        Registry { config: config.cloned().unwrap_or(Value::Null), secrets }
    }

    /// `server`; `None` means Docker Hub.
    pub fn server(&self) -> Option<String> {
        get(&self.config, "server").filter(|v| !v.is_null()).map(to_s)
    }

    /// The username: the string, or the secret named by a one-item array.
    pub fn username(&self) -> Result<Option<String>, ConfigError> {
        self.lookup("username")
    }

    /// The password: the string, or the secret named by a one-item array.
    pub fn password(&self) -> Result<Option<String>, ConfigError> {
        self.lookup("password")
    }

    /// Whether the value is a secret reference (one-item array) rather than the value itself.
    pub fn is_secret(&self, key: &str) -> bool {
        matches!(get(&self.config, key), Some(Value::Sequence(_)))
    }

    /// A registry on `localhost:PORT` (Kamal then runs a local registry and pushes through an SSH
    /// tunnel).
    pub fn local(&self) -> bool {
        self.server().map(|s| local_registry_server(&s)).unwrap_or(false)
    }

    /// The port of a local registry.
    pub fn local_port(&self) -> Option<u16> {
        if !self.local() {
            return None;
        }
        let server = self.server()?;
        let last = server.rsplit(':').next().unwrap_or("");
        let digits: String = last.chars().take_while(|c| c.is_ascii_digit()).collect();
        Some(digits.parse().unwrap_or(0))
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match get(&self.config, key) {
            Some(Value::Sequence(items)) => match items.first() {
                Some(name) => self.secrets.secret(&to_s(name)).map(Some).map_err(ConfigError::configuration),
                None => Ok(None),
            },
            Some(Value::Null) | None => Ok(None),
            Some(v) => Ok(Some(to_s(v))),
        }
    }
}
