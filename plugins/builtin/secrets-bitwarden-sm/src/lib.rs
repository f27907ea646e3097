//! Kamal's `bitwarden-sm` adapter (`Kamal::Secrets::Adapters::BitwardenSecretsManager`) as a
//! plugin.
//!
//! Login: `bws project list` must succeed (the access token comes from `BWS_ACCESS_TOKEN` in
//! the environment). Names are secret UUIDs (`bws secret get UUID`, one each), or a single `all`
//! (`bws secret list`) or `PROJECT/all` (`bws secret list PROJECT`). Keys are the secrets'
//! `key`s.

use secrets_common::ruby::shellescape;
use secrets_common::{backticks, ensure_installed, get_str, json, prefixed, Ran, Results};
use serde_json::Value;
use wharf_plugin_sdk::SecretsAdapter;

struct BitwardenSecretsManager;

impl SecretsAdapter for BitwardenSecretsManager {
    fn fetch(
        _account: Option<String>,
        from: Option<String>,
        names: Vec<String>,
    ) -> Result<Vec<(String, String)>, String> {
        ensure_installed("bws --version 2> /dev/null", "Bitwarden Secrets Manager CLI")?;
        if !run("project list")?.success {
            return Err("Could not authenticate to Bitwarden Secrets Manager. Did you set a valid access token?".into());
        }
        if names.is_empty() {
            return Err("You must specify what to retrieve from Bitwarden Secrets Manager".into());
        }
        let secrets = prefixed(&names, from.as_deref());
        let mut results = Results::new();
        match list_command(&secrets) {
            None => {
                for uuid in &secrets {
                    let ran = run(&format!("secret get {}", shellescape(uuid)))?;
                    if !ran.success {
                        return Err(format!("Could not read {uuid} from Bitwarden Secrets Manager"));
                    }
                    let item = json(&ran.stdout)?;
                    results.insert(key(&item), get_str(&item, "value").unwrap_or_default());
                }
            }
            Some(command) => {
                let ran = run(&command)?;
                if !ran.success {
                    return Err("Could not read secrets from Bitwarden Secrets Manager".into());
                }
                for item in json(&ran.stdout)?.as_array().into_iter().flatten() {
                    results.insert(key(item), get_str(item, "value").unwrap_or_default());
                }
            }
        }
        Ok(results.into_pairs())
    }
}

wharf_plugin_sdk::export_secrets_adapter!(BitwardenSecretsManager);

fn key(item: &Value) -> String {
    get_str(item, "key").unwrap_or_default()
}

fn run(command: &str) -> Result<Ran, String> {
    backticks(&format!("bws {command}"))
}

/// `extract_command_and_project`: `secret list [PROJECT]` for a single `all` or `PROJECT/all`.
fn list_command(secrets: &[String]) -> Option<String> {
    match secrets {
        [one] if one == "all" => Some("secret list".into()),
        [one] if one.ends_with("/all") => {
            let project = secrets_common::split(one, "/all").into_iter().next().unwrap_or_default();
            Some(format!("secret list {}", shellescape(&project)))
        }
        _ => None,
    }
}
