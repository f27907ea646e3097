//! Loading a project: deploy.yml (with `-d`, ERB rendered, validated), its secrets wired to
//! Kamal's adapters and the project's secrets-adapter plugins, the version (`--version`,
//! `VERSION`, git), and a [`Commander`] ready to run commands.

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::options::GlobalOptions;
use crate::{git, plugins};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Secrets for the configuration, resolved once the secrets path is known.
struct LazySecrets(OnceLock<Arc<wharf_secrets::Secrets>>);

impl wharf_config::SecretLookup for LazySecrets {
    fn secret(&self, name: &str) -> std::result::Result<String, String> {
        match self.0.get() {
            Some(s) => s.get(name).map_err(|e| e.to_string()),
            None => Err(format!("Secret '{name}' not found")),
        }
    }
}

/// The project's `x-wharf` settings from the raw deploy.yml (for the secrets commands, which do
/// not validate the whole configuration); empty when there is no deploy.yml.
pub fn raw_extension(global: &GlobalOptions, dir: &Path) -> Result<wharf_config::extension::WharfExtension> {
    let file = dir.join(&global.config_file);
    if !file.exists() {
        return Ok(Default::default());
    }
    let raw = load_raw(global, dir)?;
    Ok(wharf_config::extension::WharfExtension::parse(&raw)?)
}

/// deploy.yml (with `-d`) rendered and merged but not validated, its ERB's ENV changes applied.
pub fn load_raw(global: &GlobalOptions, dir: &Path) -> Result<serde_yaml::Value> {
    let env: std::collections::HashMap<String, String> = std::env::vars().collect();
    let (raw, after) = wharf_config::load::load_raw_config_with_env(&wharf_config::LoadOptions {
        config_file: dir.join(&global.config_file),
        destination: global.destination.clone(),
        env: env.clone(),
        cache_renders: true,
        ..Default::default()
    })?;
    apply_erb_env_changes(&wharf_config::load::env_changes(&env, &after));
    Ok(raw)
}

/// Secrets of `path`, whose `$(kamal secrets fetch -a NAME ...)` use Kamal's adapters (built-in
/// plugins) and the secrets-adapter plugins of `ext`.
pub fn make_secrets(
    dir: &Path,
    path: &str,
    destination: Option<&str>,
    ext: &wharf_config::extension::WharfExtension,
) -> Arc<wharf_secrets::Secrets> {
    let fetcher: Arc<dyn wharf_secrets::cli::AdapterFetcher> =
        Arc::new(plugins::ConfiguredAdapters::new(dir, ext.clone()));
    Arc::new(
        wharf_secrets::Secrets::new(destination)
            .with_secrets_path(path)
            .with_base_dir(dir)
            .with_inline_hook(wharf_secrets::cli::inline_hook(fetcher)),
    )
}

/// Whether a command needs the version (`--version`, `VERSION`, else the git revision).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionNeed {
    /// It does: outside a git repository (and without `--version`) loading fails, with Kamal's
    /// "Can't use commit hash as version, no git repository found in DIR".
    Required,
    /// It only reads the servers (`lock status`, `details`, `app logs`...), which Kamal runs
    /// outside a git repository: there, the version is left unknown, and a hook that would be
    /// given it fails with that error (`Configuration::require_version`).
    WhenUsed,
}

/// Loads deploy.yml (with `-d`), wires secrets, sets the version (`--version`, `VERSION`, git).
pub fn load_config(
    global: &GlobalOptions,
    dir: &Path,
    need: VersionNeed,
) -> Result<(wharf_config::Configuration, Arc<wharf_secrets::Secrets>)> {
    let lazy = Arc::new(LazySecrets(OnceLock::new()));
    let options = wharf_config::LoadOptions {
        config_file: dir.join(&global.config_file),
        destination: global.destination.clone(),
        version: global.version.clone(),
        env: std::env::vars().collect(),
        secrets: lazy.clone(),
        cache_renders: true,
        probe_docker_arch: true,
        docker_arch: global.docker_arch.clone(),
        ..Default::default()
    };
    let config = wharf_config::Configuration::load(options)?;
    apply_erb_env_changes(config.erb_env_changes());
    let secrets = make_secrets(dir, &config.secrets_path(), global.destination.as_deref(), config.wharf());
    let _ = lazy.0.set(secrets.clone());
    if !config.has_version() {
        if need == VersionNeed::WhenUsed && !git::used(dir) {
            config.set_version_unavailable(git::no_repository(dir));
        } else {
            let version = git::version(dir, |used| config.builder().git_clone(used)).map_err(CliError::runtime)?;
            config.set_version(version);
        }
    }
    Ok((config, secrets))
}

/// ENV changes made by deploy.yml's ERB (`Dotenv.load`, `ENV[...] =`) live on in Kamal's
/// process: its secrets, hooks and commands see them. Wharf applies them to its own environment.
fn apply_erb_env_changes(changes: &[(String, Option<String>)]) {
    for (name, value) in changes {
        match value {
            Some(v) => std::env::set_var(name, v),
            None => std::env::remove_var(name),
        }
    }
}

/// Kamal reads `ssh.key_data` when it configures SSHKit, and `config` reads it again for its
/// output: each read warns once per inline key.
pub fn warn_inline_key_data(config: &wharf_config::Configuration) {
    for _ in 0..config.ssh().inline_key_data().len() {
        eprintln!("{}", wharf_config::model::KEY_DATA_DEPRECATION);
    }
}

/// The project in `dir` loaded and a commander over SSH for `command` (`subcommand`), with every
/// secret value masked in what it prints. `plan`: changes are recorded, not made.
pub fn open(
    global: &GlobalOptions,
    dir: PathBuf,
    command: &str,
    subcommand: Option<&str>,
    plan: bool,
    need: VersionNeed,
) -> Result<Commander> {
    let (config, secrets) = load_config(global, &dir, need)?;
    warn_inline_key_data(&config);
    let mut c = Commander::new(config, global.clone(), dir, secrets.clone(), command, subcommand, plan)?;
    if let Ok(map) = secrets.to_map() {
        c.set_redactor(wharf_ssh::Redactor::new(map.iter().map(|(_, v)| v.to_string()).filter(|v| v.len() >= 3)));
    }
    Ok(c)
}

/// The words of deploy.yml's alias `word` (Kamal's `aliases:`), if the configuration at
/// `config_file` (with `destination`) loads and has one.
pub fn alias_words(config_file: &Path, destination: Option<String>, word: &str) -> Option<Vec<String>> {
    let options = wharf_config::LoadOptions {
        config_file: config_file.to_path_buf(),
        destination,
        env: std::env::vars().collect(),
        cache_renders: true,
        ..Default::default()
    };
    let config = wharf_config::Configuration::load(options).ok()?;
    let alias = config.alias(word)?;
    wharf_secrets::shell::shellsplit(alias.command()).ok()
}
