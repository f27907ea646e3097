//! Which service answers a request: bindings of host (exact, `*.wildcard`, or any) and path
//! prefix (longest first), host conflicts between services, and the TLS settings a path-prefix
//! service inherits from its host's root-path service.

use crate::options::ROOT_PATH;
use crate::service::{Route, Service};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[derive(Clone)]
struct Binding {
    prefix: String,
    service: Arc<Service>,
}

#[derive(Default)]
pub struct ServiceMap {
    services: BTreeMap<String, Arc<Service>>,
    bindings: HashMap<String, Vec<Binding>>,
    /// Effective (tls_enabled, tls_redirect) per service name.
    tls: HashMap<String, (bool, bool)>,
    default_tls_hostname: String,
    has_wildcards: bool,
}

impl ServiceMap {
    pub fn get(&self, name: &str) -> Option<Arc<Service>> {
        self.services.get(name).cloned()
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<Service>> {
        self.services.values()
    }

    pub fn insert(&mut self, service: Arc<Service>) {
        self.services.insert(service.name.clone(), service);
        self.rebuild();
    }

    pub fn remove(&mut self, name: &str) -> Option<Arc<Service>> {
        let removed = self.services.remove(name);
        self.rebuild();
        removed
    }

    /// The other service already bound to one of these host and prefix pairs, if any.
    pub fn conflict(&self, name: &str, hosts: &[String], prefixes: &[String]) -> Option<String> {
        for host in hosts {
            for b in self.bindings.get(host).into_iter().flatten() {
                if prefixes.contains(&b.prefix) && b.service.name != name {
                    return Some(b.service.name.clone());
                }
            }
        }
        None
    }

    pub fn route(&self, host: &str, path: &str) -> Option<(Arc<Service>, Route)> {
        let bindings = self.bindings_for_host(host)?;
        let b = bindings.iter().find(|b| path_has_prefix(path, &b.prefix))?;
        let (tls_enabled, tls_redirect) = self.tls.get(&b.service.name).copied().unwrap_or((false, true));
        Some((b.service.clone(), Route { prefix: b.prefix.clone(), tls_enabled, tls_redirect }))
    }

    /// The service serving the root path of `host` (for TLS certificates).
    pub fn service_for_host(&self, host: &str) -> Option<Arc<Service>> {
        self.route(host, ROOT_PATH).map(|(s, _)| s)
    }

    pub fn default_tls_hostname(&self) -> &str {
        &self.default_tls_hostname
    }

    fn bindings_for_host(&self, host: &str) -> Option<&Vec<Binding>> {
        if let Some(b) = self.bindings.get(host) {
            return Some(b);
        }
        if let Some(dot) = host.find('.').filter(|&i| i > 0) {
            if self.has_wildcards {
                if let Some(b) = self.bindings.get(&format!("*{}", &host[dot..])) {
                    return Some(b);
                }
            }
        }
        self.bindings.get("")
    }

    fn rebuild(&mut self) {
        let mut bindings: HashMap<String, Vec<Binding>> = HashMap::new();
        let mut default_tls_hostname = String::new();
        for service in self.services.values() {
            let options = service.options();
            for host in &options.hosts {
                for prefix in &options.path_prefixes {
                    bindings
                        .entry(host.clone())
                        .or_default()
                        .push(Binding { prefix: prefix.clone(), service: service.clone() });
                }
            }
            if default_tls_hostname.is_empty() && options.tls_enabled && options.has_configured_hosts() {
                default_tls_hostname = options.hosts[0].clone();
            }
        }
        for list in bindings.values_mut() {
            list.sort_by_key(|b| std::cmp::Reverse(b.prefix.len()));
        }
        self.has_wildcards = bindings.keys().any(|h| h.starts_with("*."));
        self.bindings = bindings;
        self.default_tls_hostname = default_tls_hostname;
        let mut tls = HashMap::new();
        for service in self.services.values() {
            let options = service.options();
            let effective = if options.serves_root_path() {
                (options.tls_enabled, options.tls_redirect)
            } else {
                let host = options.hosts.first().cloned().unwrap_or_default();
                match self.service_for_host_root(&host) {
                    Some(root) => {
                        let o = root.options();
                        (o.tls_enabled, o.tls_redirect)
                    }
                    None => (false, true),
                }
            };
            tls.insert(service.name.clone(), effective);
        }
        self.tls = tls;
    }

    fn service_for_host_root(&self, host: &str) -> Option<Arc<Service>> {
        let bindings = self.bindings_for_host(host)?;
        bindings.iter().find(|b| b.prefix == ROOT_PATH).map(|b| b.service.clone())
    }
}

/// Whether `path` lies under `prefix` as a whole path segment (`/api` matches `/api` and
/// `/api/x`, not `/apix`), without allocating.
fn path_has_prefix(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}
