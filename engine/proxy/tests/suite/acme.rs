//! End-to-end test of `wharf_proxy::acme::AcmeManager` against a real ACME server: Debian's
//! `pebble` package (`apt-get install -y pebble`), run on loopback with its own TLS certificate.
//! A tiny DNS responder (tests/suite/support/pebble.rs) answers every A query with 127.0.0.1 (pebble is started
//! with `-dnsserver` pointing at it), and the challenge responders below use only the
//! manager's public API, as the proxy's listeners do.
//!
//! Skips (with a message) only when no `pebble` binary is found (`PEBBLE_BIN` or `PATH`).

use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::pebble::{find_pebble, start_dns, Pebble};
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{ServerName, UnixTime};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wharf_proxy::acme::{AcmeManager, ChallengeKind, ACME_TLS_ALPN_PROTOCOL};

const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// Managers whose pending challenges the responders answer.
type Managers = Arc<Mutex<Vec<Arc<AcmeManager>>>>;

#[tokio::test]
async fn host_outside_allowed_hosts_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    // Nothing listens here: a refusal must not need the directory.
    let manager = AcmeManager::new(
        cache.path().to_path_buf(),
        "https://127.0.0.1:9/dir".to_string(),
        vec!["allowed.wharf.test".to_string()],
    );
    let err = tokio::time::timeout(Duration::from_secs(5), manager.certificate("intruder.wharf.test"))
        .await
        .expect("refusal must be immediate")
        .expect_err("a host outside allowed_hosts must be refused");
    let msg = format!("{err:#}");
    assert!(msg.contains("intruder.wharf.test"), "error must name the host: {msg}");
    assert!(manager.http01_key_authorization("anything").is_none());
    assert!(manager.tls_alpn01_certificate("intruder.wharf.test").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_from_pebble() {
    let Some(pebble_bin) = find_pebble() else {
        wharf_testkit::skip_without_tool(
            "certificates_from_pebble",
            "no `pebble` binary on PATH (apt-get install -y pebble, or set PEBBLE_BIN)",
        );
        return;
    };
    let started = Instant::now();

    let managers: Managers = Arc::new(Mutex::new(Vec::new()));
    let http_hits = Arc::new(AtomicUsize::new(0));
    let alpn_hits = Arc::new(AtomicUsize::new(0));
    let alpn_refused = Arc::new(AtomicUsize::new(0));
    let dns_addr = start_dns().await;
    let http_port = start_http01_responder(managers.clone(), http_hits.clone()).await;
    let tls_port = start_tls_alpn01_responder(managers.clone(), alpn_hits.clone(), alpn_refused.clone()).await;
    let mut pebble = Pebble::start(&pebble_bin, dns_addr, http_port, tls_port).await;
    let directory_url = format!("https://127.0.0.1:{}/dir", pebble.listen_port);
    let pebble_root = pebble.root_pem().await;
    let ca_pem = pebble.tls_ca_pem.clone().into_bytes();

    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().join("acme");
    let hosts = [
        "http.wharf.test",
        "alpn.wharf.test",
        "shared.wharf.test",
        "no-alpn.wharf.test",
        "broken.wharf.test",
        "later.wharf.test",
    ];
    let allowed: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();

    // (1) HTTP-01.
    let http_manager = Arc::new(
        AcmeManager::new(cache_dir.clone(), directory_url.clone(), allowed.clone())
            .with_directory_root_pem(ca_pem.clone())
            .with_challenge_preference(vec![ChallengeKind::Http01]),
    );
    managers.lock().unwrap().push(http_manager.clone());
    let http_cert = tokio::time::timeout(STEP_TIMEOUT, http_manager.certificate("http.wharf.test"))
        .await
        .unwrap_or_else(|_| pebble.fail("HTTP-01 certificate timed out"))
        .unwrap_or_else(|e| pebble.fail(&format!("HTTP-01 certificate: {e:#}")));
    verify_certificate(&http_cert, "http.wharf.test", &pebble_root);
    assert!(http_hits.load(Ordering::SeqCst) >= 1, "pebble never fetched the HTTP-01 response");
    assert_eq!(alpn_hits.load(Ordering::SeqCst), 0, "HTTP-01 only, yet TLS-ALPN-01 was used");
    assert!(http_manager.http01_key_authorization("nope").is_none());
    // From memory now.
    let again = http_manager.certificate("HTTP.wharf.test.").await.unwrap();
    assert!(Arc::ptr_eq(&again, &http_cert));
    eprintln!("HTTP-01 certificate after {:?}", started.elapsed());

    // (2) TLS-ALPN-01 (a second manager sharing the cache dir and so the account).
    let alpn_manager = Arc::new(
        AcmeManager::new(cache_dir.clone(), directory_url.clone(), allowed.clone())
            .with_directory_root_pem(ca_pem.clone())
            .with_challenge_preference(vec![ChallengeKind::TlsAlpn01]),
    );
    managers.lock().unwrap().push(alpn_manager.clone());
    let http_hits_before = http_hits.load(Ordering::SeqCst);
    let alpn_cert = tokio::time::timeout(STEP_TIMEOUT, alpn_manager.certificate("alpn.wharf.test"))
        .await
        .unwrap_or_else(|_| pebble.fail("TLS-ALPN-01 certificate timed out"))
        .unwrap_or_else(|e| pebble.fail(&format!("TLS-ALPN-01 certificate: {e:#}")));
    verify_certificate(&alpn_cert, "alpn.wharf.test", &pebble_root);
    assert!(alpn_hits.load(Ordering::SeqCst) >= 1, "pebble never made a TLS-ALPN-01 handshake");
    assert_eq!(http_hits.load(Ordering::SeqCst), http_hits_before, "TLS-ALPN-01 only, yet HTTP-01 was used");
    assert!(alpn_manager.tls_alpn01_certificate("alpn.wharf.test").is_none(), "challenge cert withdrawn");
    eprintln!("TLS-ALPN-01 certificate after {:?}", started.elapsed());

    // Concurrent requests for one host share one order.
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let m = http_manager.clone();
            tokio::spawn(async move { m.certificate("shared.wharf.test").await })
        })
        .collect();
    let mut shared = Vec::new();
    for call in calls {
        let cert = tokio::time::timeout(STEP_TIMEOUT, call)
            .await
            .unwrap_or_else(|_| pebble.fail("concurrent certificate timed out"))
            .unwrap()
            .unwrap_or_else(|e| pebble.fail(&format!("concurrent certificate: {e:#}")));
        shared.push(cert);
    }
    assert!(shared.iter().all(|c| Arc::ptr_eq(c, &shared[0])), "concurrent calls made separate orders");
    verify_certificate(&shared[0], "shared.wharf.test", &pebble_root);

    // Default preference (TLS-ALPN-01, then HTTP-01): when TLS-ALPN-01 validation fails the
    // manager falls back to HTTP-01 with a fresh order; when both fail the error says so.
    let default_manager = Arc::new(
        AcmeManager::new(cache_dir.clone(), directory_url.clone(), allowed.clone())
            .with_directory_root_pem(ca_pem.clone()),
    );
    managers.lock().unwrap().push(default_manager.clone());
    let (refused_before, http_hits_before) = (alpn_refused.load(Ordering::SeqCst), http_hits.load(Ordering::SeqCst));
    let fallback_cert = tokio::time::timeout(STEP_TIMEOUT, default_manager.certificate("no-alpn.wharf.test"))
        .await
        .unwrap_or_else(|_| pebble.fail("fallback certificate timed out"))
        .unwrap_or_else(|e| pebble.fail(&format!("fallback certificate: {e:#}")));
    verify_certificate(&fallback_cert, "no-alpn.wharf.test", &pebble_root);
    assert!(alpn_refused.load(Ordering::SeqCst) > refused_before, "TLS-ALPN-01 not tried first");
    assert!(http_hits.load(Ordering::SeqCst) > http_hits_before, "no HTTP-01 fallback");
    let err = tokio::time::timeout(STEP_TIMEOUT, default_manager.certificate("broken.wharf.test"))
        .await
        .unwrap_or_else(|_| pebble.fail("failing order timed out"))
        .expect_err("no challenge can succeed for broken.wharf.test");
    let msg = format!("{err:#}");
    eprintln!("expected failure: {msg}");
    assert!(
        msg.contains("broken.wharf.test")
            && msg.contains("tls-alpn-01 validation failed")
            && msg.contains("http-01 validation failed"),
        "{msg}"
    );
    assert!(default_manager.tls_alpn01_certificate("broken.wharf.test").is_none());

    // Cache layout: <cache_dir>/<hex sha256(directory URL)>/..., dirs 0700, files 0600.
    let scoped = cache_dir.join(hex::encode(Sha256::digest(directory_url.as_bytes())));
    for host in ["http.wharf.test", "alpn.wharf.test", "shared.wharf.test"] {
        let pem = std::fs::read_to_string(scoped.join(host)).expect("certificate cached on disk");
        assert!(pem.contains("PRIVATE KEY-----") && pem.contains("BEGIN CERTIFICATE"));
    }
    assert!(scoped.join("acme_account+key").is_file(), "account key cached");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&cache_dir), 0o700);
        assert_eq!(mode(&scoped), 0o700);
        assert_eq!(mode(&scoped.join("http.wharf.test")), 0o600);
        assert_eq!(mode(&scoped.join("acme_account+key")), 0o600);
    }

    // (3) With pebble gone, a new manager on the same cache dir still has the certificates.
    pebble.stop();
    let cold = AcmeManager::new(cache_dir.clone(), directory_url.clone(), allowed.clone())
        .with_directory_root_pem(ca_pem.clone());
    for (host, original) in [("http.wharf.test", &http_cert), ("alpn.wharf.test", &alpn_cert)] {
        let cached = tokio::time::timeout(Duration::from_secs(10), cold.certificate(host))
            .await
            .expect("cached certificate timed out")
            .unwrap_or_else(|e| panic!("cached certificate for {host}: {e:#}"));
        assert_eq!(cached.cert, original.cert, "{host}: not the cached chain");
        verify_certificate(&cached, host, &pebble_root);
    }
    // An allowed host that was never ordered now fails, naming the host and the step.
    let err = tokio::time::timeout(Duration::from_secs(30), cold.certificate("later.wharf.test"))
        .await
        .expect("failure must be bounded")
        .expect_err("pebble is gone");
    let msg = format!("{err:#}");
    eprintln!("expected failure: {msg}");
    assert!(msg.contains("later.wharf.test") && msg.contains("account"), "{msg}");

    eprintln!("pebble ACME test took {:?}", started.elapsed());
}

/// The certificate is for `host` only, its key matches, and it chains to pebble's root.
fn verify_certificate(cert: &CertifiedKey, host: &str, root_pem: &[u8]) {
    cert.keys_match().expect("private key matches the leaf");
    let (_, leaf) = x509_parser::parse_x509_certificate(&cert.cert[0]).unwrap();
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

    let mut roots = rustls::RootCertStore::empty();
    for root in rustls_pemfile::certs(&mut &root_pem[..]) {
        roots.add(root.unwrap()).unwrap();
    }
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::new(rustls::crypto::ring::default_provider()),
    )
    .build()
    .unwrap();
    verifier
        .verify_server_cert(
            &cert.cert[0],
            &cert.cert[1..],
            &ServerName::try_from(host.to_string()).unwrap(),
            &[],
            UnixTime::now(),
        )
        .unwrap_or_else(|e| panic!("{host}: chain does not verify against pebble's root: {e}"));
}

/// `GET /.well-known/acme-challenge/<token>` -> `http01_key_authorization(token)`.
async fn start_http01_responder(managers: Managers, hits: Arc<AtomicUsize>) -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let managers = managers.clone();
            let hits = hits.clone();
            tokio::spawn(tokio::time::timeout(Duration::from_secs(10), async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 2048];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16384 {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&request);
                let path = head.split_whitespace().nth(1).unwrap_or("");
                let host = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("host").then(|| value.trim().to_string())
                    })
                    .unwrap_or_default();
                // Refused on purpose: hosts `broken.*` can pass no challenge.
                let token = path.strip_prefix("/.well-known/acme-challenge/");
                let answer = match token {
                    Some(token) if !host.starts_with("broken.") => {
                        let managers = managers.lock().unwrap().clone();
                        managers.iter().find_map(|m| m.http01_key_authorization(token))
                    }
                    _ => None,
                };
                let response = match answer {
                    Some(body) => {
                        hits.fetch_add(1, Ordering::SeqCst);
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    }
                    None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
                };
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            }));
        }
    });
    port
}

#[derive(Debug)]
struct AlpnResolver {
    managers: Managers,
    hits: Arc<AtomicUsize>,
    /// Challenge handshakes refused on purpose (hosts `no-alpn.*` and `broken.*`).
    refused: Arc<AtomicUsize>,
}

impl ResolvesServerCert for AlpnResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let mut offered = hello.alpn()?.peekable();
        offered.peek()?;
        if !offered.all(|p| p == ACME_TLS_ALPN_PROTOCOL) {
            return None;
        }
        let host = hello.server_name()?;
        if host.starts_with("no-alpn.") || host.starts_with("broken.") {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return None;
        }
        let managers = self.managers.lock().unwrap().clone();
        let cert = managers.iter().find_map(|m| m.tls_alpn01_certificate(host))?;
        self.hits.fetch_add(1, Ordering::SeqCst);
        Some(cert)
    }
}

/// TLS on the challenge port: the `acme-tls/1` certificate from `tls_alpn01_certificate`.
async fn start_tls_alpn01_responder(managers: Managers, hits: Arc<AtomicUsize>, refused: Arc<AtomicUsize>) -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(AlpnResolver { managers, hits, refused }));
    config.alpn_protocols = vec![ACME_TLS_ALPN_PROTOCOL.to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(tokio::time::timeout(Duration::from_secs(10), async move {
                if let Ok(mut tls) = acceptor.accept(stream).await {
                    let _ = tls.shutdown().await;
                }
            }));
        }
    });
    port
}
