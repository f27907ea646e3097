//! Reading the config files as Kamal's `Configuration.create_from` does: `deploy.yml` (the `-c`
//! path), then `deploy.<destination>.yml` next to it, each ERB-rendered and YAML-loaded, the
//! destination file deep-merged over the base (hashes merge recursively, other values are
//! replaced). `KAMAL_DESTINATION` is set in the ERB environment to the destination.

use crate::error::{ConfigError, ErrorKind};
use crate::model::Configuration;
use crate::ruby::deep_merge;
use crate::secrets::{NoSecrets, SecretLookup};
use serde_yaml::{Mapping, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How to load a configuration.
#[derive(Clone)]
pub struct LoadOptions {
    /// The `-c` path (default `config/deploy.yml`). Kamal expands it to an absolute path first
    /// (`File.expand_path`), so its "not found" message names the absolute path; pass the same
    /// for identical messages.
    pub config_file: PathBuf,
    /// `-d`: merges `deploy.<destination>.yml` over the base file.
    pub destination: Option<String>,
    /// `--version`; else `VERSION` from `env`; else set it later with
    /// [`Configuration::set_version`] (Kamal uses the git revision).
    pub version: Option<String>,
    /// The environment ERB reads (`ENV[...]`), and `VERSION`. Usually `std::env::vars()`.
    pub env: HashMap<String, String>,
    /// Where secrets come from (`.kamal/secrets*` in Kamal).
    pub secrets: Arc<dyn SecretLookup>,
    /// The local docker's architecture (`docker info`, `amd64`/`arm64`), which decides which
    /// arches a builder with a `remote` builds locally. `None`: this machine's architecture.
    pub docker_arch: Option<String>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            config_file: PathBuf::from("config/deploy.yml"),
            destination: None,
            version: None,
            env: HashMap::new(),
            secrets: Arc::new(NoSecrets),
            docker_arch: None,
        }
    }
}

impl std::fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadOptions")
            .field("config_file", &self.config_file)
            .field("destination", &self.destination)
            .field("version", &self.version)
            .finish()
    }
}

/// `Pathname#sub_ext(".<destination>.yml")`: `config/deploy.yml` → `config/deploy.world.yml`.
pub fn destination_config_file(base: &Path, destination: &str) -> PathBuf {
    let name = base.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // the extension starts at the last dot that is not the first character
    let stem = match name.rfind('.') {
        Some(i) if i > 0 => &name[..i],
        _ => name.as_str(),
    };
    base.with_file_name(format!("{stem}.{destination}.yml"))
}

/// Renders and loads one config file: ERB with `env`, then YAML; the root is a hash.
pub fn load_config_file(file: &Path, env: &HashMap<String, String>) -> Result<Value, ConfigError> {
    let display = file.display().to_string();
    let template = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfigError::runtime(format!("Configuration file not found in {display}")))
        }
        Err(e) => return Err(ConfigError::new(ErrorKind::Io, format!("{display}: {e}"))),
    };
    let rendered = crate::erb::render(&template, &display, env)?;
    let value = crate::yaml::load_str(&rendered, None)?;
    match value {
        Value::Mapping(_) => Ok(value),
        other => Err(ConfigError::new(
            ErrorKind::Runtime,
            format!(
                "undefined method 'symbolize_keys' for {}",
                match other {
                    Value::Bool(b) => b.to_string(),
                    Value::Null => "nil".into(),
                    _ => "an instance of String".into(),
                }
            ),
        )),
    }
}

/// `load_raw_config`: the base file, with the destination file deep-merged over it.
/// `KAMAL_DESTINATION` is set (or removed) in the environment the ERB sees.
pub fn load_raw_config(options: &LoadOptions) -> Result<Value, ConfigError> {
    let mut env = options.env.clone();
    match &options.destination {
        Some(d) => {
            env.insert("KAMAL_DESTINATION".into(), d.clone());
        }
        None => {
            env.remove("KAMAL_DESTINATION");
        }
    }
    let mut files = vec![options.config_file.clone()];
    if let Some(d) = &options.destination {
        files.push(destination_config_file(&options.config_file, d));
    }
    let mut config = Value::Mapping(Mapping::new());
    for file in files {
        let loaded = load_config_file(&file, &env)?;
        config = deep_merge(&config, &symbolize(loaded));
    }
    Ok(config)
}

fn symbolize(v: Value) -> Value {
    match v {
        Value::Mapping(m) => {
            let mut out = Mapping::new();
            for (k, v) in m {
                let key = match crate::yaml::as_symbol(&k) {
                    Some(name) => Value::String(name.to_string()),
                    None => k,
                };
                out.insert(key, v);
            }
            Value::Mapping(out)
        }
        other => other,
    }
}

impl Configuration {
    /// Loads, validates and resolves the configuration (`Kamal::Configuration.create_from`).
    pub fn load(options: LoadOptions) -> Result<Configuration, ConfigError> {
        let raw = load_raw_config(&options)?;
        let exists = |path: &str| Path::new(path).exists();
        Configuration::build(raw, &options, Some(&exists))
    }
}
