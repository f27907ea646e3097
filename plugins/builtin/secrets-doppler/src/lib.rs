//! Kamal's `doppler` adapter (`Kamal::Secrets::Adapters::Doppler`) as a plugin.
//!
//! Login: `doppler me --json`, else `doppler login -y`. One `doppler secrets get NAME... --json
//! -p PROJECT -c CONFIG` (names are their last `/` segment; project and config come from
//! `--from project/config` or the first name's prefix). With a service token in
//! `DOPPLER_TOKEN` (`dp.st...`, readable through the plugin's `env` capability) the project
//! and config flags are left out. Keys are the secret names, values their `computed` value.

use secrets_common::ruby::shellescape;
use secrets_common::{
    backticks, ensure_installed, get, inspect_list, json, prefixed, prompting, succeeds, value_string, Results,
};
use wharf_plugin_sdk::SecretsAdapter;

struct Doppler;

impl SecretsAdapter for Doppler {
    fn fetch(
        _account: Option<String>,
        from: Option<String>,
        names: Vec<String>,
    ) -> Result<Vec<(String, String)>, String> {
        ensure_installed("doppler --version 2> /dev/null", "Doppler CLI")?;
        if !succeeds("doppler me --json 2> /dev/null")? && !prompting("doppler login -y")?.success {
            return Err("Failed to login to Doppler".into());
        }

        let secrets = prefixed(&names, from.as_deref());
        let flags = flags(&secrets)?;
        let secret_names: Vec<String> =
            secrets.iter().map(|s| shellescape(&secrets_common::split(s, "/").pop().unwrap_or_default())).collect();
        let ran = backticks(&format!("doppler secrets get {} --json {flags}", secret_names.join(" ")))?;
        if !ran.success {
            return Err(format!("Could not read {} from Doppler", inspect_list(&secrets)));
        }
        let items = json(&ran.stdout)?;
        let mut results = Results::new();
        for (name, value) in items.as_object().into_iter().flatten() {
            results.insert(name.clone(), get(value, "computed").map(value_string).unwrap_or_default());
        }
        Ok(results.into_pairs())
    }
}

wharf_plugin_sdk::export_secrets_adapter!(Doppler);

/// `-p PROJECT -c CONFIG`, unless a service token is set.
fn flags(secrets: &[String]) -> Result<String, String> {
    let service_token = std::env::var("DOPPLER_TOKEN").is_ok_and(|t| t.starts_with("dp.st"));
    if service_token {
        return Ok(String::new());
    }
    let first = secrets.first().map(|s| secrets_common::split(s, "/")).unwrap_or_default();
    match (first.first(), first.get(1)) {
        (Some(project), Some(config)) => Ok(format!("-p {} -c {}", shellescape(project), shellescape(config))),
        _ => Err("Missing project or config from '--from=project/config' option".into()),
    }
}
