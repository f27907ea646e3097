//! Kamal's `enpass` adapter (`Kamal::Secrets::Adapters::Enpass`) as a plugin.
//!
//! Offline, no login: `--from` is the vault's path. Names are `TITLE` (every password of the
//! item) or `TITLE/LABEL`; one `enpass-cli -json -vault VAULT show TITLE...`. Keys are
//! `TITLE/LABEL`, or `TITLE` for an entry without a label.

use secrets_common::ruby::shellescape;
use secrets_common::{backticks, ensure_installed, get_str, json, raise, Results};
use wharf_plugin_sdk::SecretsAdapter;

struct Enpass;

impl SecretsAdapter for Enpass {
    fn fetch(
        _account: Option<String>,
        from: Option<String>,
        names: Vec<String>,
    ) -> Result<Vec<(String, String)>, String> {
        ensure_installed("enpass-cli version 2> /dev/null", "Enpass CLI")?;
        let Some(vault) = from else {
            return Err(raise("NoMethodError", "undefined method `shellescape' for nil"));
        };
        // The titles: the part before the last `/`, or the whole name.
        let mut titles: Vec<String> = vec![];
        for name in &names {
            let title = match name.rfind('/') {
                Some(i) if i > 0 => name[..i].to_string(),
                Some(i) => name[i + 1..].to_string(),
                None => name.clone(),
            };
            if !titles.contains(&title) {
                titles.push(title);
            }
        }
        let escaped: Vec<String> = titles.iter().map(|t| shellescape(t)).collect();
        let ran = backticks(&format!("enpass-cli -json -vault {} show {}", shellescape(&vault), escaped.join(" ")))?;

        let mut results = Results::new();
        for item in json(ran.stdout.trim())?.as_array().into_iter().flatten() {
            let title = get_str(item, "title");
            let label = get_str(item, "label");
            let password = get_str(item, "password").filter(|p| !p.trim().is_empty());
            let (Some(title), Some(password)) = (title, password) else { continue };
            let key = [Some(title.clone()), label]
                .into_iter()
                .flatten()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("/");
            if names.contains(&title) || names.contains(&key) {
                if results.get(&key).is_some_and(|v| !v.is_empty()) {
                    return Err(format!("{key} is present more than once"));
                }
                results.insert(key, password);
            }
        }
        Ok(results.into_pairs())
    }
}

wharf_plugin_sdk::export_secrets_adapter!(Enpass);
