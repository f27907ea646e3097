//! The project's WebAssembly plugins at run time: finding them (deploy.yml's `x-wharf.plugins`
//! through the plugin store, or built in), turning the user's `allow:` into a grant, running
//! the WASM hooks attached to a lifecycle point, and the image builder.
//!
//! Plugin calls are async; the engine's callers are partly synchronous, so each call runs on
//! its own small runtime on a scoped thread ([`block_on`]), which works inside and outside the
//! CLI's runtime. One plugin host (one Wasmtime engine, its precompiled cache) serves the
//! whole process ([`shared_host`]).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wharf_config::extension::{PluginConfig, WharfExtension};
use wharf_plugin_host::{BuildRequest, BuildResult, CallOptions, Grant, HookContext, Plugin, ProcessRunner, World};
use wharf_plugin_store::{PluginSpec, Store};

pub mod commands;
pub mod runtime;
pub mod secret_adapters;

use runtime::base_env;
pub use runtime::{block_on, builtins, shared_host, terminal_sink, Verbosity};

use crate::error::{CliError, Result};
use crate::hooks::HookError;

/// The grant deploy.yml's `allow:` gives `config`'s plugin, rooted at the project.
pub fn grant_for(config: &PluginConfig, project: &Path) -> Grant {
    let a = &config.allow;
    let mut g = Grant::new().workdir(project);
    for words in &a.programs {
        g = g.program(words[0].clone(), words[1..].iter().cloned());
    }
    g = g
        .directories(a.directories.iter().map(PathBuf::from))
        .hosts(a.hosts.iter().cloned())
        .vars(a.env.iter().cloned())
        .envs(base_env(&a.env))
        .terminal(a.terminal);
    if let Some(m) = a.memory {
        g = g.memory(m << 20);
    }
    if let Some(t) = a.timeout {
        g = g.timeout(Duration::from_secs(t));
    }
    g
}

/// The hook environment one plugin is given: `env` without the secrets (`secret_names`) it
/// was not granted.
pub fn hook_env_for(
    env: &BTreeMap<String, String>,
    secret_names: &[String],
    granted: &[String],
) -> Vec<(String, String)> {
    env.iter()
        .filter(|(k, _)| !secret_names.contains(k) || granted.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The project's plugins.
pub struct Plugins {
    project: PathBuf,
    ext: WharfExtension,
    verbosity: Verbosity,
    loaded: Mutex<HashMap<String, Plugin>>,
    /// Where hooks' and builders' programs run (the executor's; `None`: on this machine).
    runner: Option<Arc<dyn ProcessRunner>>,
}

impl Plugins {
    pub fn new(project: &Path, ext: WharfExtension, verbosity: Verbosity) -> Plugins {
        Plugins { project: project.to_path_buf(), ext, verbosity, loaded: Mutex::new(HashMap::new()), runner: None }
    }

    /// Runs hooks' and builders' programs through `runner` (the commander's executor's).
    pub fn with_runner(mut self, runner: Option<Arc<dyn ProcessRunner>>) -> Plugins {
        self.runner = runner;
        self
    }

    pub fn extension(&self) -> &WharfExtension {
        &self.ext
    }

    /// The store that finds this project's plugins (with the built-in ones).
    pub fn store(&self) -> Store {
        Store::new(&self.project).with_builtins(builtins())
    }

    /// Loads `name`: a plugin configured under `x-wharf.plugins`, else a built-in one. Checks
    /// that it is a plugin of `world`.
    pub fn load(&self, name: &str, world: World) -> Result<Plugin> {
        if let Some(p) = self.loaded.lock().unwrap().get(name) {
            return Ok(p.clone());
        }
        let spec = match self.ext.plugin(name) {
            Some(c) => {
                let mut spec = PluginSpec::new(&c.name, &c.source);
                spec.sha256 = c.sha256.clone();
                spec
            }
            None => PluginSpec::new(name, format!("builtin:{name}")),
        };
        let store = self.store();
        let mut resolved = block_on(async {
            let lock = store.read_lock()?;
            store.load(&spec, lock.as_ref()).await
        })
        .map_err(|e| CliError::runtime(e.to_string()))?;
        // Logs and errors name the plugin as deploy.yml does.
        resolved.manifest.name = name.to_string();
        let host = shared_host()?;
        let plugin = resolved.load(host).map_err(|e| CliError::runtime(e.to_string()))?;
        if plugin.world() != world {
            return Err(CliError::runtime(format!(
                "plugin {name} is a {} plugin, not a {}",
                plugin.world().as_str(),
                world.as_str()
            )));
        }
        self.loaded.lock().unwrap().insert(name.to_string(), plugin.clone());
        Ok(plugin)
    }

    /// The grant for the configured plugin `name` (nothing for one that is not configured).
    pub fn grant(&self, name: &str) -> Grant {
        match self.ext.plugin(name) {
            Some(c) => grant_for(c, &self.project),
            None => Grant::new().workdir(&self.project),
        }
    }

    /// Whether any WASM hook is attached to `hook`.
    pub fn has_hooks(&self, hook: &str) -> bool {
        !self.ext.hook_plugins(hook).is_empty()
    }

    /// Runs the WASM hooks attached to `hook`, in order, with Kamal's hook environment `env`.
    /// The first failure stops them and fails like a script hook. `secrets`: values to mask.
    /// `secret_names`: the variables of `env` that hold secrets; a plugin is given only those
    /// its `allow: secrets:` names.
    pub fn run_hooks(
        &self,
        hook: &str,
        env: &BTreeMap<String, String>,
        secret_names: &[String],
        secrets: &[String],
        quiet: bool,
    ) -> std::result::Result<(), HookError> {
        for name in self.ext.hook_plugins(hook) {
            let fail = |output: String| HookError { hook: hook.to_string(), output };
            let plugin = self.load(name, World::Hook).map_err(|e| fail(e.message))?;
            let granted = self.ext.plugin(name).map(|p| p.allow.secrets.as_slice()).unwrap_or_default();
            let ctx = HookContext { name: hook.to_string(), env: hook_env_for(env, secret_names, granted) };
            let verbosity = Verbosity { info: !quiet, debug: self.verbosity.debug };
            let opts = CallOptions::new()
                .secrets(secrets.iter().cloned())
                .log(terminal_sink(verbosity))
                .runner(self.runner.clone());
            let grant = self.grant(name);
            block_on(plugin.run_hook(&ctx, &grant, &opts)).map_err(|e| fail(e.to_string()))?;
        }
        Ok(())
    }

    /// Builds with the builder plugin (`x-wharf.builder`, default the built-in `docker`).
    /// `env`: variables the builder's programs get on top of the grant's (the build secrets,
    /// `DOCKER_HOST`); `workdir`: the build directory.
    pub fn build(
        &self,
        req: &BuildRequest,
        workdir: &Path,
        env: &[(String, String)],
        secrets: &[String],
    ) -> Result<BuildResult> {
        let name = self.ext.builder.clone().unwrap_or_else(|| "docker".into());
        let plugin = self.load(&name, World::Builder)?;
        let mut grant = if self.ext.plugin(&name).is_some() {
            self.grant(&name)
        } else {
            // The built-in docker builder runs the user's own docker, as Kamal does: docker
            // with any arguments, Wharf's whole environment.
            Grant::new()
                .program("docker", [wharf_plugin_host::ANY_ARGUMENTS])
                .envs(std::env::vars())
                .vars(plugin.manifest().capabilities.env.iter().cloned())
        };
        grant = grant.workdir(workdir);
        for (k, v) in env {
            grant = grant.set_env(k.clone(), v.clone());
        }
        let opts = CallOptions::new()
            .secrets(secrets.iter().cloned())
            .log(terminal_sink(self.verbosity))
            .runner(self.runner.clone());
        block_on(plugin.build(req, &grant, &opts)).map_err(|e| CliError::runtime(e.to_string()))
    }
}

/// Kamal's adapters (built-in plugins, [`secret_adapters::PluginAdapters`]) plus the
/// secrets-adapter plugins configured under `x-wharf.plugins`, by name, for
/// `$(kamal secrets fetch -a NAME ...)` and `wharf secrets fetch -a NAME`.
pub struct ConfiguredAdapters {
    plugins: Plugins,
}

impl ConfiguredAdapters {
    pub fn new(project: &Path, ext: WharfExtension) -> ConfiguredAdapters {
        let plugins = Plugins::new(project, ext, Verbosity { info: true, debug: false });
        ConfiguredAdapters { plugins }
    }
}

impl wharf_secrets::cli::AdapterFetcher for ConfiguredAdapters {
    fn fetch(
        &self,
        adapter: wharf_secrets::cli::Adapter,
        names: &[String],
        account: Option<&str>,
        from: Option<&str>,
    ) -> std::result::Result<wharf_secrets::SecretMap, String> {
        secret_adapters::PluginAdapters.fetch(adapter, names, account, from)
    }

    fn has_custom(&self, name: &str) -> bool {
        self.plugins.ext.plugin(name).is_some()
    }

    fn fetch_custom(
        &self,
        name: &str,
        names: &[String],
        account: Option<&str>,
        from: Option<&str>,
    ) -> std::result::Result<wharf_secrets::SecretMap, String> {
        let plugin = self.plugins.load(name, World::SecretsAdapter).map_err(|e| e.message)?;
        let grant = self.plugins.grant(name);
        // Every value fetched so far in this process, by any adapter, is masked in its output.
        let fetched = secret_adapters::fetched_values();
        let mask = fetched.lock().unwrap().clone();
        let opts = CallOptions::new().secrets(mask).log(terminal_sink(self.plugins.verbosity));
        let pairs = block_on(plugin.fetch_secrets(account, from, names, &grant, &opts)).map_err(|e| e.to_string())?;
        fetched.lock().unwrap().extend(pairs.iter().map(|(_, v)| v.clone()));
        Ok(pairs.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hook_plugin_is_given_only_the_secrets_it_is_allowed() {
        let env: BTreeMap<String, String> = [("KAMAL_VERSION", "abc"), ("DB_PASSWORD", "pw"), ("SLACK_TOKEN", "tok")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let secrets = vec!["DB_PASSWORD".to_string(), "SLACK_TOKEN".to_string()];
        let given = hook_env_for(&env, &secrets, &["SLACK_TOKEN".to_string()]);
        assert_eq!(given, [("KAMAL_VERSION".to_string(), "abc".to_string()), ("SLACK_TOKEN".into(), "tok".into())]);
        assert_eq!(hook_env_for(&env, &secrets, &[]), [("KAMAL_VERSION".to_string(), "abc".to_string())]);
    }
}
