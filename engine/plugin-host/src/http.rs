//! Outgoing HTTP for plugins (`wasi:http/outgoing-handler` 0.2): a request goes out only when
//! its host is listed in the manifest's `hosts` *and* granted by the user (patterns match label
//! by label: see [`crate::grant::host_matches`]); anything else is refused with
//! `HTTP-request-denied` and a log line naming the plugin and the host.
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
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use crate::grant::host_matches;
use crate::state::{Call, Level, State};

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
        if !self.call.caps.host_allowed(&host, port) {
            // Would the manifest allow it (so that only the user's grant is missing)?
            let declared = self.call.caps.manifest_hosts.iter().any(|p| host_matches(p, &host, port));
            return self.deny(&shown, if declared { "" } else { " (its manifest does not declare it)" });
        }
        self.call.note(&format!("http: {} {}", request.method(), request.uri()));
        let call = self.call.clone();
        Box::new(async move {
            let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
                // an address the grant names (literally or by a pattern): as granted
                Ok(ip) => vec![SocketAddr::new(ip, port)],
                Err(_) => {
                    let found = tokio::net::lookup_host((host.as_str(), port)).await.map_err(|_| Error::DestinationNotFound)?;
                    let addrs: Vec<SocketAddr> = found.collect();
                    if addrs.is_empty() {
                        return Err(Error::DestinationNotFound);
                    }
                    // a name leading into the local network needs the address granted too
                    if let Some(a) = addrs.iter().find(|a| {
                        non_public(a.ip()) && !call.caps.grant_hosts.iter().any(|p| host_matches(p, &a.ip().to_string(), port))
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

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http.ctx, table: &mut self.table, hooks: &mut self.http.gate }
    }
}

#[cfg(test)]
mod tests {
    use super::non_public;

    #[test]
    fn non_public_addresses() {
        for a in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::"] {
            assert!(non_public(a.parse().unwrap()), "{a}");
        }
        for a in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!non_public(a.parse().unwrap()), "{a}");
        }
    }
}
