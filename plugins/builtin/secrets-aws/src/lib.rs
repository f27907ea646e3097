//! Kamal's `aws_secrets_manager` adapter (`Kamal::Secrets::Adapters::AwsSecretsManager`) as a
//! plugin.
//!
//! No login (the AWS CLI's own configuration; `--account` is the `--profile`). One `aws
//! secretsmanager batch-get-secret-value --secret-id-list NAME... [--profile P] --output json`.
//! A secret whose `SecretString` is a JSON object gives `NAME/KEY` entries (non-string values
//! as JSON); any other JSON value gives `NAME` (strings as they are, others as JSON); a string
//! that is not JSON gives `NAME` as it is. Any `Errors` fail the fetch.

use secrets_common::ruby::shellescape;
use secrets_common::{backticks, ensure_installed, get, get_str, prefixed, Results};
use serde_json::Value;
use wharf_plugin_sdk::SecretsAdapter;

struct AwsSecretsManager;

impl SecretsAdapter for AwsSecretsManager {
    fn fetch(
        account: Option<String>,
        from: Option<String>,
        names: Vec<String>,
    ) -> Result<Vec<(String, String)>, String> {
        ensure_installed("aws --version 2> /dev/null", "AWS CLI")?;
        let secrets = prefixed(&names, from.as_deref());
        let mut results = Results::new();
        for secret in get_secret_values(&secrets, account.as_deref())? {
            let name = get_str(&secret, "Name").unwrap_or_default();
            let string = get_str(&secret, "SecretString").unwrap_or_default();
            match serde_json::from_str::<Value>(&string) {
                Ok(Value::Object(map)) => {
                    for (key, value) in map {
                        results.insert(format!("{name}/{key}"), stringify(&value));
                    }
                }
                Ok(other) => results.insert(name, stringify(&other)),
                Err(_) => results.insert(name, string),
            }
        }
        Ok(results.into_pairs())
    }
}

wharf_plugin_sdk::export_secrets_adapter!(AwsSecretsManager);

/// `stringify_secret_value`: a string as it is, anything else as JSON (`JSON.dump`).
fn stringify(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn get_secret_values(secrets: &[String], account: Option<&str>) -> Result<Vec<Value>, String> {
    let mut args = vec!["aws secretsmanager batch-get-secret-value --secret-id-list".to_string()];
    args.extend(secrets.iter().map(|s| shellescape(s)));
    if let Some(account) = account {
        args.push(format!("--profile {}", shellescape(account)));
    }
    args.push("--output json".into());
    let ran = backticks(&args.join(" "))?;
    if !ran.success {
        // Kamal's message interpolates the command's output here (its block variable shadows
        // the list of names).
        return Err(format!("Could not read {} from AWS Secrets Manager", ran.stdout));
    }
    let parsed = secrets_common::json(&ran.stdout)?;
    let errors = get(&parsed, "Errors").and_then(Value::as_array).filter(|e| !e.is_empty());
    match errors {
        None => Ok(get(&parsed, "SecretValues").and_then(Value::as_array).cloned().unwrap_or_default()),
        Some(errors) => Err(errors
            .iter()
            .map(|e| {
                format!("{}: {}", get_str(e, "SecretId").unwrap_or_default(), get_str(e, "Message").unwrap_or_default())
            })
            .collect::<Vec<_>>()
            .join(" ")),
    }
}
