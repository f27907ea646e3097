//! Kamal's `bitwarden` adapter (`Kamal::Secrets::Adapters::Bitwarden`) as a plugin.
//!
//! Login: `bw status`; `unauthenticated` -> `bw login ACCOUNT` and `bw status` again; `locked`
//! -> `bw unlock --raw` (the session) and `BW_SESSION=S bw status`; then `bw sync`. Names are
//! `item` (its login password, else every custom field as `item/field`) or `item/field`; one
//! `bw get item ITEM` per item. The session goes to `bw` as `BW_SESSION` in its environment.

use secrets_common::ruby::shellescape;
use secrets_common::{
    backticks, ensure_installed, get, json, prefixed, prompting, raise, required_account, value_string, Ran, Results,
};
use serde_json::Value;
use wharf_plugin_sdk::SecretsAdapter;

struct Bitwarden;

impl SecretsAdapter for Bitwarden {
    fn fetch(
        account: Option<String>,
        from: Option<String>,
        names: Vec<String>,
    ) -> Result<Vec<(String, String)>, String> {
        let account = required_account(account)?;
        ensure_installed("bw --version 2> /dev/null", "Bitwarden CLI")?;
        let session = login(&account)?;
        Ok(fetch_secrets(&prefixed(&names, from.as_deref()), session.as_deref())?.into_pairs())
    }
}

wharf_plugin_sdk::export_secrets_adapter!(Bitwarden);

/// `run_command`: `[BW_SESSION=S ]bw COMMAND`, its stdout stripped.
fn run(command: &str, session: Option<&str>) -> Result<Ran, String> {
    let prefix = session.map(|s| format!("BW_SESSION={} ", shellescape(s))).unwrap_or_default();
    let line = format!("{prefix}bw {command}");
    // `login` and `unlock` ask for the master password.
    let prompts = command.starts_with("login ") || command.starts_with("unlock ");
    let mut ran = if prompts { prompting(&line)? } else { backticks(&line)? };
    ran.stdout = ran.stdout.trim().to_string();
    Ok(ran)
}

fn status(session: Option<&str>) -> Result<Option<String>, String> {
    let parsed = json(&run("status", session)?.stdout)?;
    Ok(get(&parsed, "status").map(value_string))
}

fn login(account: &str) -> Result<Option<String>, String> {
    let mut status = status(None)?;
    if status.as_deref() == Some("unauthenticated") {
        run(&format!("login {}", shellescape(account)), None)?;
        status = self::status(None)?;
    }
    let mut session = None;
    if status.as_deref() == Some("locked") {
        session = Some(run("unlock --raw", None)?.stdout).filter(|s| !s.trim().is_empty());
        status = self::status(session.as_deref())?;
    }
    if status.as_deref() != Some("unlocked") {
        return Err("Failed to login to and unlock Bitwarden".into());
    }
    if !run("sync", session.as_deref())?.success {
        return Err("Failed to sync Bitwarden".into());
    }
    Ok(session)
}

/// `items_fields`: item -> the fields asked for (`None` for a bare item), in order.
fn items_fields(secrets: &[String]) -> Vec<(String, Vec<Option<String>>)> {
    let mut items: Vec<(String, Vec<Option<String>>)> = vec![];
    for secret in secrets {
        let mut parts = secrets_common::split(secret, "/").into_iter();
        let item = parts.next().unwrap_or_default();
        let field = parts.next();
        match items.iter_mut().find(|(i, _)| *i == item) {
            Some((_, fields)) => fields.push(field),
            None => items.push((item, vec![field])),
        }
    }
    items
}

fn fetch_secrets(secrets: &[String], session: Option<&str>) -> Result<Results, String> {
    let mut results = Results::new();
    for (item, fields) in items_fields(secrets) {
        let ran = run(&format!("get item {}", shellescape(&item)), session)?;
        if !ran.success {
            return Err(format!("Could not read {item} from Bitwarden"));
        }
        let item_json = json(&ran.stdout)?;
        if fields.iter().any(Option::is_some) {
            results.merge(from_fields(&fields, &item, &item_json)?);
        } else if let Some(password) =
            get(&item_json, "login").and_then(|l| get(l, "password")).filter(|v| v.as_bool() != Some(false))
        {
            results.insert(item.clone(), value_string(password));
        } else if let Some(all) = get(&item_json, "fields").and_then(Value::as_array).filter(|f| !f.is_empty()) {
            let names: Vec<Option<String>> = all.iter().map(|f| get(f, "name").map(value_string)).collect();
            results.merge(from_fields(&names, &item, &item_json)?);
        } else {
            return Err(format!("Item {item} is not a login type item and no fields were specified"));
        }
    }
    Ok(results)
}

fn from_fields(fields: &[Option<String>], item: &str, item_json: &Value) -> Result<Results, String> {
    let mut results = Results::new();
    let all = get(item_json, "fields")
        .and_then(Value::as_array)
        .ok_or_else(|| raise("NoMethodError", "undefined method `find' for nil"))?;
    for field in fields {
        let found = all.iter().find(|f| get(f, "name").map(value_string) == *field);
        let field = field.as_deref().unwrap_or("");
        let Some(found) = found else {
            return Err(format!("Could not find field {field} in item {item} in Bitwarden"));
        };
        results.insert(format!("{item}/{field}"), found.get("value").map(value_string).unwrap_or_default());
    }
    Ok(results)
}
