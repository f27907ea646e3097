//! A secrets adapter reading a file: `wharf secrets fetch --adapter file-secrets --from
//! secrets/production.json DB_PASSWORD API_KEY`.
//!
//! `--from` names a file inside a directory the user granted (relative paths are relative to
//! the project). A `.json` file is an object whose values are strings (numbers and booleans are
//! written as JSON writes them); anything else is read as dotenv: `KEY=VALUE` lines, `#`
//! comments, an optional `export `, values optionally in single or double quotes. With no
//! names, every secret in the file is returned.

use wharf_plugin_sdk::{files, SecretsAdapter};

struct FileSecrets;

fn parse_json(text: &str) -> Result<Vec<(String, String)>, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let object = value.as_object().ok_or("the JSON file must hold an object")?;
    object
        .iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => Ok((k.clone(), s.clone())),
            serde_json::Value::Number(_) | serde_json::Value::Bool(_) => Ok((k.clone(), v.to_string())),
            _ => Err(format!("{k}: only strings, numbers and booleans are secrets")),
        })
        .collect()
}

fn parse_dotenv(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = vec![];
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (key, value) = line.split_once('=').ok_or_else(|| format!("line {}: expected KEY=VALUE", n + 1))?;
        let value = value.trim();
        let value = if value.len() >= 2
            && ((value.starts_with('"') && value.ends_with('"')) || (value.starts_with('\'') && value.ends_with('\'')))
        {
            &value[1..value.len() - 1]
        } else {
            // An unquoted value ends at a comment.
            value.split(" #").next().unwrap_or(value).trim_end()
        };
        out.push((key.trim().to_string(), value.to_string()));
    }
    Ok(out)
}

impl SecretsAdapter for FileSecrets {
    fn fetch(
        _account: Option<String>,
        from: Option<String>,
        names: Vec<String>,
    ) -> Result<Vec<(String, String)>, String> {
        let path = from.ok_or("--from FILE is required (a .json or dotenv file in a granted directory)")?;
        let text = files::read_string(&path).map_err(|e| format!("{path}: {}", files::describe(&e)))?;
        let all = if path.ends_with(".json") { parse_json(&text) } else { parse_dotenv(&text) }
            .map_err(|e| format!("{path}: {e}"))?;
        wharf_plugin_sdk::debug!("{path}: {} secrets", all.len());
        if names.is_empty() {
            return Ok(all);
        }
        names
            .into_iter()
            .map(|name| match all.iter().find(|(k, _)| *k == name) {
                Some((_, v)) => Ok((name, v.clone())),
                None => Err(format!("secret {name} not found in {path}")),
            })
            .collect()
    }
}

wharf_plugin_sdk::export_secrets_adapter!(FileSecrets);
