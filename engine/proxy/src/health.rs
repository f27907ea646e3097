//! Health checks: `GET <path>` on a target every interval; any 2xx within the timeout is healthy.

use crate::body::{self, Body};
use crate::options::HealthCheckConfig;
use http::{header, Request};
use http_body_util::BodyExt;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::sync::OnceLock;

const USER_AGENT: &str = "kamal-proxy";

fn client() -> &'static Client<HttpConnector, Body> {
    static CLIENT: OnceLock<Client<HttpConnector, Body>> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Client::builder(TokioExecutor::new()).pool_max_idle_per_host(2).build(connector)
    })
}

/// The URL a target's health is checked at (`--health-check-port` replaces the target's port).
pub fn check_url(address: &str, config: &HealthCheckConfig) -> String {
    let host_port = if config.port > 0 {
        let host = address.rsplit_once(':').map(|(h, _)| h).unwrap_or(address);
        format!("{host}:{}", config.port)
    } else {
        address.to_string()
    };
    let path = if config.path.starts_with('/') { config.path.clone() } else { format!("/{}", config.path) };
    format!("http://{host_port}{path}")
}

/// One check. `Err` carries the reason, for the log.
pub async fn check(url: &str, config: &HealthCheckConfig) -> Result<(), String> {
    let mut req = Request::get(url).header(header::USER_AGENT, USER_AGENT);
    if !config.host.is_empty() {
        req = req.header(header::HOST, config.host.as_str());
    }
    let req = req.body(body::empty()).map_err(|e| e.to_string())?;
    let attempt = async {
        let resp = client().request(req).await.map_err(|e| {
            let mut text = e.to_string();
            if let Some(s) = std::error::Error::source(&e) {
                text = format!("{text}: {s}");
            }
            text
        })?;
        let status = resp.status();
        let _ = resp.into_body().collect().await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("unexpected status ({})", status.as_u16()))
        }
    };
    match tokio::time::timeout(config.timeout, attempt).await {
        Ok(r) => r,
        Err(_) => Err("request timed out".into()),
    }
}
