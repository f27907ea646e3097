//! Sends `GET ALLOWED_URL` (which must work), then `GET` each of `DENIED_URLS` (space-separated),
//! which must all be refused. Fails, naming the escape, if a refused request got an answer.

use wharf_plugin_sdk::{http, Context, Hook};

struct HttpUngranted;

impl Hook for HttpUngranted {
    fn run(ctx: &Context) -> Result<(), String> {
        let allowed = ctx.get("ALLOWED_URL").ok_or("ALLOWED_URL is not set")?;
        let res = http::get(allowed).map_err(|e| format!("the granted host failed: {e}"))?;
        wharf_plugin_sdk::info!("allowed: {} {}", res.status, res.text());
        for url in ctx.get("DENIED_URLS").unwrap_or_default().split_whitespace() {
            match http::get(url) {
                Ok(res) => return Err(format!("reached {url}: {}", res.status)),
                Err(e) => wharf_plugin_sdk::info!("refused: {e}"),
            }
        }
        Ok(())
    }
}

wharf_plugin_sdk::export_hook!(HttpUngranted);
