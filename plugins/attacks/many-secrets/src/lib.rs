//! A secrets adapter that returns `from` values (`S0=value-0-...`, ...), each `value_len`
//! bytes long (`account`, default 16), and logs a line holding the first and the last: the
//! host must refuse more than it accepts, and mask what it accepts in linear time.

use wharf_plugin_sdk::SecretsAdapter;

struct ManySecrets;

fn value(i: usize, len: usize) -> String {
    let mut v = format!("value-{i}-");
    while v.len() < len {
        v.push(char::from(b'a' + (v.len() * 7 + i) as u8 % 26));
    }
    v
}

impl SecretsAdapter for ManySecrets {
    fn fetch(account: Option<String>, from: Option<String>, _names: Vec<String>) -> Result<Vec<(String, String)>, String> {
        let count: usize = from.as_deref().unwrap_or("1").parse().map_err(|_| "from: a count")?;
        let len: usize = account.as_deref().unwrap_or("16").parse().map_err(|_| "account: a length")?;
        let pairs: Vec<(String, String)> = (0..count).map(|i| (format!("S{i}"), value(i, len))).collect();
        if let (Some(first), Some(last)) = (pairs.first(), pairs.last()) {
            wharf_plugin_sdk::info!("first {} last {}", first.1, last.1);
        }
        Ok(pairs)
    }
}

wharf_plugin_sdk::export_secrets_adapter!(ManySecrets);
