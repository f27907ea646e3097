//! The `http` capability: outgoing HTTP for plugins (`wasi:http/outgoing-handler` 0.2).
//!
//! - Declared by `[capabilities] hosts` in `plugin.toml` (host patterns, see [`host_matches`]).
//! - Granted by `allow: hosts` ([`Allow`], built with [`Grant::host`](crate::Grant::host)).
//! - Checked by [`Effective::host_allowed`]: a request goes out only when its host is listed in
//!   the manifest's `hosts` *and* granted by the user (patterns match label by label); anything
//!   else is refused with `HTTP-request-denied` and a log line naming the plugin and the host
//!   (`plugin X: capability host evil.example not granted`).
//! - Implemented by [`HttpGate`] (the `WasiHttpHooks` in front of this module's own small
//!   HTTP/1.1 client) and `WasiHttpView for State`.
//!
//! A granted host *name* is resolved here, once: when it resolves to a loopback, private,
//! link-local or otherwise non-public address, the request is refused unless the grant also
//! names that address (a grant of `hooks.example.com` is not a way into the local network if
//! its DNS answers `127.0.0.1`). The connection then goes to the addresses checked (no second
//! resolution a rebinding DNS server could answer differently), with TLS verified against the
//! name, through this module's own small HTTP/1.1 client.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use wasmtime::component::Linker;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use super::log::Level;
use crate::state::{Call, State};

// ---- the declaration (`[capabilities] hosts`: host patterns, not validated further) ----

/// Whether a host pattern allows `host` on `port`. A pattern is a host name or address,
/// optionally with `:port` (without one, or with `:*`, any port). Host names match label by label, case
/// insensitively: `*` stands for exactly one whole label (`*.example.com` matches
/// `a.example.com`, not `example.com` nor `a.b.example.com`), and a label is never matched by a
/// part of another (`10.0.0.*` matches `10.0.0.7`, not `10.0.0.evil.example`). A lone `*`
/// matches any host.
pub fn host_matches(pattern: &str, host: &str, port: u16) -> bool {
    let (p_host, p_port) = split_host_port(pattern);
    if let Some(pp) = p_port {
        if pp != port {
            return false;
        }
    }
    if p_host == "*" {
        return true;
    }
    let p_labels: Vec<&str> = p_host.split('.').collect();
    let h_labels: Vec<&str> = host.split('.').collect();
    p_labels.len() == h_labels.len()
        && p_labels.iter().zip(&h_labels).all(|(p, h)| !h.is_empty() && (*p == "*" || p.eq_ignore_ascii_case(h)))
}

/// `host[:port]`, `[v6]:port`.
fn split_host_port(pattern: &str) -> (&str, Option<u16>) {
    if let Some(rest) = pattern.strip_prefix('[') {
        if let Some((h, tail)) = rest.split_once(']') {
            return (h, tail.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
    }
    if let Some(h) = pattern.strip_suffix(":*") {
        return split_host_port(h);
    }
    match pattern.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => match p.parse() {
            Ok(port) => (h, Some(port)),
            Err(_) => (pattern, None),
        },
        _ => (pattern, None),
    }
}

// ---- the grant (`allow: hosts`) ----

/// The hosts the user allows.
#[derive(Clone, Debug, Default)]
pub(crate) struct Allow {
    /// Hosts the plugin may reach over wasi:http (patterns, see [`host_matches`]).
    pub hosts: Vec<String>,
}

/// The declared hosts the grant does not cover (`host example.com`), appended to `out`.
pub(crate) fn missing(declared: &[String], allow: &Allow, out: &mut Vec<String>) {
    for h in declared {
        let (host, port) = split_host_port(h);
        let covered = allow.hosts.iter().any(|g| {
            g == h || host_matches(g, host, port.unwrap_or(0)) && (port.is_some() || split_host_port(g).1.is_none())
        });
        if !covered {
            out.push(format!("host {h}"));
        }
    }
}

// ---- the check (declared and granted) ----

/// The hosts a call may reach: declared and granted.
#[derive(Clone, Debug, Default)]
pub(crate) struct Effective {
    pub manifest_hosts: Vec<String>,
    pub grant_hosts: Vec<String>,
}

impl Effective {
    pub fn new(declared: &[String], allow: &Allow) -> Effective {
        Effective { manifest_hosts: declared.to_vec(), grant_hosts: allow.hosts.clone() }
    }

    /// Whether wasi:http may reach `host` on `port`: the manifest's and the grant's lists must
    /// each have a pattern matching it (see [`host_matches`]).
    pub fn host_allowed(&self, host: &str, port: u16) -> bool {
        self.grant_pattern_for(host, port).is_some() && self.manifest_hosts.iter().any(|p| host_matches(p, host, port))
    }

    /// The grant's pattern that allows `host:port`, if any.
    pub fn grant_pattern_for(&self, host: &str, port: u16) -> Option<&str> {
        self.grant_hosts.iter().find(|p| host_matches(p, host, port)).map(String::as_str)
    }
}

// ---- the host implementation (`wasi:http/outgoing-handler`) ----

/// Adds `wasi:http` (without the rest of WASI, which the host adds itself) to the linker.
pub(crate) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)
}

/// The per-call gate in front of the HTTP client.
pub(crate) struct HttpGate {
    pub call: Arc<Call>,
}

/// The request's host (lowercase, without IPv6 brackets), port (the scheme's by default) and
/// whether it is HTTPS.
fn target(uri: &http::Uri) -> Option<(String, u16, bool)> {
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    let tls = uri.scheme_str() != Some("http");
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    Some((host, port, tls))
}

/// Whether an address is one a name on the internet should not lead to: loopback, private,
/// link-local, shared (CGNAT), unspecified, multicast, broadcast, unique-local (IPv6), or an
/// IPv4-mapped/compatible form of those.
pub fn non_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return non_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0)
        }
    }
}

type SendFuture = Box<
    dyn std::future::Future<
            Output = Result<
                (http::Response<WasiBody>, Box<dyn std::future::Future<Output = Result<(), Error>> + Send>),
                Error,
            >,
        > + Send,
>;

impl HttpGate {
    fn deny(&self, shown: &str, why: &str) -> SendFuture {
        let message = format!("plugin {}: capability host {shown} not granted{why}", self.call.plugin);
        self.call.host_line(Level::Error, &message);
        Box::new(async { Err(Error::HttpRequestDenied) })
    }
}

impl WasiHttpHooks for HttpGate {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn std::future::Future<Output = Result<(), Error>> + Send>,
    ) -> SendFuture {
        drop(fut);
        let shown = request.uri().authority().map(|a| a.to_string()).unwrap_or_else(|| "(none)".into());
        let Some((host, port, tls)) = target(request.uri()) else { return self.deny(&shown, "") };
        if !self.call.caps.http.host_allowed(&host, port) {
            // Would the manifest allow it (so that only the user's grant is missing)?
            let declared = self.call.caps.http.manifest_hosts.iter().any(|p| host_matches(p, &host, port));
            return self.deny(&shown, if declared { "" } else { " (its manifest does not declare it)" });
        }
        self.call.note(&format!("http: {} {}", request.method(), request.uri()));
        let call = self.call.clone();
        Box::new(async move {
            let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
                // an address the grant names (literally or by a pattern): as granted
                Ok(ip) => vec![SocketAddr::new(ip, port)],
                Err(_) => {
                    let found =
                        tokio::net::lookup_host((host.as_str(), port)).await.map_err(|_| Error::DestinationNotFound)?;
                    let addrs: Vec<SocketAddr> = found.collect();
                    if addrs.is_empty() {
                        return Err(Error::DestinationNotFound);
                    }
                    // a name leading into the local network needs the address granted too
                    if let Some(a) = addrs.iter().find(|a| {
                        non_public(a.ip())
                            && !call.caps.http.grant_hosts.iter().any(|p| host_matches(p, &a.ip().to_string(), port))
                    }) {
                        let message = format!(
                            "plugin {}: capability host {shown} not granted (it resolves to the non-public address {}; grant that address to allow it)",
                            call.plugin,
                            a.ip()
                        );
                        call.host_line(Level::Error, &message);
                        return Err(Error::HttpRequestDenied);
                    }
                    addrs
                }
            };
            send(request, options, &addrs, &host, tls).await
        })
    }
}

/// Sends `request` over a connection to one of `addrs` (TLS verified against `host`).
async fn send(
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    addrs: &[SocketAddr],
    host: &str,
    tls: bool,
) -> Result<(http::Response<WasiBody>, Box<dyn std::future::Future<Output = Result<(), Error>> + Send>), Error> {
    let connect_timeout = options.and_then(|o| o.connect_timeout).unwrap_or(Duration::from_secs(60));
    let first_byte_timeout = options.and_then(|o| o.first_byte_timeout).unwrap_or(Duration::from_secs(600));
    let tcp = tokio::time::timeout(connect_timeout, tokio::net::TcpStream::connect(addrs))
        .await
        .map_err(|_| Error::ConnectionTimeout)?
        .map_err(Error::Connect)?;
    // HTTP/1.1 needs a Host header; the URI sent is the origin form (path and query)
    if !request.headers().contains_key(http::header::HOST) {
        if let Some(authority) = request.uri().authority() {
            if let Ok(v) = http::HeaderValue::from_str(authority.as_str()) {
                request.headers_mut().insert(http::header::HOST, v);
            }
        }
    }
    let path = request.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    *request.uri_mut() = http::Uri::try_from(path).map_err(|_| Error::HttpRequestUriInvalid)?;

    let (response, connection): (http::Response<hyper::body::Incoming>, ConnectionFuture) = if tls {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(host.to_string()).map_err(Error::InvalidDnsNameError)?;
        let stream = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(Error::Tls)?;
        exchange(hyper_util::rt::TokioIo::new(stream), request, connect_timeout, first_byte_timeout).await?
    } else {
        exchange(hyper_util::rt::TokioIo::new(tcp), request, connect_timeout, first_byte_timeout).await?
    };
    Ok((response.map(|b| b.map_err(Error::from).boxed_unsync()), connection))
}

type ConnectionFuture = Box<dyn std::future::Future<Output = Result<(), Error>> + Send>;

/// The HTTP/1.1 handshake and one request on `io`.
async fn exchange<T>(
    io: T,
    request: http::Request<WasiBody>,
    connect_timeout: Duration,
    first_byte_timeout: Duration,
) -> Result<(http::Response<hyper::body::Incoming>, ConnectionFuture), Error>
where
    T: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static,
{
    let (mut sender, conn) = tokio::time::timeout(connect_timeout, hyper::client::conn::http1::handshake(io))
        .await
        .map_err(|_| Error::ConnectionTimeout)??;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let driver = tokio::spawn(async move {
        let r = conn.await;
        let _ = tx.send(());
        r
    });
    let response = tokio::time::timeout(first_byte_timeout, sender.send_request(request))
        .await
        .map_err(|_| Error::ConnectionReadTimeout)??;
    let connection: ConnectionFuture = Box::new(async move {
        let _ = rx.await;
        match driver.await {
            Ok(r) => r.map_err(Error::from),
            Err(_) => Err(Error::ConnectionTerminated),
        }
    });
    Ok((response, connection))
}

/// The HTTP half of a call's store.
pub(crate) struct HttpState {
    pub ctx: WasiHttpCtx,
    pub gate: HttpGate,
}

impl HttpState {
    pub fn new(call: Arc<Call>) -> HttpState {
        HttpState { ctx: WasiHttpCtx::new(), gate: HttpGate { call } }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http.ctx, table: &mut self.table, hooks: &mut self.http.gate }
    }
}

#[cfg(test)]
mod tests {
    use super::{host_matches, non_public};

    #[test]
    fn non_public_addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::",
        ] {
            assert!(non_public(a.parse().unwrap()), "{a}");
        }
        for a in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!non_public(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn host_patterns_match_whole_labels() {
        assert!(host_matches("10.0.0.*", "10.0.0.7", 80));
        assert!(!host_matches("10.0.0.*", "10.0.0.evil.example", 80));
        assert!(!host_matches("10.0.0.*", "10.0.0.7.evil.example", 80));
        assert!(host_matches("*.example.com", "A.Example.COM", 443));
        assert!(!host_matches("*.example.com", "example.com", 443));
        assert!(!host_matches("*.example.com", "a.b.example.com", 443));
        assert!(!host_matches("*.example.com", "evilexample.com", 443));
        assert!(!host_matches("*.example.com", ".example.com", 443));
        assert!(host_matches("example.com:8443", "example.com", 8443));
        assert!(!host_matches("example.com:8443", "example.com", 443));
        assert!(host_matches("127.0.0.1:*", "127.0.0.1", 1234));
        assert!(host_matches("[::1]:8080", "::1", 8080));
        assert!(host_matches("*", "anything.at.all", 1));
    }
}
