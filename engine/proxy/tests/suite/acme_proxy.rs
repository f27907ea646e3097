//! End to end: the real `kamal-proxy` binary obtains certificates over ACME from pebble
//! (Debian's ACME test server, tests/suite/support/pebble.rs) and serves them, for both challenge
//! types, and serves them again from its cache after a restart with pebble gone.
//!
//! pebble resolves every name to 127.0.0.1 and validates on the proxy's ports: TLS-ALPN-01 on
//! the HTTPS port (`tlsPort`), HTTP-01 on the HTTP port (`httpPort`). To prove which challenge
//! type the proxy answered, the other one's port is pointed at a reserved, closed port where
//! a test needs it. The proxy trusts pebble's own HTTPS certificate through `SSL_CERT_FILE`.
//!
//! Skips (with a message) only when no `pebble` binary is found (`PEBBLE_BIN` or `PATH`).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::pebble::{find_pebble, start_dns, Pebble, PebbleTls};
use crate::support::{Backend, Proxy};
use rustls::pki_types::{CertificateDer, ServerName};
use sha2::{Digest, Sha256};

/// Bound on each step that may wait for an ACME order.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// pebble (validating on the proxy's ports unless overridden), the proxy trusting pebble's
/// HTTPS certificate, and backend "A".
struct Setup {
    // Dropped in this order: pebble first.
    pebble: Pebble,
    proxy: Proxy,
    backend: Backend,
    /// The root pebble issues under (made at pebble's start).
    root_pem: Vec<u8>,
    /// Keeps a port reserved (bound, not listening: connections are refused).
    _closed: Option<tokio::net::TcpSocket>,
}

#[derive(Clone, Copy, PartialEq)]
enum Close {
    Nothing,
    /// pebble's `httpPort` is a closed port: only TLS-ALPN-01 can succeed.
    Http01,
    /// pebble's `tlsPort` is a closed port: only HTTP-01 can succeed.
    TlsAlpn01,
}

impl Setup {
    async fn start(bin: &Path, close: Close) -> Setup {
        let dns = start_dns().await;
        let tls = PebbleTls::generate();
        let ca_path = tls.ca_path.to_str().unwrap().to_string();
        let proxy = Proxy::start_with_env(&[("SSL_CERT_FILE", &ca_path)]);
        let closed = (close != Close::Nothing).then(closed_port);
        let closed_port = closed.as_ref().map(|s| s.local_addr().unwrap().port());
        let http_port = if close == Close::Http01 { closed_port.unwrap() } else { proxy.http_port };
        let tls_port = if close == Close::TlsAlpn01 { closed_port.unwrap() } else { proxy.https_port };
        let pebble = Pebble::start_with_tls(bin, dns, http_port, tls_port, tls).await;
        let root_pem = pebble.root_pem().await;
        let backend = Backend::start("A").await;
        Setup { pebble, proxy, backend, root_pem, _closed: closed }
    }

    /// Proxy log and pebble log, for failure messages.
    fn logs(&self) -> String {
        format!("\n--- proxy log ---\n{}\n--- pebble log ---\n{}", self.proxy.log(), self.pebble.log())
    }

    async fn deploy(&self, host: &str, cache: Option<&Path>) {
        let target = self.backend.target();
        let host_flag = format!("--host={host}");
        let directory = format!("--tls-acme-directory={}", self.pebble.directory_url());
        let mut args = vec!["deploy", "app", &target, &host_flag, "--tls", &directory];
        let cache_flag = cache.map(|c| format!("--tls-acme-cache-path={}", c.display()));
        if let Some(flag) = &cache_flag {
            args.push(flag);
        }
        let out = tokio::time::timeout(STEP_TIMEOUT, self.proxy.cli_async(&args))
            .await
            .unwrap_or_else(|_| panic!("kamal-proxy {args:?} timed out{}", self.logs()));
        assert!(
            out.status.success(),
            "kamal-proxy {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            self.logs()
        );
    }

    /// GET https://<host>/ through the proxy, trusting only pebble's root: the body, and the
    /// chain served (a separate handshake, verified against pebble's root for `host`).
    async fn https_get(&self, host: &str) -> (String, Vec<CertificateDer<'static>>) {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.proxy.https_port));
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&self.root_pem).unwrap())
            .resolve(host, addr)
            .tls_info(true)
            .timeout(STEP_TIMEOUT)
            .build()
            .unwrap();
        let url = format!("https://{host}:{}/", self.proxy.https_port);
        let rsp = client.get(&url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e:?}{}", self.logs()));
        assert_eq!(rsp.status(), 200, "GET {url}{}", self.logs());
        let leaf = rsp
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|i| i.peer_certificate())
            .expect("TLS info with the peer certificate")
            .to_vec();
        let body = rsp.text().await.unwrap();

        let chain = tokio::time::timeout(STEP_TIMEOUT, served_chain(addr, host, &self.root_pem))
            .await
            .unwrap_or_else(|_| panic!("handshake with {host} timed out{}", self.logs()))
            .unwrap_or_else(|e| panic!("handshake with {host}: {e}{}", self.logs()));
        assert_eq!(chain[0].as_ref(), &leaf[..], "both connections got the same certificate");
        (body, chain)
    }

    /// GET http://<host>/path?q through the proxy: a 301 to the https URL.
    async fn assert_http_redirects(&self, host: &str) {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .resolve(host, SocketAddr::from((Ipv4Addr::LOCALHOST, self.proxy.http_port)))
            .timeout(STEP_TIMEOUT)
            .build()
            .unwrap();
        let url = format!("http://{host}:{}/some/path?q=1", self.proxy.http_port);
        let rsp = client.get(&url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e:?}{}", self.logs()));
        assert_eq!(rsp.status(), 301, "GET {url}{}", self.logs());
        let location = rsp.headers().get("location").expect("Location header").to_str().unwrap();
        assert_eq!(location, format!("https://{host}/some/path?q=1"));
    }

    /// The certificate file the proxy cached for `host` under `cache` (upstream's layout:
    /// `<cache>/<hex sha256(directory URL)>/<host>`, private key then chain).
    fn cached_chain(&self, cache: &Path, host: &str) -> Vec<CertificateDer<'static>> {
        let scoped = cache.join(hex::encode(Sha256::digest(self.pebble.directory_url().as_bytes())));
        let path = scoped.join(host);
        let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}{}", path.display(), self.logs()));
        assert!(String::from_utf8_lossy(&pem).contains("PRIVATE KEY-----"), "{}: no private key", path.display());
        assert!(scoped.join("acme_account+key").is_file(), "account key cached");
        rustls_pemfile::certs(&mut &pem[..]).collect::<Result<_, _>>().unwrap()
    }
}

/// A loopback port bound but not listening: connections to it are refused.
fn closed_port() -> tokio::net::TcpSocket {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
    socket
}

/// Handshakes with the proxy for `host` trusting only `root_pem`; returns the chain served.
async fn served_chain(addr: SocketAddr, host: &str, root_pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let mut roots = rustls::RootCertStore::empty();
    for root in rustls_pemfile::certs(&mut &root_pem[..]) {
        roots.add(root.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = ServerName::try_from(host.to_string()).unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(|e| e.to_string())?;
    let chain = tls.get_ref().1.peer_certificates().ok_or("no peer certificates")?;
    Ok(chain.iter().map(|c| c.clone().into_owned()).collect())
}

/// The leaf names exactly `host` (DNS SANs), and there is an intermediate. (The chain was
/// verified against pebble's root during the handshake.)
fn assert_certificate_for(chain: &[CertificateDer<'_>], host: &str) {
    let (_, leaf) = x509_parser::parse_x509_certificate(&chain[0]).unwrap();
    let names: Vec<String> = leaf
        .subject_alternative_name()
        .unwrap()
        .expect("leaf has a SAN extension")
        .value
        .general_names
        .iter()
        .map(|n| match n {
            x509_parser::extensions::GeneralName::DNSName(d) => d.to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(names, vec![host.to_string()]);
    assert!(chain.len() >= 2, "pebble's intermediate is served with the leaf");
}

/// One order, validated without HTTP-01 (pebble logs each HTTP-01 attempt, but not TLS-ALPN-01
/// ones).
fn assert_tls_alpn01_only(setup: &Setup) {
    let pebble_log = setup.pebble.log();
    assert!(pebble_log.contains("There are now 1 orders"), "no order{}", setup.logs());
    assert!(!pebble_log.contains("There are now 2 orders"), "more than one order{}", setup.logs());
    assert!(!pebble_log.contains("set INVALID"), "a failed validation{}", setup.logs());
    assert!(!pebble_log.contains("Attempting to validate w/ HTTP"), "HTTP-01 was used{}", setup.logs());
}

/// The proxy's request log lines.
fn request_lines(log: &str) -> Vec<serde_json::Value> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["msg"] == "Request")
        .collect()
}

/// Log lines of the proxy at level ERROR.
fn error_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l).map(|v| v["level"] == "ERROR").unwrap_or(l.contains("ERROR"))
        })
        .collect()
}

macro_rules! pebble_or_skip {
    ($test:literal) => {
        match find_pebble() {
            Some(bin) => bin,
            None => {
                wharf_testkit::skip_without_tool(
                    $test,
                    "no `pebble` binary on PATH (apt-get install -y pebble, or set PEBBLE_BIN)",
                );
                return;
            }
        }
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_alpn01_certificate_through_the_proxy() {
    let bin = pebble_or_skip!("tls_alpn01_certificate_through_the_proxy");
    let started = Instant::now();
    let setup = Setup::start(&bin, Close::Http01).await;
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().join("acme");
    setup.deploy("alpn.test", Some(&cache_dir)).await;

    let (body, chain) = setup.https_get("alpn.test").await;
    assert_eq!(body, "A");
    assert_certificate_for(&chain, "alpn.test");
    eprintln!("TLS-ALPN-01 certificate served after {:?}", started.elapsed());
    assert_tls_alpn01_only(&setup);
    assert_eq!(setup.cached_chain(&cache_dir, "alpn.test"), chain, "the served chain is the cached one");
    setup.assert_http_redirects("alpn.test").await;

    // Served from memory now: the same certificate, quickly.
    let again = Instant::now();
    let (body, chain_again) = setup.https_get("alpn.test").await;
    assert_eq!((body.as_str(), &chain_again), ("A", &chain));
    assert!(again.elapsed() < Duration::from_secs(5), "second request took {:?}", again.elapsed());
    let errors = error_lines(&setup.proxy.log()).into_iter().map(str::to_string).collect::<Vec<_>>();
    assert!(errors.is_empty(), "proxy logged errors: {errors:#?}{}", setup.logs());
    eprintln!("tls_alpn01_certificate_through_the_proxy took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http01_fallback_through_the_proxy() {
    let bin = pebble_or_skip!("http01_fallback_through_the_proxy");
    let started = Instant::now();
    let setup = Setup::start(&bin, Close::TlsAlpn01).await;
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().join("acme");
    setup.deploy("http.test", Some(&cache_dir)).await;

    let (body, chain) = setup.https_get("http.test").await;
    assert_eq!(body, "A");
    assert_certificate_for(&chain, "http.test");
    eprintln!("HTTP-01 certificate served after {:?}", started.elapsed());
    assert_eq!(setup.cached_chain(&cache_dir, "http.test"), chain, "the served chain is the cached one");
    setup.assert_http_redirects("http.test").await;

    // TLS-ALPN-01 was tried first and failed (pebble could not connect), then a second order
    // passed HTTP-01, answered by the proxy on its HTTP port.
    let pebble_log = setup.pebble.log();
    assert!(pebble_log.contains("set INVALID by completed challenge"), "no failed first order{}", setup.logs());
    assert!(pebble_log.contains("There are now 2 orders"), "no second order{}", setup.logs());
    assert!(pebble_log.contains("Attempting to validate w/ HTTP"), "no HTTP-01 validation{}", setup.logs());
    assert!(
        request_lines(&setup.proxy.log()).iter().any(|r| r["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("/.well-known/acme-challenge/"))
            && r["status"] == 200
            && r["host"].as_str().is_some_and(|h| h.starts_with("http.test"))),
        "the proxy did not answer the HTTP-01 challenge{}",
        setup.logs()
    );
    let errors = error_lines(&setup.proxy.log()).into_iter().map(str::to_string).collect::<Vec<_>>();
    assert!(errors.is_empty(), "proxy logged errors for a successful fallback: {errors:#?}{}", setup.logs());
    eprintln!("http01_fallback_through_the_proxy took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_served_from_cache_after_restart() {
    let bin = pebble_or_skip!("certificate_served_from_cache_after_restart");
    let started = Instant::now();
    // Both challenge ports on the proxy, as in production; the default cache path
    // (~/.config/kamal-proxy/certs of the proxy's HOME).
    let mut setup = Setup::start(&bin, Close::Nothing).await;
    setup.deploy("restart.test", None).await;
    let (body, chain) = setup.https_get("restart.test").await;
    assert_eq!(body, "A");
    assert_certificate_for(&chain, "restart.test");
    // TLS-ALPN-01 is preferred: one order, validated without an HTTP request.
    assert_tls_alpn01_only(&setup);
    let cache_dir: PathBuf = setup.proxy.home().join(".config/kamal-proxy/certs");
    assert_eq!(setup.cached_chain(&cache_dir, "restart.test"), chain);

    // Stop the proxy and pebble; the restarted proxy restores the service from its state and
    // the certificate from its cache.
    setup.proxy.stop();
    setup.pebble.stop();
    setup.proxy.spawn();
    let (body, chain_after) = setup.https_get("restart.test").await;
    assert_eq!(body, "A");
    assert_eq!(chain_after, chain, "the cached certificate is served after the restart");
    setup.assert_http_redirects("restart.test").await;
    eprintln!("certificate_served_from_cache_after_restart took {:?}", started.elapsed());
}
