//! A secrets adapter that asks for an ungranted host over and over (`from` is the host), each
//! refusal making the host write a line about it. The host's lines count against the
//! plugin's output limit, which must stop it, with the host's memory bounded.

use wharf_plugin_sdk::{http, SecretsAdapter};

struct DeniedFlood;

impl SecretsAdapter for DeniedFlood {
    fn fetch(
        _account: Option<String>,
        from: Option<String>,
        _names: Vec<String>,
    ) -> Result<Vec<(String, String)>, String> {
        let host = from.unwrap_or_else(|| "denied.example".into());
        for i in 0u64.. {
            if http::get(&format!("http://{host}/{i}")).is_ok() {
                return Err(format!("reached {host}"));
            }
        }
        Ok(vec![])
    }
}

wharf_plugin_sdk::export_secrets_adapter!(DeniedFlood);
