//! A post-deploy hook: logs which version of which service was deployed, by whom, where.
//!
//! When the hook is given a `NOTIFY_WEBHOOK_URL` (a secret: webhook URLs embed a token), it
//! also says where it would POST the message; the host masks the URL in the log. Posting
//! itself waits for wasi:http in the plugin API.

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
            wharf_plugin_sdk::info!("would POST to {url}");
        }
        Ok(())
    }
}

wharf_plugin_sdk::export_hook!(Notify);
