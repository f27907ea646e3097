//! A deployed service: its options, its active and rollout target sets, its run state, and the
//! handling of one request routed to it (TLS and canonical-host redirects, ACME HTTP-01 answers,
//! pause and maintenance, rollout choice, target claim, forwarding, error pages).

use crate::body::{self, Body};
use crate::cohort_stats::{Cohort, CohortStats};
use crate::cookies;
use crate::load_balancer::{self, LoadBalancer};
use crate::options::{ServiceOptions, TargetOptions, ROOT_PATH};
use crate::pages::{self, ErrorPages};
use crate::pause::{PauseController, WaitAction};
use crate::request_host::RequestHost;
use crate::rollout::{RolloutController, ROLLOUT_COOKIE_NAME};
use crate::target::{ForwardContext, TARGET_HEADER};
use crate::tls::CertSource;
use http::{header, HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

/// Everything about a service that a deploy replaces at once.
pub struct ServiceConfig {
    pub options: ServiceOptions,
    pub target_options: Arc<TargetOptions>,
    pub pages: Option<ErrorPages>,
    pub certs: Option<CertSource>,
}

pub struct Slots {
    pub active: Arc<LoadBalancer>,
    pub rollout: Option<Arc<LoadBalancer>>,
    pub rollout_controller: Option<RolloutController>,
}

pub struct Service {
    pub name: String,
    config: RwLock<Arc<ServiceConfig>>,
    slots: RwLock<Slots>,
    pub pause: PauseController,
    /// What its targets answered, rollout cohort apart (`kamal-proxy stats`).
    pub stats: CohortStats,
}

/// How the router matched a request to this service.
pub struct Route {
    pub prefix: String,
    /// TLS settings in force for the request's host (a path-prefix service inherits them from
    /// the host's root-path service, as upstream does).
    pub tls_enabled: bool,
    pub tls_redirect: bool,
}

/// Facts about the client connection.
pub struct Connection {
    pub client_addr: SocketAddr,
    pub tls: bool,
    /// `--http-body-timeout` (None: off).
    pub body_timeout: Option<std::time::Duration>,
}

/// Where a request goes once its target is claimed.
struct Forwarding<'a> {
    host: RequestHost,
    routed_path: String,
    route: &'a Route,
    conn: &'a Connection,
}

/// What the request log needs to know that only the service learns.
#[derive(Default)]
pub struct RequestNotes {
    pub service: String,
    pub target: String,
    /// `(log field, value)` for each `--log-request-header`.
    pub logged_request_headers: Vec<(String, String)>,
    pub log_response_headers: Vec<String>,
    pub exclude_metrics: bool,
}

impl Service {
    pub fn new(name: &str, config: ServiceConfig, active: Arc<LoadBalancer>, pause: PauseController) -> Self {
        Self {
            name: name.to_string(),
            config: RwLock::new(Arc::new(config)),
            slots: RwLock::new(Slots { active, rollout: None, rollout_controller: None }),
            pause,
            stats: CohortStats::default(),
        }
    }

    pub fn config(&self) -> Arc<ServiceConfig> {
        self.config.read().unwrap().clone()
    }

    pub fn set_config(&self, config: ServiceConfig) {
        *self.config.write().unwrap() = Arc::new(config);
    }

    pub fn with_slots<R>(&self, f: impl FnOnce(&Slots) -> R) -> R {
        f(&self.slots.read().unwrap())
    }

    pub fn with_slots_mut<R>(&self, f: impl FnOnce(&mut Slots) -> R) -> R {
        f(&mut self.slots.write().unwrap())
    }

    pub fn options(&self) -> ServiceOptions {
        self.config().options.clone()
    }

    /// Stops health checks on every target set (on remove).
    pub fn dispose(&self) {
        self.with_slots(|s| {
            s.active.dispose();
            if let Some(r) = &s.rollout {
                r.dispose();
            }
        });
    }

    /// Waits for the in-flight requests of both target sets (pause and stop).
    pub async fn drain(&self, timeout: std::time::Duration) {
        let (active, rollout) = self.with_slots(|s| (s.active.clone(), s.rollout.clone()));
        let rollout_drain = async {
            if let Some(r) = rollout {
                r.drain_all(timeout).await;
            }
        };
        tokio::join!(active.drain_all(timeout), rollout_drain);
    }

    pub async fn handle(
        &self,
        req: Request<Incoming>,
        host: RequestHost,
        route: &Route,
        conn: &Connection,
        notes: &mut RequestNotes,
    ) -> Response<Body> {
        let config = self.config();
        notes.service = self.name.clone();
        let routed_path = routed_path(req.uri().path(), &route.prefix, config.options.strip_prefix);
        notes.exclude_metrics = config.options.exclude_metrics_paths.contains(&routed_path);

        if let Some(CertSource::Acme(acme)) = &config.certs {
            if let Some(token) = req.uri().path().strip_prefix("/.well-known/acme-challenge/") {
                return match acme.http01_key_authorization(token) {
                    Some(key_auth) => simple(StatusCode::OK, "text/plain", key_auth),
                    None => error_page(&config, StatusCode::NOT_FOUND, ""),
                };
            }
        }
        if !route.tls_enabled && conn.tls {
            return error_page(&config, StatusCode::SERVICE_UNAVAILABLE, "");
        }
        if let Some(location) = redirect_location(&req, &host.name, route, conn.tls, &config.options) {
            let mut resp = Response::new(body::full(format!(
                "<a href=\"{}\">Moved Permanently</a>.\n\n",
                pages::escape_html(&location)
            )));
            *resp.status_mut() = StatusCode::MOVED_PERMANENTLY;
            if let Ok(v) = HeaderValue::from_str(&location) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            return resp;
        }

        let is_health_check = (req.method() == http::Method::GET || req.method() == http::Method::HEAD)
            && routed_path == config.target_options.health_check_config.path;
        if is_health_check && self.pause.state() != crate::pause::PauseState::Running {
            return simple(StatusCode::OK, "text/plain", String::new());
        }
        match self.pause.wait().await {
            WaitAction::Proceed => {}
            WaitAction::Stopped(message) => return error_page(&config, StatusCode::SERVICE_UNAVAILABLE, &message),
            WaitAction::TimedOut => {
                crate::log_warn!("Rejecting request due to expired pause", "service" => self.name, "path" => req.uri().path());
                return error_page(&config, StatusCode::GATEWAY_TIMEOUT, "");
            }
        }

        // Choose the target set and claim a target under the slots' read lock, so a deploy's
        // swap puts each request wholly on the old set or wholly on the new one.
        let started = std::time::Instant::now();
        let (claim, cohort) = {
            let slots = self.slots.read().unwrap();
            let (lb, cohort) = match (&slots.rollout, &slots.rollout_controller) {
                (Some(rollout), Some(ctl))
                    if ctl.uses_rollout_group(cookies::find(req.headers(), ROLLOUT_COOKIE_NAME).as_deref()) =>
                {
                    (rollout.clone(), Cohort::Rollout)
                }
                _ => (slots.active.clone(), Cohort::Main),
            };
            (lb.claim(req.method(), req.headers()).map(|c| (c, lb.writer_affinity_timeout)), cohort)
        };
        let response = self.forward(req, &config, Forwarding { host, routed_path, route, conn }, notes, claim).await;
        if !is_health_check {
            let (status, elapsed) = (response.status().as_u16(), started.elapsed());
            self.stats.record(cohort, status, elapsed);
            crate::metrics::track_cohort(&self.name, cohort.as_str(), status, elapsed);
        }
        response
    }

    /// Sends the request to the claimed target (none claimed: 503) and returns its answer, or
    /// the error page for what went wrong.
    async fn forward(
        &self,
        req: Request<Incoming>,
        config: &ServiceConfig,
        how: Forwarding<'_>,
        notes: &mut RequestNotes,
        claim: Option<(load_balancer::Claim, std::time::Duration)>,
    ) -> Response<Body> {
        let Forwarding { host, routed_path, route, conn } = how;
        let Some((claim, affinity_timeout)) = claim else {
            return error_page(config, StatusCode::SERVICE_UNAVAILABLE, "");
        };
        notes.target = claim.target.address().to_string();
        notes.logged_request_headers = config
            .target_options
            .log_request_headers
            .iter()
            .map(|name| {
                let values: Vec<&str> =
                    req.headers().get_all(name.as_str()).iter().filter_map(|v| v.to_str().ok()).collect();
                (format!("req_{}", name.to_ascii_lowercase().replace('-', "_")), values.join(","))
            })
            .collect();
        notes.log_response_headers = config.target_options.log_response_headers.clone();

        let mut req = req;
        let path = req.uri().path().to_string();
        crate::forwarded::drop_underscore_variants(req.headers_mut(), &config.options.client_ip_header);
        let target_header = match (config.target_options.forward_headers, req.headers().get(TARGET_HEADER)) {
            (true, Some(prior)) => format!("{}, {}", prior.to_str().unwrap_or(""), claim.target.address()),
            _ => claim.target.address().to_string(),
        };
        if let Ok(v) = HeaderValue::from_str(&target_header) {
            req.headers_mut().insert(TARGET_HEADER, v);
        }
        let client_ip_override = (!config.options.client_ip_header.is_empty())
            .then(|| req.headers().get(config.options.client_ip_header.as_str()))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or("").trim().to_string())
            .filter(|v| !v.is_empty());
        let ctx = ForwardContext {
            path: routed_path,
            client_addr: conn.client_addr,
            tls: conn.tls,
            host: host.raw,
            client_ip_override,
            body_timeout: conn.body_timeout,
        };
        let scope_prefix =
            (config.target_options.scope_cookie_paths && route.prefix != ROOT_PATH).then(|| route.prefix.clone());

        match claim.target.clone().forward(req, ctx, claim.guard).await {
            Ok(mut resp) => {
                if claim.set_writer_cookie {
                    let opted_out =
                        resp.headers().get(load_balancer::AFFINITY_OPT_OUT_HEADER).is_some_and(|v| v == "false");
                    if !opted_out {
                        if let Ok(v) = HeaderValue::from_str(&load_balancer::writer_cookie(affinity_timeout)) {
                            resp.headers_mut().append(header::SET_COOKIE, v);
                        }
                    }
                    resp.headers_mut().remove(load_balancer::AFFINITY_OPT_OUT_HEADER);
                }
                if let Some(prefix) = scope_prefix {
                    scope_cookie_paths(resp.headers_mut(), &prefix);
                }
                resp
            }
            Err(e) => {
                if e.status() == StatusCode::BAD_GATEWAY {
                    crate::log_error!("Error while proxying", "target" => notes.target, "path" => path, "error" => e.to_string());
                } else if matches!(e, crate::target::ProxyError::Draining) {
                    crate::log_info!("Request cancelled due to draining", "target" => notes.target);
                }
                let mut resp = error_page(config, e.status(), "");
                if e.closes_connection() {
                    crate::log_info!("Client request body failed", "target" => notes.target, "path" => path, "error" => e.to_string());
                    resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                resp
            }
        }
    }
}

/// Scopes `Set-Cookie` paths to the service's prefix (`--scope-cookie-paths`).
fn scope_cookie_paths(headers: &mut http::HeaderMap, prefix: &str) {
    let cookies: Vec<HeaderValue> = headers.get_all(header::SET_COOKIE).iter().cloned().collect();
    if cookies.is_empty() {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for c in cookies {
        let text = c.to_str().unwrap_or("").to_string();
        let mut parts: Vec<String> = text.split(';').map(|p| p.trim().to_string()).collect();
        let mut found = false;
        for p in parts.iter_mut().skip(1) {
            if p.to_ascii_lowercase().starts_with("path=") {
                let path = &p[5..];
                *p = format!("Path={}", join_path(prefix, path));
                found = true;
            }
        }
        if !found {
            parts.push(format!("Path={prefix}"));
        }
        if let Ok(v) = HeaderValue::from_str(&parts.join("; ")) {
            headers.append(header::SET_COOKIE, v);
        }
    }
}

fn join_path(prefix: &str, path: &str) -> String {
    if path == "/" || path.is_empty() {
        prefix.to_string()
    } else {
        format!("{}/{}", prefix.trim_end_matches('/'), path.trim_start_matches('/'))
    }
}

/// The path sent to the target: the request path minus the matched prefix when stripping.
pub fn routed_path(path: &str, prefix: &str, strip: bool) -> String {
    if !strip || prefix == ROOT_PATH || prefix.is_empty() {
        return path.to_string();
    }
    match path.strip_prefix(prefix) {
        Some("") => "/".to_string(),
        Some(rest) if rest.starts_with('/') => rest.to_string(),
        _ => path.to_string(),
    }
}

fn redirect_location(
    req: &Request<Incoming>,
    bare_host: &str,
    route: &Route,
    tls: bool,
    options: &ServiceOptions,
) -> Option<String> {
    let current_scheme = if tls { "https" } else { "http" };
    let desired_scheme = if route.tls_enabled && route.tls_redirect && !tls { "https" } else { current_scheme };
    let desired_host = if !options.canonical_host.is_empty() && !bare_host.eq_ignore_ascii_case(&options.canonical_host)
    {
        options.canonical_host.as_str()
    } else {
        bare_host
    };
    if desired_scheme == current_scheme && desired_host == bare_host {
        return None;
    }
    let path_and_query = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    Some(format!("{desired_scheme}://{desired_host}{path_and_query}"))
}

fn simple(status: StatusCode, content_type: &'static str, text: String) -> Response<Body> {
    let mut resp = Response::new(body::full(text));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// The proxy's own error answer: the service's page for the status if it has one, else ours.
pub fn error_page(config: &ServiceConfig, status: StatusCode, message: &str) -> Response<Body> {
    let html = config
        .pages
        .as_ref()
        .and_then(|p| p.render(status.as_u16(), message))
        .unwrap_or_else(|| pages::default_page(status.as_u16(), message));
    let mut resp = simple(status, "text/html; charset=utf-8", html);
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::GATEWAY_TIMEOUT {
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_prefixes() {
        assert_eq!(routed_path("/api/users", "/api", true), "/users");
        assert_eq!(routed_path("/api", "/api", true), "/");
        assert_eq!(routed_path("/api/users", "/api", false), "/api/users");
        assert_eq!(routed_path("/apix", "/api", true), "/apix");
        assert_eq!(routed_path("/x", "/", true), "/x");
    }

    #[test]
    fn scopes_cookies() {
        let mut h = http::HeaderMap::new();
        h.append("set-cookie", "a=1; Path=/; HttpOnly".parse().unwrap());
        h.append("set-cookie", "b=2".parse().unwrap());
        scope_cookie_paths(&mut h, "/app");
        let v: Vec<_> = h.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
        assert_eq!(v, vec!["a=1; Path=/app; HttpOnly", "b=2; Path=/app"]);
    }
}
