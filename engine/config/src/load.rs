//! Reading the config files as Kamal's `Configuration.create_from` does: `deploy.yml` (the `-c`
//! path), then `deploy.<destination>.yml` next to it, each ERB-rendered and YAML-loaded, the
//! destination file deep-merged over the base (hashes merge recursively, other values are
//! replaced). `KAMAL_DESTINATION` is set in the ERB environment to the destination.
//!
//! Both files render in one [`ErbSession`] (one Ruby process in Kamal): what the base file
//! defines or sets in ENV, the destination file sees. The ENV changes the templates made are kept
//! on the [`Configuration`] ([`Configuration::erb_env_changes`]) for the CLI to apply to its own
//! environment, as they live on in Kamal's process (`Dotenv.load` in deploy.yml feeds
//! `.kamal/secrets`).

use crate::erb::ErbSession;
use crate::error::{ConfigError, ErrorKind};
use crate::model::Configuration;
use crate::ruby::deep_merge;
use serde_yaml::{Mapping, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

pub use crate::options::LoadOptions;

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
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut session = ErbSession::new(env.clone(), cwd);
    load_file_in(&mut session, file, false)
}

/// Renderings kept for the rest of the process: (file, destination) → (text, ENV after).
type RenderCache = Mutex<HashMap<(PathBuf, Option<String>), (String, HashMap<String, String>)>>;

fn render_cache() -> &'static RenderCache {
    static CACHE: OnceLock<RenderCache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn load_file_in(session: &mut ErbSession, file: &Path, cache: bool) -> Result<Value, ConfigError> {
    let display = file.display().to_string();
    let template = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfigError::runtime(format!("Configuration file not found in {display}")))
        }
        Err(e) => return Err(ConfigError::new(ErrorKind::Io, format!("{display}: {e}"))),
    };
    let key = (file.to_path_buf(), session.env().get("KAMAL_DESTINATION").cloned());
    let cached = if cache { render_cache().lock().unwrap().get(&key).cloned() } else { None };
    let rendered = match cached {
        Some((text, env)) => {
            session.set_env(env);
            text
        }
        None => {
            let text = session.render(&template, &display)?;
            if cache {
                render_cache().lock().unwrap().insert(key, (text.clone(), session.env().clone()));
            }
            text
        }
    };
    parse_rendered(&rendered)
}

/// A rendered config file as YAML; the root must be a hash (Kamal calls `symbolize_keys` on it).
fn parse_rendered(rendered: &str) -> Result<Value, ConfigError> {
    let value = crate::yaml::load_str(rendered, None)?;
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
    Ok(load_raw_config_with_env(options)?.0)
}

/// [`load_raw_config`], and ENV as the templates left it.
pub fn load_raw_config_with_env(options: &LoadOptions) -> Result<(Value, HashMap<String, String>), ConfigError> {
    let mut files = vec![options.config_file.clone()];
    if let Some(d) = &options.destination {
        files.push(destination_config_file(&options.config_file, d));
    }
    let mut session = session_for(options);
    let mut config = Value::Mapping(Mapping::new());
    for file in files {
        let loaded = load_file_in(&mut session, &file, options.cache_renders)?;
        config = deep_merge(&config, &symbolize(loaded));
    }
    Ok((config, session.env().clone()))
}

/// [`load_raw_config_with_env`] for a deploy.yml given as text: rendered (ERB), loaded (YAML)
/// and symbolized as the file would be; `file` names it in errors. No file is read for it and
/// no destination file is merged (`KAMAL_DESTINATION` is still set from `options.destination`).
pub fn load_raw_config_str(
    text: &str,
    file: &str,
    options: &LoadOptions,
) -> Result<(Value, HashMap<String, String>), ConfigError> {
    let mut session = session_for(options);
    let rendered = session.render(text, file)?;
    let config = symbolize(parse_rendered(&rendered)?);
    Ok((config, session.env().clone()))
}

/// The ERB session of one load: `options.env` with `KAMAL_DESTINATION` set to the destination
/// (or removed), in `options.cwd` (else the process's), sandboxed when asked.
fn session_for(options: &LoadOptions) -> ErbSession {
    let mut env = options.env.clone();
    match &options.destination {
        Some(d) => env.insert("KAMAL_DESTINATION".into(), d.clone()),
        None => env.remove("KAMAL_DESTINATION"),
    };
    let cwd = options.cwd.clone().or_else(|| std::env::current_dir().ok()).unwrap_or_else(|| PathBuf::from("."));
    if options.sandbox_erb {
        ErbSession::sandboxed(env, cwd)
    } else {
        ErbSession::new(env, cwd)
    }
}

/// What changed between two environments: `(name, new value or None when removed)`, sorted.
pub fn env_changes(before: &HashMap<String, String>, after: &HashMap<String, String>) -> Vec<(String, Option<String>)> {
    let mut changes: Vec<(String, Option<String>)> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .chain(before.keys().filter(|k| !after.contains_key(*k)).map(|k| (k.clone(), None)))
        .collect();
    changes.sort();
    changes
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
        let (raw, env) = load_raw_config_with_env(&options)?;
        let exists = |path: &str| Path::new(path).exists();
        Configuration::from_rendered(raw, env, options, Some(&exists))
    }

    /// [`Configuration::load`] for a deploy.yml given as text ([`load_raw_config_str`]; `file`
    /// names it in errors). The `.kamal/hooks/*traefik*` check is skipped, as in
    /// [`Configuration::new`]. With [`LoadOptions::sandbox_erb`], nothing in the text can run a
    /// command.
    pub fn load_str(text: &str, file: &str, options: LoadOptions) -> Result<Configuration, ConfigError> {
        let (raw, env) = load_raw_config_str(text, file, &options)?;
        Configuration::from_rendered(raw, env, options, None)
    }

    /// Validates and resolves a loaded config; `env` is ENV as its ERB left it.
    fn from_rendered(
        raw: Value,
        env: HashMap<String, String>,
        options: LoadOptions,
        hook_exists: Option<&dyn Fn(&str) -> bool>,
    ) -> Result<Configuration, ConfigError> {
        let changes = env_changes(&options.env, &env);
        let options = LoadOptions { env, ..options };
        let mut config = Configuration::build(raw, &options, hook_exists)?;
        config.env_changes = changes;
        Ok(config)
    }
}
