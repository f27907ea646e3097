//! TLS for the HTTPS listener: where a service's certificate comes from (static files or ACME),
//! and the handshake, which reads the ClientHello first so that a certificate can be ordered
//! (ACME) before the handshake completes, and TLS-ALPN-01 validation connections are answered.

use crate::acme::{AcmeManager, ACME_TLS_ALPN_PROTOCOL};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;
use tokio_rustls::LazyConfigAcceptor;

#[derive(Clone)]
pub enum CertSource {
    Static(Arc<CertifiedKey>),
    Acme(Arc<AcmeManager>),
}

pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: OnceLock<Arc<rustls::crypto::CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider())).clone()
}

/// Loads a PEM certificate chain and private key; errors name the file and the problem.
pub fn load_static(cert_path: &str, key_path: &str) -> Result<Arc<CertifiedKey>, String> {
    let cert_pem = std::fs::read(cert_path).map_err(|e| format!("unable to read TLS certificate {cert_path}: {e}"))?;
    let key_pem = std::fs::read(key_path).map_err(|e| format!("unable to read TLS private key {key_path}: {e}"))?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut &cert_pem[..])
        .collect::<Result<_, _>>()
        .map_err(|e| format!("unable to parse TLS certificate {cert_path}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("unable to parse TLS certificate {cert_path}: no PEM certificate found"));
    }
    let key = rustls_pemfile::private_key(&mut &key_pem[..])
        .map_err(|e| format!("unable to parse TLS private key {key_path}: {e}"))?
        .ok_or_else(|| format!("unable to parse TLS private key {key_path}: no PEM private key found"))?;
    let signing_key = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("unable to load TLS private key {key_path}: {e}"))?;
    let certified = CertifiedKey::new(certs, signing_key);
    certified
        .keys_match()
        .map_err(|e| format!("TLS certificate {cert_path} does not match private key {key_path}: {e}"))?;
    Ok(Arc::new(certified))
}

struct Fixed(Arc<CertifiedKey>);

impl std::fmt::Debug for Fixed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fixed")
    }
}

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

fn server_config(key: Arc<CertifiedKey>, alpn: Vec<Vec<u8>>) -> Arc<ServerConfig> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Fixed(key)));
    config.alpn_protocols = alpn;
    Arc::new(config)
}

/// One ServerConfig per certificate, reused across handshakes.
fn cached_config(key: Arc<CertifiedKey>) -> Arc<ServerConfig> {
    type Cache = Mutex<HashMap<usize, (Arc<CertifiedKey>, Arc<ServerConfig>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let id = Arc::as_ptr(&key) as usize;
    let mut cache = cache.lock().unwrap();
    if let Some((_, config)) = cache.get(&id) {
        return config.clone();
    }
    if cache.len() > 1000 {
        cache.clear();
    }
    let config = server_config(key.clone(), vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
    cache.insert(id, (key, config.clone()));
    config
}

/// Looks up the certificate source for a TLS host name.
pub trait CertLookup: Send + Sync {
    fn cert_source(&self, host: &str) -> Option<CertSource>;
    fn default_tls_hostname(&self) -> String;
}

/// Why a TLS connection was not served.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    /// The client's handshake (bad hello, unknown name): routine on the internet, logged at debug.
    #[error("{0}")]
    Handshake(String),
    /// No certificate could be had for a configured host (ACME failed): the operator must know.
    #[error("{0}")]
    Certificate(String),
}

impl From<String> for AcceptError {
    fn from(s: String) -> Self {
        AcceptError::Handshake(s)
    }
}

/// Completes the handshake on `tcp`. `Ok(None)`: the connection was an ACME TLS-ALPN-01
/// validation, already answered.
pub async fn accept<IO>(lookup: &dyn CertLookup, tcp: IO) -> Result<Option<TlsStream<IO>>, AcceptError>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let start = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), tcp)
        .await
        .map_err(|e| format!("TLS handshake: {e}"))?;
    let hello = start.client_hello();
    let server_name = hello.server_name().map(|s| s.to_ascii_lowercase());
    let alpn: Vec<Vec<u8>> = hello.alpn().map(|a| a.map(<[u8]>::to_vec).collect()).unwrap_or_default();
    let host = server_name.clone().unwrap_or_else(|| lookup.default_tls_hostname());
    if host.is_empty() {
        return Err(AcceptError::Handshake("TLS handshake: no server name provided".into()));
    }
    let source = lookup.cert_source(&host).ok_or_else(|| format!("TLS handshake: unknown server name {host}"))?;

    if alpn.len() == 1 && alpn[0] == ACME_TLS_ALPN_PROTOCOL {
        let CertSource::Acme(acme) = &source else {
            return Err(format!("TLS handshake: ACME validation for {host}, which has no ACME certificate").into());
        };
        let key = acme
            .tls_alpn01_certificate(&host)
            .ok_or_else(|| format!("TLS handshake: no TLS-ALPN-01 challenge pending for {host}"))?;
        let config = server_config(key, vec![ACME_TLS_ALPN_PROTOCOL.to_vec()]);
        let mut stream = start.into_stream(config).await.map_err(|e| format!("TLS handshake: {e}"))?;
        let _ = tokio::io::AsyncWriteExt::shutdown(&mut stream).await;
        return Ok(None);
    }

    let key = match source {
        CertSource::Static(key) => key,
        CertSource::Acme(acme) => {
            acme.certificate(&host).await.map_err(|e| AcceptError::Certificate(format!("{e:#}")))?
        }
    };
    let stream = start.into_stream(cached_config(key)).await.map_err(|e| format!("TLS handshake: {e}"))?;
    Ok(Some(stream))
}
