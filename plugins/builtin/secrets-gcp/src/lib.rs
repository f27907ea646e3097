//! Kamal's `gcp_secret_manager` adapter (`Kamal::Secrets::Adapters::GcpSecretManager`) as a
//! plugin.
//!
//! Login: `gcloud auth list --format=json` must list an account, else `gcloud auth login`
//! (then checked again). `--account` is `USER[|SERVICE_ACCOUNT[,DELEGATE...]]` (`default`
//! for gcloud's own). Names are `[PROJECT/]NAME[/VERSION]` (`default` project, `latest`
//! version); one `gcloud secrets versions access VERSION --secret=NAME [--project=P]
//! [--account=U] [--impersonate-service-account=SA] --format=json` per name. Keys are
//! `PROJECT/NAME`, values the base64-decoded payload.

use secrets_common::ruby::shellescape;
use secrets_common::{
    backticks, ensure_installed, get, get_str, json, prefixed, prompting, raise, required_account, Ran, Results,
};
use serde_json::Value;
use wharf_plugin_sdk::SecretsAdapter;

struct GcpSecretManager;

impl SecretsAdapter for GcpSecretManager {
    fn fetch(
        account: Option<String>,
        from: Option<String>,
        names: Vec<String>,
    ) -> Result<Vec<(String, String)>, String> {
        let account = required_account(account)?;
        ensure_installed("gcloud --version 2> /dev/null", "gcloud CLI")?;
        if !logged_in()? {
            prompting("gcloud auth login")?;
            if !logged_in()? {
                return Err("could not login to gcloud".into());
            }
        }

        let (user, service_account) = match account.split_once('|') {
            Some((u, sa)) => (u.to_string(), Some(sa.to_string())),
            None => (account.clone(), None),
        };
        let mut results = Results::new();
        for (project, name, version) in secrets_with_metadata(&prefixed(&names, from.as_deref())) {
            let item_name = format!("{project}/{name}");
            let command = format!("secrets versions access {} --secret={}", shellescape(&version), shellescape(&name));
            let (ran, parsed) = run(&command, &project, &user, service_account.as_deref())?;
            let data = get(&parsed, "payload").and_then(|p| get_str(p, "data"));
            let Some(data) = data else {
                return Err(raise("NoMethodError", "undefined method `unpack1' for nil"));
            };
            results.insert(item_name.clone(), String::from_utf8_lossy(&decode64(&data)).into_owned());
            if !ran.success {
                return Err(format!("Could not read {item_name} from Google Secret Manager"));
            }
        }
        Ok(results.into_pairs())
    }
}

wharf_plugin_sdk::export_secrets_adapter!(GcpSecretManager);

fn logged_in() -> Result<bool, String> {
    let parsed = json(&backticks("gcloud auth list --format=json")?.stdout)?;
    Ok(match parsed {
        Value::Array(a) => a.iter().any(|v| !v.is_null() && v.as_bool() != Some(false)),
        Value::Object(o) => !o.is_empty(),
        _ => false,
    })
}

/// `run_command`: gcloud with the project, account and impersonation flags, its stdout parsed.
fn run(command: &str, project: &str, user: &str, service_account: Option<&str>) -> Result<(Ran, Value), String> {
    let mut line = vec![format!("gcloud {command}")];
    if project != "default" {
        line.push(format!("--project={}", shellescape(project)));
    }
    if user != "default" {
        line.push(format!("--account={}", shellescape(user)));
    }
    if let Some(sa) = service_account {
        line.push(format!("--impersonate-service-account={}", shellescape(sa)));
    }
    line.push("--format=json".into());
    let ran = backticks(&line.join(" "))?;
    let parsed = json(ran.stdout.trim())?;
    Ok((ran, parsed))
}

/// `secrets_with_metadata`: `(project, name, version)` per distinct secret, in order.
fn secrets_with_metadata(secrets: &[String]) -> Vec<(String, String, String)> {
    let mut seen: Vec<&str> = vec![];
    let mut items = vec![];
    for secret in secrets {
        let mut parts = secrets_common::split(secret, "/");
        if parts.len() == 1 {
            parts.insert(0, "default".into());
        }
        let mut parts = parts.into_iter();
        let project = parts.next().unwrap_or_default();
        let name = parts.next().unwrap_or_default();
        let version = parts.next().unwrap_or_else(|| "latest".into());
        match seen.iter().position(|s| s == secret) {
            Some(i) => items[i] = (project, name, version),
            None => {
                seen.push(secret);
                items.push((project, name, version));
            }
        }
    }
    items
}

/// Ruby's `Base64.decode64`: characters outside the alphabet are skipped, decoding stops at
/// `=`, and a trailing partial group gives what it holds.
fn decode64(s: &str) -> Vec<u8> {
    let mut bits = vec![];
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => continue,
        };
        bits.push(v);
    }
    let mut out = vec![];
    for chunk in bits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &v)| acc | (u32::from(v) << (18 - 6 * i)));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let keep = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => 0,
        };
        out.extend_from_slice(&bytes[..keep]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_like_ruby() {
        assert_eq!(decode64("c2VjcmV0MTIz"), b"secret123");
        assert_eq!(decode64("c2VjcmV0MQ=="), b"secret1");
        assert_eq!(decode64("c2VjcmV0MQ"), b"secret1");
        assert_eq!(decode64("c2Vj\ncmV0\nMQ=="), b"secret1");
    }
}
