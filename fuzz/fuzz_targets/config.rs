//! Fuzz target `config`: deploy.yml text through the whole config loader — ERB (wharf-erb's
//! lexer, parser and evaluator), YAML as Psych loads it (libyaml), Kamal's validator, the
//! resolved model — then what the CLI reads off the model (`kamal config`'s YAML, each role's
//! and accessory's docker arguments, the proxy's deploy arguments).
//!
//! Safety: the input is Ruby. The ERB runs sandboxed (`LoadOptions::sandbox_erb`): backticks,
//! `%x()`, `system`, `sleep` and `$(...)` in a file `Dotenv` loads are refused, a system Ruby is
//! never run (`RubyMode::Never`, whatever the input sets; no `PATH` either), evaluation stops after
//! 100,000 steps, `puts`/`warn` go nowhere, ENV is an in-memory map. The working directory is an
//! empty scratch directory. Nothing can write a file.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use wharf_config::{summary, Configuration, LoadOptions, MapSecrets};

/// What each execution starts from (built once per process).
fn options() -> &'static LoadOptions {
    static OPTIONS: OnceLock<LoadOptions> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let env: HashMap<String, String> = [
            ("WHARF_RUBY", "never"),
            ("HOME", "/nonexistent"),
            ("APP_HOST", "app.example.com"),
            ("HOSTS", "10.0.0.1,10.0.0.2"),
            ("EMPTY", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        LoadOptions {
            config_file: PathBuf::from("config/deploy.yml"),
            version: Some("fuzz123".into()),
            env,
            secrets: Arc::new(MapSecrets::new([
                ("KAMAL_REGISTRY_PASSWORD", "pw"),
                ("RAILS_MASTER_KEY", "key"),
                ("DB_PASSWORD", "secret"),
            ])),
            docker_arch: Some("amd64".into()),
            probe_docker_arch: false,
            cwd: Some(wharf_fuzz::scratch_dir("config")),
            sandbox_erb: true,
            ..Default::default()
        }
    })
}

/// Reads what the CLI reads off a loaded configuration.
fn exercise(config: &Configuration) {
    let _ = summary::config_yaml(config);
    let _ = (config.service_with_version(), config.latest_image(), config.abbreviated_version());
    let _ = (config.volume_args(), config.logging_args(), config.proxy_hosts(), config.env_tags());
    let _ = (config.readiness_delay(), config.deploy_timeout(), config.stop_timeout(), config.labels());
    for role in config.roles() {
        let host = role.hosts().into_iter().next().unwrap_or_default();
        let _ = (role.env_args(&host), role.label_args(), role.option_args(), role.logging_args());
        let _ = (role.stop_args(), role.container_name(Some("v1")), role.asset_volume(Some("v1")));
        let _ = role.secrets_io(&host);
        if let Some(proxy) = role.proxy() {
            let _ = (proxy.deploy_command_args("10.0.0.1:3000"), proxy.stop_command_args(Some(30), Some("bye")));
        }
        let _ = config.proxy_run(&host).map(|run| run.run_command());
    }
    for accessory in config.accessories() {
        let _ = (accessory.image(), accessory.port(), accessory.publish_args(), accessory.label_args());
        let _ = (accessory.env_args(), accessory.volume_args(), accessory.option_args(), accessory.cmd());
        let _ = accessory.secrets_io();
    }
    for alias in config.aliases() {
        let _ = alias.command();
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(text) = wharf_fuzz::text(data) else { return };
    if let Ok(config) = Configuration::load_str(text, "config/deploy.yml", options().clone()) {
        exercise(&config);
    }
});
