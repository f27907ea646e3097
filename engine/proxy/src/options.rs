//! The options a `deploy` carries: per service (routing, TLS, pages), per target (health checks,
//! timeouts, buffering, logging) and per deployment (timeouts, force). The field names and JSON
//! encoding follow upstream's state file, so a state written by basecamp/kamal-proxy restores here.

use crate::duration::nanos;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const DEFAULT_DEPLOY_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_PAUSE_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_WRITER_AFFINITY_TIMEOUT: Duration = Duration::from_secs(1);
pub const DEFAULT_HEALTH_CHECK_PATH: &str = "/up";
pub const DEFAULT_HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(1);
pub const DEFAULT_HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_TARGET_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_MEMORY_BUFFER_SIZE: i64 = 1 << 20;
pub const ROOT_PATH: &str = "/";

/// Why a deploy's options were refused; the text is upstream's.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("service options invalid: {0}")]
pub struct InvalidOptions(pub String);

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ServiceOptions {
    pub hosts: Vec<String>,
    pub path_prefixes: Vec<String>,
    pub tls_enabled: bool,
    pub tls_certificate_path: String,
    pub tls_private_key_path: String,
    pub tls_on_demand_url: String,
    pub tls_redirect: bool,
    pub canonical_host: String,
    pub acme_directory: String,
    pub acme_cache_path: String,
    pub error_page_path: String,
    pub strip_prefix: bool,
    #[serde(with = "nanos")]
    pub writer_affinity_timeout: Duration,
    pub read_targets_accept_websockets: bool,
    pub exclude_metrics_paths: Vec<String>,
    pub client_ip_header: String,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        Self {
            hosts: vec![],
            path_prefixes: vec![],
            tls_enabled: false,
            tls_certificate_path: String::new(),
            tls_private_key_path: String::new(),
            tls_on_demand_url: String::new(),
            tls_redirect: true,
            canonical_host: String::new(),
            acme_directory: String::new(),
            acme_cache_path: String::new(),
            error_page_path: String::new(),
            strip_prefix: true,
            writer_affinity_timeout: DEFAULT_WRITER_AFFINITY_TIMEOUT,
            read_targets_accept_websockets: false,
            exclude_metrics_paths: vec![],
            client_ip_header: String::new(),
        }
    }
}

impl ServiceOptions {
    /// Empty hosts mean "any host" (`""`); empty prefixes mean `/`; prefixes get one leading slash.
    pub fn normalize(&mut self) {
        if self.hosts.is_empty() {
            self.hosts = vec![String::new()];
        }
        self.hosts = self.hosts.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
        if self.path_prefixes.is_empty() {
            self.path_prefixes = vec![ROOT_PATH.to_string()];
        } else {
            self.path_prefixes = self.path_prefixes.iter().map(|p| format!("/{}", p.trim_matches('/'))).collect();
        }
    }

    pub fn has_configured_hosts(&self) -> bool {
        !self.hosts.is_empty() && !self.hosts.iter().any(|h| h.is_empty())
    }

    pub fn serves_root_path(&self) -> bool {
        self.path_prefixes.iter().any(|p| p == ROOT_PATH)
    }

    /// Upstream's checks, with its messages.
    pub fn validate(&self) -> Result<(), InvalidOptions> {
        let mut so = self.clone();
        so.normalize();
        let err = |m: &str| Err(InvalidOptions(m.to_string()));
        if !so.tls_on_demand_url.is_empty() && !so.tls_enabled {
            return err("TLS must be enabled to use a TLS on-demand URL");
        }
        if so.tls_enabled {
            if !so.tls_on_demand_url.is_empty() {
                if so.has_configured_hosts() {
                    return err("cannot set hosts when using a TLS on-demand URL");
                }
                if !so.tls_certificate_path.is_empty() || !so.tls_private_key_path.is_empty() {
                    return err("cannot use a custom TLS certificate with a TLS on-demand URL");
                }
                if !so.canonical_host.is_empty() {
                    return err("cannot set a canonical host when using a TLS on-demand URL");
                }
                let scheme = so.tls_on_demand_url.split("://").next().unwrap_or("");
                if !so.tls_on_demand_url.starts_with('/') && scheme != "http" && scheme != "https" {
                    return err(&format!("unsupported scheme \"{scheme}\" in TLS on-demand URL"));
                }
            } else if !so.has_configured_hosts() {
                return err("host must be set when using TLS");
            }
            if !so.serves_root_path() {
                return err("TLS settings must be specified on the root path service");
            }
        }
        if !so.canonical_host.is_empty() && so.has_configured_hosts() && !so.hosts.contains(&so.canonical_host) {
            return err(&format!(
                "canonical-host '{}' must be present in the hosts list: [{}]",
                so.canonical_host,
                so.hosts.join(" ")
            ));
        }
        for host in &so.hosts {
            if !host.is_empty() && !valid_host_pattern(host) {
                return err(&format!("invalid host '{host}'"));
            }
        }
        Ok(())
    }
}

fn valid_host_pattern(host: &str) -> bool {
    let name = host.strip_prefix("*.").unwrap_or(host);
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct HealthCheckConfig {
    pub path: String,
    pub port: u16,
    #[serde(with = "nanos")]
    pub interval: Duration,
    #[serde(with = "nanos")]
    pub timeout: Duration,
    pub host: String,
}

impl Default for HealthCheckConfig {
    fn default() -> Self {
        Self {
            path: DEFAULT_HEALTH_CHECK_PATH.into(),
            port: 0,
            interval: DEFAULT_HEALTH_CHECK_INTERVAL,
            timeout: DEFAULT_HEALTH_CHECK_TIMEOUT,
            host: String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct TargetOptions {
    pub health_check_config: HealthCheckConfig,
    #[serde(with = "nanos")]
    pub response_timeout: Duration,
    pub buffer_requests: bool,
    pub buffer_responses: bool,
    pub max_memory_buffer_size: i64,
    pub max_request_body_size: i64,
    pub max_response_body_size: i64,
    pub log_request_headers: Vec<String>,
    pub log_response_headers: Vec<String>,
    pub forward_headers: bool,
    pub scope_cookie_paths: bool,
}

impl Default for TargetOptions {
    fn default() -> Self {
        Self {
            health_check_config: HealthCheckConfig::default(),
            response_timeout: DEFAULT_TARGET_TIMEOUT,
            buffer_requests: false,
            buffer_responses: false,
            max_memory_buffer_size: DEFAULT_MAX_MEMORY_BUFFER_SIZE,
            max_request_body_size: 0,
            max_response_body_size: 0,
            log_request_headers: vec![],
            log_response_headers: vec![],
            forward_headers: false,
            scope_cookie_paths: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct DeploymentOptions {
    #[serde(with = "nanos")]
    pub deploy_timeout: Duration,
    #[serde(with = "nanos")]
    pub drain_timeout: Duration,
    pub force: bool,
}

impl Default for DeploymentOptions {
    fn default() -> Self {
        Self { deploy_timeout: DEFAULT_DEPLOY_TIMEOUT, drain_timeout: DEFAULT_DRAIN_TIMEOUT, force: false }
    }
}

/// A target address as upstream accepts it: `host[:port]`, letters, digits, `-_.+`.
pub fn validate_target(target: &str) -> Result<(), String> {
    let (host, port) = match target.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (target, None),
    };
    let host_ok = host.len() >= 2
        && host.chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_')
        && host.chars().all(|c| c.is_alphanumeric() || "-_.+".contains(c));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(format!("{target} :invalid host pattern"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(hosts: &[&str]) -> ServiceOptions {
        ServiceOptions { hosts: hosts.iter().map(|s| s.to_string()).collect(), tls_enabled: true, ..Default::default() }
    }

    #[test]
    fn tls_requires_a_host() {
        assert_eq!(
            tls(&[]).validate().unwrap_err().to_string(),
            "service options invalid: host must be set when using TLS"
        );
        assert!(tls(&["*.example.com", ""]).validate().is_err());
        assert!(tls(&["example.com"]).validate().is_ok());
    }

    #[test]
    fn canonical_host_must_be_listed() {
        let o = ServiceOptions {
            hosts: vec!["example.com".into(), "www.example.com".into()],
            canonical_host: "api.example.com".into(),
            ..Default::default()
        };
        assert_eq!(
            o.validate().unwrap_err().0,
            "canonical-host 'api.example.com' must be present in the hosts list: [example.com www.example.com]"
        );
    }

    #[test]
    fn normalizes_hosts_and_prefixes() {
        let mut o = ServiceOptions { path_prefixes: vec!["api/".into(), "/x".into()], ..Default::default() };
        o.normalize();
        assert_eq!(o.hosts, vec![""]);
        assert_eq!(o.path_prefixes, vec!["/api", "/x"]);
    }

    #[test]
    fn target_patterns() {
        assert!(validate_target("localhost:3000").is_ok());
        assert!(validate_target("a1b2c3d4e5f6:80").is_ok());
        assert!(validate_target("10.0.0.1").is_ok());
        assert_eq!(validate_target("http://x:80").unwrap_err(), "http://x:80 :invalid host pattern");
        assert!(validate_target("x:").is_err());
    }
}
