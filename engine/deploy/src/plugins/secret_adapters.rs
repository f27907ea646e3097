//! Kamal's secrets adapters (`1password`, `bitwarden`, `bitwarden-sm`, `lastpass`, `doppler`,
//! `aws_secrets_manager`, `gcp_secret_manager`, `passbolt`, `enpass`) run as the built-in
//! WebAssembly plugins embedded in this binary (`plugins/builtin`, `wharf-builtin-plugins`),
//! for `wharf secrets fetch -a NAME` and `$(kamal secrets fetch ...)` in `.kamal/secrets`.
//! Kamal's `test` adapter stays native.
//!
//! The grant of a built-in adapter: its vendor CLI with any arguments, that program's
//! environment = Wharf's whole environment (the CLI needs `PATH`, `HOME` and its own settings
//! such as `AWS_PROFILE` or `BWS_ACCESS_TOKEN`), the variables its manifest's `env` names (the
//! plugin may read them and set them on the CLI: `DOPPLER_TOKEN`, `BW_SESSION`), and the
//! current directory as the CLI's working directory (as under Kamal), 300 s per fetch. What an
//! adapter logs (the CLI's stderr, as warnings, on stderr) is shown with every secret value
//! fetched so far masked.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use wharf_plugin_host::{CallOptions, Grant, Manifest, Plugin, PluginError};
use wharf_secrets::cli::{Adapter, AdapterFetcher, BuiltinAdapters};
use wharf_secrets::SecretMap;

use super::runtime::{block_on, shared_host, terminal_sink, Verbosity};
use crate::error::CliError;

/// The built-in plugin implementing `adapter` (its manifest's name); `None` for `test`.
pub fn plugin_name(adapter: Adapter) -> Option<&'static str> {
    Some(match adapter {
        Adapter::OnePassword => "1password",
        Adapter::Bitwarden => "bitwarden",
        Adapter::BitwardenSecretsManager => "bitwarden-sm",
        Adapter::LastPass => "lastpass",
        Adapter::Doppler => "doppler",
        Adapter::AwsSecretsManager => "aws_secrets_manager",
        Adapter::GcpSecretManager => "gcp_secret_manager",
        Adapter::Passbolt => "passbolt",
        Adapter::Enpass => "enpass",
        Adapter::Test => return None,
    })
}

/// Kamal's adapters: `test` natively, the others as built-in plugins.
#[derive(Debug, Clone, Copy, Default)]
pub struct PluginAdapters;

impl AdapterFetcher for PluginAdapters {
    fn fetch(
        &self,
        adapter: Adapter,
        names: &[String],
        account: Option<&str>,
        from: Option<&str>,
    ) -> Result<SecretMap, String> {
        let Some(name) = plugin_name(adapter) else {
            return BuiltinAdapters.fetch(adapter, names, account, from);
        };
        let (plugin, manifest) = load(name)?;
        let grant = grant(&manifest);
        let opts = CallOptions::new()
            .secrets(fetched_values().lock().expect("masked values").iter())
            .log(terminal_sink(Verbosity { info: false, debug: false }));
        let pairs = block_on(plugin.fetch_secrets(account, from, names, &grant, &opts)).map_err(|e| match e {
            // The adapter's own message, as Kamal raises it.
            PluginError::Failed { message, .. } => without_class(&message),
            other => other.to_string(),
        })?;
        fetched_values().lock().expect("masked values").extend(pairs.iter().map(|(_, v)| v.clone()));
        Ok(pairs.into_iter().collect())
    }
}

/// The Ruby classes of Kamal's adapter errors besides `RuntimeError`.
const CLASSES: &[&str] = &["ArgumentError", "JSON::ParserError", "NoMethodError", "KeyError", "TypeError"];

/// Messages of adapter errors that are not `RuntimeError`s, with their class.
fn error_classes() -> &'static Mutex<Vec<(String, &'static str)>> {
    static CLASSES_SEEN: OnceLock<Mutex<Vec<(String, &'static str)>>> = OnceLock::new();
    CLASSES_SEEN.get_or_init(Default::default)
}

/// An adapter's error message without its class prefix (`\u{1}CLASS\u{1}message`, see
/// `secrets_common::raise`); the class is remembered for [`cli_error`].
fn without_class(message: &str) -> String {
    let parts: Option<(&str, &str)> = message.strip_prefix('\u{1}').and_then(|rest| rest.split_once('\u{1}'));
    let Some((class, text)) = parts else { return message.to_string() };
    if let Some(class) = CLASSES.iter().find(|c| **c == class) {
        error_classes().lock().expect("error classes").push((text.to_string(), class));
    }
    text.to_string()
}

/// A `secrets fetch` error as the CLI prints it: `ERROR (CLASS): message`, with the class
/// Kamal's adapter raises (`RuntimeError` unless it said otherwise).
pub fn cli_error(e: wharf_secrets::cli::CliError) -> CliError {
    let message = e.to_string();
    let seen = error_classes().lock().expect("error classes");
    let class = seen.iter().find(|(m, _)| *m == message).map(|(_, c)| *c).unwrap_or("RuntimeError");
    CliError::new(class, message)
}

/// Every value a built-in adapter returned in this process: masked in later plugin output.
pub(crate) fn fetched_values() -> &'static Mutex<Vec<String>> {
    static VALUES: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    VALUES.get_or_init(Default::default)
}

/// The built-in plugin `name`, loaded once per process (from the precompiled cache when the
/// component was compiled before).
fn load(name: &'static str) -> Result<(Plugin, Manifest), String> {
    static LOADED: OnceLock<Mutex<HashMap<&'static str, (Plugin, Manifest)>>> = OnceLock::new();
    let mut loaded = LOADED.get_or_init(Default::default).lock().expect("loaded plugins");
    if let Some(p) = loaded.get(name) {
        return Ok(p.clone());
    }
    let builtin = wharf_builtin_plugins::find(name).ok_or_else(|| format!("Secrets adapter {name} is not built in"))?;
    let manifest = Manifest::from_toml(builtin.manifest, name).map_err(|e| e.to_string())?;
    let host = shared_host().map_err(|e| e.message)?;
    let plugin = host.load(manifest.clone(), builtin.wasm).map_err(|e| e.to_string())?;
    loaded.insert(name, (plugin.clone(), manifest.clone()));
    Ok((plugin, manifest))
}

/// What Wharf grants a built-in adapter (see the module docs).
pub fn grant(manifest: &Manifest) -> Grant {
    let mut grant = Grant::new();
    if let Ok(cwd) = std::env::current_dir() {
        grant = grant.workdir(cwd);
    }
    for rule in &manifest.capabilities.programs {
        grant = grant.program(rule.program.clone(), [wharf_plugin_host::ANY_ARGUMENTS]);
    }
    for var in &manifest.capabilities.env {
        grant = grant.var(var.clone());
    }
    grant
        .envs(std::env::vars())
        // Logins prompt on the terminal, as under Kamal.
        .terminal(manifest.capabilities.terminal)
        // Kamal waits for the CLI as long as it takes (an unlock confirmed in a desktop app, a
        // slow sync): more than the 30 s a secrets plugin gets by default.
        .timeout(std::time::Duration::from_secs(300))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_classes_come_from_the_prefix() {
        assert_eq!(without_class("\u{1}ArgumentError\u{1}No secrets given to fetch"), "No secrets given to fetch");
        assert_eq!(without_class("plain"), "plain");
        let e = cli_error(wharf_secrets::cli::CliError::Adapter("No secrets given to fetch".into()));
        assert_eq!((e.class.as_ref(), e.message.as_str()), ("ArgumentError", "No secrets given to fetch"));
        let e = cli_error(wharf_secrets::cli::CliError::Adapter("other".into()));
        assert_eq!(e.class, "RuntimeError");
    }

    #[test]
    fn every_adapter_but_test_is_built_in() {
        for adapter in Adapter::ALL {
            match plugin_name(adapter) {
                None => assert_eq!(adapter, Adapter::Test),
                Some(name) => {
                    let b = wharf_builtin_plugins::find(name).unwrap_or_else(|| panic!("{name} is not built in"));
                    let m = Manifest::from_toml(b.manifest, name).unwrap();
                    assert_eq!(m.world, wharf_plugin_host::World::SecretsAdapter);
                    let g = grant(&m);
                    assert!(g.missing(&m).is_empty(), "{name}: {:?}", g.missing(&m));
                }
            }
        }
    }
}
