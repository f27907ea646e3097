//! How the configuration reaches secrets without depending on how they are stored: the
//! [`SecretLookup`] trait (implemented for `wharf_secrets::Secrets` by the commands layer), plus
//! two small implementations for tests and secret-less use.

use std::collections::HashMap;

/// Looks up a secret by name, as Kamal's `Kamal::Secrets#[]` does.
///
/// The error string is used verbatim as the `Kamal::ConfigurationError` message, so
/// implementations should return Kamal's text, e.g.
/// `Secret 'X' not found in .kamal/secrets` or
/// `Secret 'X' not found, no secret files (.kamal/secrets-common, .kamal/secrets) provided`.
pub trait SecretLookup: Send + Sync {
    /// The secret's value, or Kamal's error message.
    fn secret(&self, name: &str) -> Result<String, String>;

    /// Kamal's `Secrets#key?`: the secret exists and is not blank.
    fn has_secret(&self, name: &str) -> bool {
        self.secret(name).map(|v| !crate::ruby::blank_str(&v)).unwrap_or(false)
    }
}

/// No secrets at all: every lookup fails with Kamal's "no secret files" message for the default
/// secrets path.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSecrets;

impl SecretLookup for NoSecrets {
    fn secret(&self, name: &str) -> Result<String, String> {
        Err(format!("Secret '{name}' not found, no secret files (.kamal/secrets-common, .kamal/secrets) provided"))
    }
}

/// Secrets from a map (tests, or secrets already resolved by the caller). Missing names fail
/// with `Secret 'X' not found in <source>`.
#[derive(Debug, Clone)]
pub struct MapSecrets {
    /// The secrets.
    pub values: HashMap<String, String>,
    /// Named in the not-found message, like Kamal's list of secrets files.
    pub source: String,
}

impl Default for MapSecrets {
    fn default() -> Self {
        MapSecrets { values: HashMap::new(), source: ".kamal/secrets".to_string() }
    }
}

impl MapSecrets {
    /// Secrets from `(name, value)` pairs, reported as coming from `.kamal/secrets`.
    pub fn new<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        MapSecrets {
            values: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
            source: ".kamal/secrets".to_string(),
        }
    }
}

impl SecretLookup for MapSecrets {
    fn secret(&self, name: &str) -> Result<String, String> {
        self.values.get(name).cloned().ok_or_else(|| format!("Secret '{name}' not found in {}", self.source))
    }
}
