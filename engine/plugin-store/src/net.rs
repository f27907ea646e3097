//! Network settings and the HTTP client (reqwest over rustls, with the webpki roots).
//!
//! Environment:
//! - `WHARF_CA_FILE`: a PEM file of extra CA certificates to trust (for a private registry or
//!   download server; the tests use it for their self-signed servers). `SSL_CERT_FILE` is
//!   honoured the same way when set.
//! - `WHARF_INSECURE_REGISTRIES`: comma-separated `host[:port]` registries spoken to over
//!   plain HTTP. Loopback registries (`localhost`, `127.0.0.0/8`, `[::1]`) always are.
//! - `DOCKER_CONFIG`: the directory of `config.json` (default `~/.docker`), for registry
//!   credentials (see [`crate::oci`]).

use std::path::PathBuf;
use std::time::Duration;

/// How the store reaches the network.
#[derive(Clone, Debug, Default)]
pub struct NetOptions {
    /// Extra trusted CA certificates, PEM (each entry may hold several).
    pub extra_ca_pem: Vec<Vec<u8>>,
    /// Registries (`host` or `host:port`) spoken to over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// The Docker `config.json` to read credentials from (`None`: no credentials).
    pub docker_config: Option<PathBuf>,
    /// A CA file named in the environment that could not be read (reported by [`Self::client`]).
    pub ca_error: Option<String>,
}

impl NetOptions {
    /// Settings from the environment (see the module docs). Unreadable CA files are reported
    /// when the client is built.
    pub fn from_env() -> NetOptions {
        let mut extra_ca_pem = vec![];
        let mut errors = vec![];
        for var in ["WHARF_CA_FILE", "SSL_CERT_FILE"] {
            if let Some(path) = std::env::var_os(var).filter(|v| !v.is_empty()) {
                match std::fs::read(&path) {
                    Ok(pem) => extra_ca_pem.push(pem),
                    Err(e) => errors.push(format!("{var}={}: {e}", PathBuf::from(&path).display())),
                }
            }
        }
        let insecure_registries = std::env::var("WHARF_INSECURE_REGISTRIES")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let docker_config = std::env::var_os("DOCKER_CONFIG")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))
            .map(|d| d.join("config.json"));
        let ca_error = (!errors.is_empty()).then(|| errors.join("; "));
        NetOptions { extra_ca_pem, insecure_registries, docker_config, ca_error }
    }

    /// Whether `registry` (`host[:port]`) is spoken to over plain HTTP.
    pub fn is_insecure(&self, registry: &str, host: &str) -> bool {
        crate::oci::is_loopback(host) || self.insecure_registries.iter().any(|r| r == registry || r == host)
    }

    /// An HTTP client trusting the webpki roots plus the extra CAs.
    pub fn client(&self) -> Result<reqwest::Client, String> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(Duration::from_secs(30))
            .timeout(Duration::from_secs(600))
            .user_agent(concat!("wharf/", env!("CARGO_PKG_VERSION")));
        if let Some(e) = &self.ca_error {
            return Err(format!("extra CA file {e}"));
        }
        for pem in &self.extra_ca_pem {
            let certs =
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("extra CA certificates: {e}"))?;
            if certs.is_empty() {
                return Err("extra CA file holds no PEM certificate".into());
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        builder.build().map_err(|e| format!("HTTP client: {e}"))
    }
}

/// An error with its causes (reqwest hides the interesting part in `source()`).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// The largest plugin file downloaded (Python and JavaScript components are tens of MiB).
pub const MAX_PLUGIN_SIZE: usize = 256 << 20;

/// A response body, refused past [`MAX_PLUGIN_SIZE`].
pub(crate) async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, String> {
    if resp.content_length().is_some_and(|n| n > MAX_PLUGIN_SIZE as u64) {
        return Err(format!("larger than {} MiB; not a plugin file", MAX_PLUGIN_SIZE >> 20));
    }
    let mut bytes = vec![];
    while let Some(chunk) = resp.chunk().await.map_err(|e| chain(&e))? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_PLUGIN_SIZE {
            return Err(format!("larger than {} MiB; not a plugin file", MAX_PLUGIN_SIZE >> 20));
        }
    }
    Ok(bytes)
}
