//! Kamal's `1password` adapter (`Kamal::Secrets::Adapters::OnePassword`) as a plugin.
//!
//! Names are `[op://]vault/item/[section/]field` (the field defaults to `password`), usually
//! with `--from op://vault[/item]`. One `op item get ITEM --vault V --format json --account A
//! [--session S] --fields label=f1,label=f2` per vault and item; with no names, `--from
//! op://vault/item` fetches every field of that item. Keys are the fields' `reference` minus
//! `op://` and a final `/password`.

use secrets_common::ruby::{optionize, shellescape};
use secrets_common::{
    backticks, ensure_installed, json, prefixed, prompting, raise, required_account, succeeds, value_string, Results,
};
use serde_json::Value;
use wharf_plugin_sdk::SecretsAdapter;

struct OnePassword;

impl SecretsAdapter for OnePassword {
    fn fetch(
        account: Option<String>,
        from: Option<String>,
        names: Vec<String>,
    ) -> Result<Vec<(String, String)>, String> {
        let account = required_account(account)?;
        ensure_installed("op --version 2> /dev/null", "1Password CLI")?;
        let session = login(&account)?;
        let results = if names.is_empty() {
            fetch_all(from.as_deref(), &account, session.as_deref())?
        } else {
            fetch_specified(&prefixed(&names, from.as_deref()), &account, session.as_deref())?
        };
        Ok(results.into_pairs())
    }
}

wharf_plugin_sdk::export_secrets_adapter!(OnePassword);

/// Signs in unless `op account get` says the account is signed in already; the session is
/// what `op signin --raw` printed (unless blank).
fn login(account: &str) -> Result<Option<String>, String> {
    if succeeds(&format!("op account get --account {} 2> /dev/null", shellescape(account)))? {
        return Ok(None);
    }
    let ran =
        prompting(&format!("op signin {}", optionize(&[("account", Some(account)), ("force", None), ("raw", None)])))?;
    if !ran.success {
        return Err("Failed to login to 1Password".into());
    }
    Ok(Some(ran.stdout).filter(|s| !s.trim().is_empty()))
}

type ItemFields = Vec<(String, Vec<String>)>;

/// `vaults_items_fields`: vault -> item -> fields (`section.field`), in order of appearance.
fn vaults_items_fields(secrets: &[String]) -> Vec<(String, ItemFields)> {
    let mut vaults: Vec<(String, ItemFields)> = vec![];
    for secret in secrets {
        let secret = secret.strip_prefix("op://").unwrap_or(secret);
        let mut parts = secrets_common::split(secret, "/").into_iter();
        let vault = parts.next().unwrap_or_default();
        let item = parts.next().unwrap_or_default();
        let mut fields: Vec<String> = parts.collect();
        if fields.is_empty() {
            fields.push("password".into());
        }
        let items = match vaults.iter().position(|(v, _)| *v == vault) {
            Some(i) => &mut vaults[i].1,
            None => {
                vaults.push((vault, vec![]));
                &mut vaults.last_mut().expect("pushed").1
            }
        };
        let list = match items.iter().position(|(i, _)| *i == item) {
            Some(i) => &mut items[i].1,
            None => {
                items.push((item, vec![]));
                &mut items.last_mut().expect("pushed").1
            }
        };
        list.push(fields.join("."));
    }
    vaults
}

fn fetch_specified(secrets: &[String], account: &str, session: Option<&str>) -> Result<Results, String> {
    let mut results = Results::new();
    for (vault, items) in vaults_items_fields(secrets) {
        for (item, fields) in items {
            let parsed = json(&op_item_get(&vault, &item, &fields, account, session)?)?;
            let fields_json = if fields.len() == 1 { Value::Array(vec![parsed]) } else { parsed };
            results.merge(fields_map(&fields_json)?);
        }
    }
    Ok(results)
}

fn fetch_all(from: Option<&str>, account: &str, session: Option<&str>) -> Result<Results, String> {
    let Some(from) = from else {
        return Err(raise("NoMethodError", "undefined method `delete_prefix' for nil"));
    };
    let from = from.strip_prefix("op://").unwrap_or(from);
    let mut parts = secrets_common::split(from, "/").into_iter();
    let vault = parts.next().unwrap_or_default();
    let item = parts.next().unwrap_or_default();
    let item_json = json(&op_item_get(&vault, &item, &[], account, session)?)?;
    if !item_json.is_object() {
        return Err(raise("TypeError", "no implicit conversion of String into Integer"));
    }
    let fields = item_json.get("fields").ok_or_else(|| raise("KeyError", "key not found: \"fields\""))?;
    fields_map(fields)
}

/// Each field's `reference` (minus `op://` and a final `/password`) to its `value`.
fn fields_map(fields_json: &Value) -> Result<Results, String> {
    let mut results = Results::new();
    let fields = match fields_json {
        Value::Array(fields) => fields,
        // `Hash#to_h { |field_json| }` gets the keys: `"key"["reference"]` is nil.
        Value::Object(o) if o.is_empty() => return Ok(results),
        Value::Object(_) => return Err(raise("NoMethodError", "undefined method `delete_prefix' for nil")),
        _ => return Err(raise("TypeError", "no implicit conversion of String into Integer")),
    };
    for field in fields {
        // What Ruby's `field_json["reference"].delete_prefix(...)` raises on other values.
        let no_method = |on: &str| Err(raise("NoMethodError", &format!("undefined method `{on}")));
        let reference = match field {
            Value::Object(_) => match secrets_common::get_str(field, "reference") {
                Some(r) => r,
                None => return no_method("delete_prefix' for nil"),
            },
            Value::Number(_) | Value::Array(_) => {
                return Err(raise("TypeError", "no implicit conversion of String into Integer"));
            }
            Value::String(_) => return no_method("delete_prefix' for nil"),
            Value::Bool(b) => return no_method(&format!("[]' for {b}")),
            Value::Null => return no_method("[]' for nil"),
        };
        let key = reference.strip_prefix("op://").unwrap_or(&reference);
        let key = key.strip_suffix("/password").unwrap_or(key);
        results.insert(key, field.get("value").map(value_string).unwrap_or_default());
    }
    Ok(results)
}

fn op_item_get(
    vault: &str,
    item: &str,
    fields: &[String],
    account: &str,
    session: Option<&str>,
) -> Result<String, String> {
    let labels = fields.iter().map(|f| format!("label={f}")).collect::<Vec<_>>().join(",");
    let mut options = vec![("vault", Some(vault)), ("format", Some("json")), ("account", Some(account))];
    if let Some(s) = session {
        options.push(("session", Some(s)));
    }
    if !fields.is_empty() {
        options.push(("fields", Some(&labels)));
    }
    let ran = backticks(&format!("op item get {} {}", shellescape(item), optionize(&options)))?;
    if !ran.success {
        let which = if fields.is_empty() { String::new() } else { format!("{} ", fields.join(", ")) };
        return Err(format!("Could not read {which}from {item} in the {vault} 1Password vault"));
    }
    Ok(ran.stdout)
}
