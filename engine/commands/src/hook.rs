//! `Kamal::Commands::Hook`: running `.kamal/hooks/<hook>` locally with `KAMAL_*` variables.

use crate::cmd;
use crate::cmd::Cmd;
use crate::tags::{Details, Stamp, Tags};
use wharf_config::ruby::file_join;
use wharf_config::Configuration;

/// The hook commands.
#[derive(Debug, Clone)]
pub struct Hook<'a> {
    config: &'a Configuration,
}

impl<'a> Hook<'a> {
    /// `Kamal::Commands::Hook.new(config)`.
    pub fn new(config: &'a Configuration) -> Hook<'a> {
        Hook { config }
    }

    /// `run(hook)`: `[<hooks_path>/<hook>]`.
    pub fn run(&self, hook: &str) -> Cmd {
        cmd![self.hook_file(hook)]
    }

    /// `env(secrets:, **details)`: `KAMAL_RECORDED_AT`, `KAMAL_PERFORMER`, `KAMAL_DESTINATION`,
    /// `KAMAL_VERSION`, `KAMAL_SERVICE_VERSION`, `KAMAL_SERVICE` and one `KAMAL_<DETAIL>` per
    /// detail (nil ones left out), then, with `secrets`, every secret (`config.secrets.to_h`,
    /// which the caller passes since a [`wharf_config::SecretLookup`] cannot list its secrets).
    ///
    /// The details the CLI passes (`run_hook`): `hosts` (comma-joined), `roles` (comma-joined,
    /// when given), `lock` (`"true"`/`"false"`), `command`, `subcommand` (when any), plus the
    /// hook's own (e.g. `runtime`).
    pub fn env(&self, stamp: &Stamp, secrets: Option<&[(String, String)]>, details: &Details) -> Vec<(String, String)> {
        let mut env = Tags::from_config(self.config, stamp, details).env();
        if let Some(secrets) = secrets {
            for (k, v) in secrets {
                match env.iter_mut().find(|(key, _)| key == k) {
                    Some(entry) => entry.1 = v.clone(),
                    None => env.push((k.clone(), v.clone())),
                }
            }
        }
        env
    }

    /// The details `Kamal::Cli::Base#run_hook` passes to [`env`](Self::env) (before the hook's
    /// own): `hosts` (comma-joined), `roles` (the `--roles` given, comma-joined, left out when
    /// none), `lock` (`"true"`/`"false"`: whether this process holds the deploy lock),
    /// `command` and `subcommand` (e.g. `app` and `boot`; left out when none).
    pub fn run_details(
        hosts: &[String],
        specific_roles: Option<&[String]>,
        holding_lock: bool,
        command: &str,
        subcommand: Option<&str>,
    ) -> Details {
        Details::new()
            .with("hosts", hosts.join(","))
            .with_opt("roles", specific_roles.map(|r| r.join(",")))
            .with("lock", holding_lock.to_string())
            .with("command", command)
            .with_opt("subcommand", subcommand)
    }

    /// `hook_file(hook)`: `<hooks_path>/<hook>` (Kamal runs the hook when this file exists).
    pub fn hook_file(&self, hook: &str) -> String {
        file_join(&[&self.config.hooks_path(), hook])
    }
}
