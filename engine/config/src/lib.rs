//! Kamal-compatible configuration: `config/deploy.yml` read, checked and resolved exactly as
//! Kamal 2.12 does it, so that Wharf is a drop-in replacement.
//!
//! Layers, bottom up:
//! - [`erb`]: the ERB subset people use in deploy.yml (ENV lookups, if/else), with `-%>` trimming.
//! - [`yaml`]: YAML loaded the way Ruby's Psych loads it (libyaml events, YAML 1.1 scalars,
//!   aliases, `<<` merge keys, duplicate keys) into [`serde_yaml::Value`], and Psych-style emitting.
//! - [`load`]: reading `deploy.yml` and `deploy.<destination>.yml`, deep-merged.
//! - [`validate`]: Kamal's `Validator`, walking the config against Kamal's own example docs.
//! - [`model`]: the resolved configuration ([`Configuration`], [`Role`], [`Accessory`], ...) with
//!   Kamal's computed values; no I/O.
//! - [`summary`]: what `kamal config` prints.
//! - [`extension`]: Wharf's own settings under the root key `x-wharf` (plugins, grants, WASM hooks).
//!
//! Entry point: [`Configuration::load`].

pub mod erb;
pub mod error;
pub mod extension;
pub mod load;
pub mod model;
pub mod options;
pub mod ruby;
pub mod secrets;
pub mod summary;
pub mod utils;
pub mod validate;
pub mod yaml;

pub use error::{ConfigError, ErrorKind};
pub use load::LoadOptions;
pub use model::{
    Accessory, AccessoryPath, Alias, Boot, Builder, Configuration, Env, EnvTag, HooksOutput, Logging, Output, Proxy,
    ProxyBoot, ProxyRun, Registry, Role, Ssh, SshProxy, Sshkit, Volume,
};
pub use secrets::{MapSecrets, NoSecrets, SecretLookup};

/// The Kamal version Wharf is compatible with (`Kamal::VERSION`), used by `minimum_version`.
pub const KAMAL_VERSION: &str = "2.12.0";
