//! Kamal's `lastpass` adapter (`Kamal::Secrets::Adapters::LastPass`) as a plugin.
//!
//! Login: `lpass status --color never` must print `Logged in as ACCOUNT.`, else `lpass login
//! ACCOUNT`. One `lpass show NAME... --json` for all names; keys are the entries' `fullname`.

use secrets_common::ruby::shellescape;
use secrets_common::{
    backticks, ensure_installed, get_str, inspect_list, json, prefixed, prompting, required_account, Results,
};
use wharf_plugin_sdk::SecretsAdapter;

struct LastPass;

impl SecretsAdapter for LastPass {
    fn fetch(
        account: Option<String>,
        from: Option<String>,
        names: Vec<String>,
    ) -> Result<Vec<(String, String)>, String> {
        let account = required_account(account)?;
        ensure_installed("lpass --version 2> /dev/null", "LastPass CLI")?;
        let status = backticks("lpass status --color never")?.stdout;
        if status.trim() != format!("Logged in as {account}.")
            && !prompting(&format!("lpass login {}", shellescape(&account)))?.success
        {
            return Err("Failed to login to LastPass".into());
        }

        let secrets = prefixed(&names, from.as_deref());
        let escaped: Vec<String> = secrets.iter().map(|s| shellescape(s)).collect();
        let ran = backticks(&format!("lpass show {} --json", escaped.join(" ")))?;
        if !ran.success {
            return Err(format!("Could not read {} from LastPass", inspect_list(&secrets)));
        }
        let mut results = Results::new();
        for item in json(&ran.stdout)?.as_array().into_iter().flatten() {
            results
                .insert(get_str(item, "fullname").unwrap_or_default(), get_str(item, "password").unwrap_or_default());
        }
        let missing: Vec<&str> = secrets.iter().map(String::as_str).filter(|s| !results.contains(s)).collect();
        if !missing.is_empty() {
            return Err(format!("Could not find {} in LastPass", missing.join(", ")));
        }
        Ok(results.into_pairs())
    }
}

wharf_plugin_sdk::export_secrets_adapter!(LastPass);
