//! A post-deploy hook: logs which version of which service was deployed, by whom, where.
//!
//! When the hook is given a `NOTIFY_WEBHOOK_URL` (put it in `.kamal/secrets` and grant it with
//! `allow: secrets: [NOTIFY_WEBHOOK_URL]`: webhook URLs embed
//! a token, and post-deploy hooks receive the secrets), it POSTs `{"text": "..."}` there (the
//! shape Slack, Mattermost and most chat webhooks take) over wasi:http. The user grants the
//! webhook's host in deploy.yml; the host masks the URL in every log line.

use wharf_plugin_sdk::{Context, Hook};

struct Notify;

impl Hook for Notify {
    fn run(ctx: &Context) -> Result<(), String> {
        let service = ctx.service().unwrap_or("the service");
        let version = ctx.version().ok_or("KAMAL_VERSION is not set")?;
        let mut line = format!("{service} {version} deployed");
        if let Some(who) = ctx.performer() {
            line.push_str(&format!(" by {who}"));
        }
        if let Some(dest) = ctx.destination() {
            line.push_str(&format!(" to {dest}"));
        }
        let hosts = ctx.hosts();
        if !hosts.is_empty() {
            line.push_str(&format!(" on {}", hosts.join(", ")));
        }
        if let Some(secs) = ctx.runtime() {
            line.push_str(&format!(" in {secs}s"));
        }
        wharf_plugin_sdk::info!("{line}");
        if let Some(url) = ctx.get("NOTIFY_WEBHOOK_URL") {
            let body = format!("{{\"text\":{}}}", json_string(&line));
            let res = wharf_plugin_sdk::http::post(url, "application/json", body.as_bytes())
                .map_err(|e| format!("posting to the webhook failed: {e}"))?;
            if !(200..300).contains(&res.status) {
                return Err(format!("the webhook answered {}: {}", res.status, res.text().trim()));
            }
            wharf_plugin_sdk::info!("posted to {url} ({})", res.status);
        }
        Ok(())
    }
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

wharf_plugin_sdk::export_hook!(Notify);
