//! Kamal's `passbolt` adapter (`Kamal::Secrets::Adapters::Passbolt`) as a plugin.
//!
//! Login: `passbolt verify`. Names are `[FOLDER/[SUBFOLDER/...]]NAME` (or `--from FOLDER/...`).
//! Folders are looked up first: `passbolt list folders --filter 'Name == "A" || Name == "B"'
//! --json`, then per nested level `--filter 'Name == "x" && FolderParentID == "ID"'`. Then one
//! `passbolt list resources --filter '...' --folder ID... --column name --column password
//! --json`. Keys are the resources' names.

use secrets_common::ruby::{inspect, shellescape};
use secrets_common::{backticks, ensure_installed, get_str, inspect_list, json, prefixed, raise, split, Results};
use serde_json::Value;
use wharf_plugin_sdk::SecretsAdapter;

struct Passbolt;

impl SecretsAdapter for Passbolt {
    fn fetch(
        _account: Option<String>,
        from: Option<String>,
        names: Vec<String>,
    ) -> Result<Vec<(String, String)>, String> {
        ensure_installed("passbolt --version 2> /dev/null", "Passbolt CLI")?;
        if !backticks("passbolt verify")?.success {
            return Err("Failed to login to Passbolt".into());
        }
        let secrets = prefixed(&names, from.as_deref());
        if secrets.is_empty() {
            return Err(raise("ArgumentError", "No secrets given to fetch"));
        }
        Ok(fetch_secrets(&secrets)?.into_pairs())
    }
}

wharf_plugin_sdk::export_secrets_adapter!(Passbolt);

/// `"NAME".shellescape.inspect`, as Kamal quotes names and IDs in filters.
fn quoted(s: &str) -> String {
    inspect(&shellescape(s))
}

fn id(folder: &Value) -> String {
    get_str(folder, "id").unwrap_or_default()
}

fn fetch_secrets(secrets: &[String]) -> Result<Results, String> {
    let secret_names: Vec<String> = secrets.iter().map(|s| split(s, "/").pop().unwrap_or_default()).collect();
    let folders = get_folders(secrets)?;

    let mut conditions = vec![];
    for secret in secrets {
        let parts = split(secret, "/");
        let name = parts.last().cloned().unwrap_or_default();
        if parts.len() > 1 {
            let mut current: Option<&Value> = None;
            let mut path: Vec<&str> = vec![];
            for folder_name in &parts[..parts.len() - 1] {
                path.push(folder_name);
                let joined = path.join("/");
                if let Some(f) = folders.iter().find(|f| folder_path(f, &folders) == joined) {
                    current = Some(f);
                }
            }
            if let Some(folder) = current {
                conditions.push(format!("(Name == {} && FolderParentID == {})", quoted(&name), quoted(&id(folder))));
            }
        } else {
            conditions.push(format!("Name == {}", quoted(&name)));
        }
    }
    let filter = if conditions.is_empty() { String::new() } else { format!("--filter '{}'", conditions.join(" || ")) };
    let folder_flags: Vec<String> = folders.iter().map(|f| format!("--folder {}", shellescape(&id(f)))).collect();
    let ran = backticks(&format!(
        "passbolt list resources {filter} {} --column name --column password --json",
        folder_flags.join(" ")
    ))?;
    if !ran.success {
        return Err(format!("Could not read {} from Passbolt", inspect_list(secrets)));
    }
    let items = json(&ran.stdout)?;
    let items: Vec<&Value> = items.as_array().map(|a| a.iter().collect()).unwrap_or_default();
    let found: Vec<String> = items.iter().filter_map(|i| get_str(i, "name")).collect();
    let missing: Vec<&str> =
        secret_names.iter().map(String::as_str).filter(|n| !found.iter().any(|f| f == n)).collect();
    if !missing.is_empty() {
        return Err(format!("Could not find the following secrets in Passbolt: {}", missing.join(", ")));
    }
    let mut results = Results::new();
    for item in items {
        results.insert(get_str(item, "name").unwrap_or_default(), get_str(item, "password").unwrap_or_default());
    }
    Ok(results)
}

/// `secrets_get_folders`: every folder on the names' paths, parents first.
fn get_folders(secrets: &[String]) -> Result<Vec<Value>, String> {
    let mut paths: Vec<Vec<String>> = vec![];
    for s in secrets.iter().filter(|s| s.contains('/')) {
        let mut parts = split(s, "/");
        parts.pop();
        if !paths.contains(&parts) {
            paths.push(parts);
        }
    }
    if paths.is_empty() {
        return Ok(vec![]);
    }

    let mut parents: Vec<String> = vec![];
    for p in &paths {
        let first = p.first().cloned().unwrap_or_default();
        if !parents.contains(&first) {
            parents.push(first);
        }
    }
    let filter = parents.iter().map(|n| format!("Name == {}", quoted(n))).collect::<Vec<_>>().join(" || ");
    let ran = backticks(&format!("passbolt list folders --filter '{filter}' --json"))?;
    if !ran.success {
        return Err("Could not read folders from Passbolt".into());
    }
    let parent_items: Vec<Value> = json(&ran.stdout)?.as_array().cloned().unwrap_or_default();
    let mut all = parent_items.clone();

    for path in &paths {
        if path.len() <= 1 {
            continue;
        }
        let Some(parent) = parent_items.iter().find(|f| get_str(f, "name").as_deref() == Some(path[0].as_str())) else {
            continue;
        };
        let mut current = parent.clone();
        for folder_name in &path[1..] {
            let ran = backticks(&format!(
                "passbolt list folders --filter 'Name == {} && FolderParentID == {}' --json",
                quoted(folder_name),
                quoted(&id(&current))
            ))?;
            if !ran.success {
                continue;
            }
            let nested: Vec<Value> = json(&ran.stdout)?.as_array().cloned().unwrap_or_default();
            let Some(first) = nested.first().cloned() else { break };
            all.extend(nested);
            current = first;
        }
    }

    let found: Vec<String> = all.iter().map(|f| folder_path(f, &all)).collect();
    let missing: Vec<String> = paths.iter().map(|p| p.join("/")).filter(|p| !found.contains(p)).collect();
    if !missing.is_empty() {
        return Err(format!("Could not find the following folders in Passbolt: {}", missing.join(", ")));
    }
    Ok(all)
}

/// `get_folder_path`: the folder's name after its parents' names (as far as they are known).
fn folder_path(folder: &Value, all: &[Value]) -> String {
    let mut path = vec![get_str(folder, "name").unwrap_or_default()];
    let mut current = folder;
    // A cycle of parents would recurse forever in Kamal; stop after as many steps as folders.
    for _ in 0..all.len() {
        let parent_id = current.get("folder_parent_id").map(secrets_common::value_string).unwrap_or_default();
        if parent_id.is_empty() {
            break;
        }
        let Some(parent) =
            all.iter().find(|f| f.get("id").map(secrets_common::value_string).as_deref() == Some(parent_id.as_str()))
        else {
            break;
        };
        path.insert(0, get_str(parent, "name").unwrap_or_default());
        current = parent;
    }
    path.join("/")
}
