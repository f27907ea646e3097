//! Automatic TLS certificates over ACME (RFC 8555): the counterpart of Go's
//! `golang.org/x/crypto/acme/autocert.Manager` as kamal-proxy configures it.
//!
//! [`AcmeManager::certificate`] hands the TLS listener a certificate for an allowed host name,
//! taken from memory, else from the on-disk cache, else ordered from the ACME directory (Let's
//! Encrypt by default) there and then. Orders prove control of the name with TLS-ALPN-01
//! (RFC 8737) or HTTP-01; while a challenge is pending the listener answers it with
//! [`AcmeManager::tls_alpn01_certificate`] (when a ClientHello offers only the `acme-tls/1`
//! protocol) and [`AcmeManager::http01_key_authorization`] (for
//! `/.well-known/acme-challenge/<token>` on port 80).
//!
//! The cache follows upstream's layout so an existing kamal-proxy cache keeps working:
//! `<cache_dir>/<hex sha256(directory URL)>/` (kamal-proxy's `ScopedCachePath`) holds one file
//! per host name (PEM private key followed by the PEM certificate chain, as autocert's
//! `DirCache` writes it) and the account key in `acme_account+key`; the ACME account URL is
//! remembered next to it in `acme_account+credentials` so it need not be looked up again.
//!
//! Renewal: a certificate is used until it expires, but once less than a third of its lifetime
//! is left (30 days of a 90-day Let's Encrypt certificate) the next request for it starts a
//! background renewal; the old certificate is served until the new one arrives.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context as _};
use bytes::Bytes;
use futures_util::future::{BoxFuture, FutureExt, Shared};
use http_body_util::{BodyExt, Full};
use instant_acme::{
    Account, AccountBuilder, AccountCredentials, AuthorizationStatus, BodyWrapper, BytesResponse, ChallengeType,
    HttpClient, Identifier, NewAccount, NewOrder, OrderStatus, RetryPolicy,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};

/// The ALPN protocol name of TLS-ALPN-01 validation connections (RFC 8737).
pub const ACME_TLS_ALPN_PROTOCOL: &[u8] = b"acme-tls/1";
/// Let's Encrypt's production directory (autocert's and kamal-proxy's default).
pub const LETS_ENCRYPT_PRODUCTION: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// Let's Encrypt's staging directory.
pub const LETS_ENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";

/// autocert's name for the account key in the cache directory.
const ACCOUNT_KEY_FILE: &str = "acme_account+key";
/// instant-acme's serialized account credentials (account URL + key).
const ACCOUNT_CREDENTIALS_FILE: &str = "acme_account+credentials";
/// Whole-order bound, as autocert's `GetCertificate` uses.
const DEFAULT_ORDER_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Bound on each HTTP exchange with the directory (custom-roots client).
const HTTP_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// After a failed background renewal, don't start another one for this long.
const RENEWAL_RETRY_DELAY: Duration = Duration::from_secs(10 * 60);

/// An ACME challenge type this manager can answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChallengeKind {
    /// RFC 8737: a self-signed certificate served on port 443 to `acme-tls/1` ClientHellos.
    TlsAlpn01,
    /// RFC 8555 §8.3: the key authorization served at
    /// `http://<host>/.well-known/acme-challenge/<token>`.
    Http01,
}

impl ChallengeKind {
    fn acme_type(self) -> ChallengeType {
        match self {
            ChallengeKind::TlsAlpn01 => ChallengeType::TlsAlpn01,
            ChallengeKind::Http01 => ChallengeType::Http01,
        }
    }
}

impl fmt::Display for ChallengeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChallengeKind::TlsAlpn01 => "tls-alpn-01",
            ChallengeKind::Http01 => "http-01",
        })
    }
}

/// Obtains, caches and renews certificates over ACME. `Send + Sync`; share it behind an `Arc`.
/// Builder methods (`with_*`) must be called before the manager is first used.
pub struct AcmeManager {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Config {
    /// `<cache_dir>/<hex sha256(directory_url)>`
    scoped_dir: PathBuf,
    directory_url: String,
    allowed_hosts: HashSet<String>,
    directory_roots_pem: Option<Vec<u8>>,
    challenge_preference: Vec<ChallengeKind>,
    order_timeout: Duration,
}

struct Inner {
    config: Config,
    account: tokio::sync::Mutex<Option<Account>>,
    certs: RwLock<HashMap<String, Arc<CachedCert>>>,
    /// One load-or-order job per host; concurrent callers await the same one.
    inflight: Mutex<HashMap<String, SharedJob>>,
    /// HTTP-01 token -> key authorization.
    http01: RwLock<HashMap<String, String>>,
    /// host -> TLS-ALPN-01 challenge certificate.
    tls_alpn01: RwLock<HashMap<String, Arc<CertifiedKey>>>,
    /// host -> no background renewal before this instant (after a failed one).
    renewal_backoff: Mutex<HashMap<String, Instant>>,
}

type SharedJob = Shared<BoxFuture<'static, Result<Arc<CachedCert>, Arc<anyhow::Error>>>>;

struct CachedCert {
    key: Arc<CertifiedKey>,
    not_after: SystemTime,
    renew_at: SystemTime,
}

impl CachedCert {
    fn expired(&self, now: SystemTime) -> bool {
        now >= self.not_after
    }

    fn due_for_renewal(&self, now: SystemTime) -> bool {
        now >= self.renew_at
    }
}

impl AcmeManager {
    /// `cache_dir`: certificates and the account key are cached under
    /// `cache_dir/<hex sha256(directory_url)>/` (directories created mode 0700, files 0600).
    /// `allowed_hosts`: only these host names (exact match, case-insensitive, trailing dot
    /// ignored) may get a certificate.
    pub fn new(cache_dir: PathBuf, directory_url: String, allowed_hosts: Vec<String>) -> Self {
        let scoped_dir = cache_dir.join(hex::encode(Sha256::digest(directory_url.as_bytes())));
        Self::from_config(Config {
            scoped_dir,
            directory_url,
            allowed_hosts: allowed_hosts.iter().map(|h| normalize_host(h)).collect(),
            directory_roots_pem: None,
            challenge_preference: vec![ChallengeKind::TlsAlpn01, ChallengeKind::Http01],
            order_timeout: DEFAULT_ORDER_TIMEOUT,
        })
    }

    /// Extra root certificates (PEM) trusted when talking to the ACME directory, in addition
    /// to the system's bundle (tests use pebble's CA).
    pub fn with_directory_root_pem(self, pem: Vec<u8>) -> Self {
        self.reconfigure(|c| c.directory_roots_pem = Some(pem))
    }

    /// The challenge types to use, most preferred first (default: TLS-ALPN-01, then HTTP-01).
    /// As autocert does, when validation with one type fails the next one is tried with a
    /// fresh order.
    pub fn with_challenge_preference(self, kinds: Vec<ChallengeKind>) -> Self {
        let mut deduped = Vec::new();
        for k in kinds {
            if !deduped.contains(&k) {
                deduped.push(k);
            }
        }
        self.reconfigure(|c| c.challenge_preference = deduped)
    }

    /// Upper bound on obtaining one certificate (default 5 minutes).
    pub fn with_order_timeout(self, timeout: Duration) -> Self {
        self.reconfigure(|c| c.order_timeout = timeout)
    }

    fn reconfigure(self, f: impl FnOnce(&mut Config)) -> Self {
        let mut config = self.inner.config.clone();
        f(&mut config);
        Self::from_config(config)
    }

    fn from_config(config: Config) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                account: tokio::sync::Mutex::new(None),
                certs: RwLock::new(HashMap::new()),
                inflight: Mutex::new(HashMap::new()),
                http01: RwLock::new(HashMap::new()),
                tls_alpn01: RwLock::new(HashMap::new()),
                renewal_backoff: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// A certificate for `host`: from memory, else the disk cache, else ordered now. A cached
    /// certificate with less than a third of its lifetime left is still returned while a
    /// renewal runs in the background; an expired one is replaced before returning.
    /// Concurrent calls for one host share one order. Errors name the host and the ACME step
    /// that failed.
    pub async fn certificate(&self, host: &str) -> anyhow::Result<Arc<CertifiedKey>> {
        let name = normalize_host(host);
        if !self.inner.config.allowed_hosts.contains(&name) {
            bail!("acme: host {host:?} is not allowed to get a certificate (not a configured TLS host name)");
        }
        validate_host(&name)?;

        let now = SystemTime::now();
        if let Some(cert) = self.inner.memory(&name) {
            if !cert.expired(now) {
                if cert.due_for_renewal(now) {
                    self.inner.renew_in_background(&name);
                }
                return Ok(cert.key.clone());
            }
        }

        let cert = self.inner.job(&name, false).await.map_err(|e| anyhow!("{e:#}"))?;
        if cert.due_for_renewal(SystemTime::now()) {
            self.inner.renew_in_background(&name);
        }
        Ok(cert.key.clone())
    }

    /// The key authorization to serve at `http://host/.well-known/acme-challenge/<token>`
    /// while an HTTP-01 challenge is pending.
    pub fn http01_key_authorization(&self, token: &str) -> Option<String> {
        self.inner.http01.read().unwrap().get(token).cloned()
    }

    /// The self-signed TLS-ALPN-01 challenge certificate (RFC 8737, with the acmeIdentifier
    /// extension) for `host` while that challenge is pending; to be served when the ClientHello
    /// offers only the ALPN protocol `acme-tls/1`.
    pub fn tls_alpn01_certificate(&self, host: &str) -> Option<Arc<CertifiedKey>> {
        self.inner.tls_alpn01.read().unwrap().get(&normalize_host(host)).cloned()
    }
}

impl fmt::Debug for AcmeManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcmeManager")
            .field("directory_url", &self.inner.config.directory_url)
            .field("cache_dir", &self.inner.config.scoped_dir)
            .finish_non_exhaustive()
    }
}

impl Inner {
    fn memory(&self, host: &str) -> Option<Arc<CachedCert>> {
        self.certs.read().unwrap().get(host).cloned()
    }

    /// The in-flight job for `host`, or a new one: (unless `force_order`) memory, then disk,
    /// then a new order. Runs as its own task so an abandoned handshake doesn't cancel it.
    fn job(self: &Arc<Self>, host: &str, force_order: bool) -> SharedJob {
        let mut inflight = self.inflight.lock().unwrap();
        if let Some(job) = inflight.get(host) {
            return job.clone();
        }
        let inner = self.clone();
        let task_host = host.to_string();
        let handle = tokio::spawn(async move {
            let result = inner.run_job(&task_host, force_order).await;
            if force_order {
                let mut backoff = inner.renewal_backoff.lock().unwrap();
                match &result {
                    Ok(_) => {
                        backoff.remove(&task_host);
                    }
                    Err(e) => {
                        backoff.insert(task_host.clone(), Instant::now() + RENEWAL_RETRY_DELAY);
                        crate::log_warn!("ACME certificate renewal failed; the current certificate stays in use", "host" => task_host, "error" => format!("{e:#}"));
                    }
                }
            }
            // Still holding `inflight` in `job()` until our entry is inserted, so this removes it.
            inner.inflight.lock().unwrap().remove(&task_host);
            result.map_err(Arc::new)
        });
        let job_host = host.to_string();
        let job = async move {
            match handle.await {
                Ok(result) => result,
                Err(e) => Err(Arc::new(anyhow!("acme: {job_host}: certificate task failed: {e}"))),
            }
        }
        .boxed()
        .shared();
        inflight.insert(host.to_string(), job.clone());
        job
    }

    fn renew_in_background(self: &Arc<Self>, host: &str) {
        if self.inflight.lock().unwrap().contains_key(host) {
            return;
        }
        if let Some(until) = self.renewal_backoff.lock().unwrap().get(host) {
            if Instant::now() < *until {
                return;
            }
        }
        // The job is a spawned task: it runs to completion without being awaited.
        drop(self.job(host, true));
    }

    async fn run_job(self: &Arc<Self>, host: &str, force_order: bool) -> anyhow::Result<Arc<CachedCert>> {
        if !force_order {
            let now = SystemTime::now();
            if let Some(cert) = self.memory(host) {
                if !cert.expired(now) {
                    return Ok(cert);
                }
            }
            // An unreadable or invalid cache entry is a miss, as in autocert.
            if let Ok(Some(cert)) = self.load_cached(host).await {
                if !cert.expired(now) {
                    let cert = Arc::new(cert);
                    self.certs.write().unwrap().insert(host.to_string(), cert.clone());
                    return Ok(cert);
                }
            }
        }

        let timeout = self.config.order_timeout;
        let (cert, key_pem, chain_pem) = tokio::time::timeout(timeout, self.order(host))
            .await
            .map_err(|_| anyhow!("acme: {host}: obtaining a certificate timed out after {timeout:?}"))??;
        let cert = Arc::new(cert);
        self.certs.write().unwrap().insert(host.to_string(), cert.clone());
        let path = self.config.scoped_dir.join(host);
        if let Err(e) = write_private_file(&path, format!("{key_pem}{chain_pem}").as_bytes()).await {
            // The certificate is still good for this process; it will be ordered again on restart.
            crate::log_warn!("Caching the ACME certificate failed", "host" => host, "path" => path.display().to_string(), "error" => format!("{e:#}"));
        }
        Ok(cert)
    }

    async fn load_cached(&self, host: &str) -> anyhow::Result<Option<CachedCert>> {
        let path = self.config.scoped_dir.join(host);
        let Some(data) = read_optional(&path).await? else {
            return Ok(None);
        };
        parse_cached_cert(host, &data)
            .map(Some)
            .with_context(|| format!("acme: {host}: invalid cached certificate {}", path.display()))
    }

    /// Orders a certificate for `host`; returns it plus (key PEM, chain PEM) for the cache.
    async fn order(self: &Arc<Self>, host: &str) -> anyhow::Result<(CachedCert, String, String)> {
        let account = self
            .account()
            .await
            .with_context(|| format!("acme: {host}: setting up the ACME account with {}", self.config.directory_url))?;
        match self.order_with(&account, host).await {
            Err(OrderError::AccountGone(e)) => {
                // The directory forgot the account (a restarted test CA, a deactivated account):
                // register the cached key again and retry once.
                self.forget_account(&e).await;
                let account = self.account().await.with_context(|| {
                    format!("acme: {host}: registering the ACME account again with {}", self.config.directory_url)
                })?;
                self.order_with(&account, host).await.map_err(OrderError::into_anyhow)
            }
            other => other.map_err(OrderError::into_anyhow),
        }
    }

    async fn order_with(
        self: &Arc<Self>,
        account: &Account,
        host: &str,
    ) -> Result<(CachedCert, String, String), OrderError> {
        let identifiers = [Identifier::Dns(host.to_string())];
        let mut remaining = self.config.challenge_preference.clone();
        let mut failures: Vec<String> = Vec::new();

        let mut order = 'attempts: loop {
            let mut order = match account.new_order(&NewOrder::new(&identifiers)).await {
                Ok(order) => order,
                Err(e) if is_account_gone(&e) => return Err(OrderError::AccountGone(e)),
                Err(e) => return Err(anyhow!(e).context(format!("acme: {host}: creating the order")).into()),
            };

            // Provision one challenge per pending authorization; guards withdraw them on drop.
            let mut guards = Vec::new();
            let mut chosen = Vec::new();
            {
                let mut authorizations = order.authorizations();
                while let Some(authz) = authorizations.next().await {
                    let mut authz =
                        authz.map_err(|e| anyhow!(e).context(format!("acme: {host}: fetching the authorization")))?;
                    match authz.status {
                        AuthorizationStatus::Valid => continue,
                        AuthorizationStatus::Pending => {}
                        status => {
                            return Err(anyhow!("acme: {host}: authorization {} is {status:?}", authz.url()).into())
                        }
                    }
                    let offered: Vec<ChallengeType> = authz.challenges.iter().map(|c| c.r#type.clone()).collect();
                    let kind = loop {
                        if remaining.is_empty() {
                            let mut msg = format!(
                                "acme: {host}: no usable challenge type (server offers {offered:?}, configured {:?})",
                                self.config.challenge_preference
                            );
                            if !failures.is_empty() {
                                msg.push_str(&format!("; earlier attempts: {}", failures.join("; ")));
                            }
                            return Err(anyhow!(msg).into());
                        }
                        let kind = remaining.remove(0);
                        if offered.contains(&kind.acme_type()) {
                            break kind;
                        }
                    };
                    let mut challenge = authz.challenge(kind.acme_type()).expect("challenge type checked above");
                    let key_authorization = challenge.key_authorization();
                    let guard = self
                        .provision(
                            kind,
                            host,
                            &challenge.token,
                            key_authorization.as_str(),
                            key_authorization.digest().as_ref(),
                        )
                        .map_err(|e| e.context(format!("acme: {host}: preparing the {kind} challenge response")))?;
                    guards.push(guard);
                    challenge.set_ready().await.map_err(|e| {
                        anyhow!(e).context(format!("acme: {host}: telling the CA the {kind} challenge is ready"))
                    })?;
                    chosen.push(kind);
                }
            }

            let policy = RetryPolicy::new()
                .initial_delay(Duration::from_millis(250))
                .backoff(1.5)
                .timeout(self.config.order_timeout);
            let status = order.poll_ready(&policy).await;
            drop(guards);
            match status {
                Ok(OrderStatus::Ready) => break 'attempts order,
                Ok(_) | Err(instant_acme::Error::Api(_)) => {
                    // Validation failed: collect the CA's reasons, then try the next type.
                    let mut reasons: Vec<String> = Vec::new();
                    let mut authorizations = order.authorizations();
                    while let Some(Ok(mut authz)) = authorizations.next().await {
                        if authz.refresh().await.is_ok() {
                            for c in &authz.challenges {
                                if let Some(err) = &c.error {
                                    reasons.push(err.to_string());
                                }
                            }
                        }
                    }
                    if reasons.is_empty() {
                        reasons.push(match &status {
                            Err(e) => e.to_string(),
                            Ok(_) => "the order became invalid".to_string(),
                        });
                    }
                    let kinds: Vec<String> = chosen.iter().map(|k| k.to_string()).collect();
                    failures.push(format!("{} validation failed: {}", kinds.join("+"), reasons.join(", ")));
                    if remaining.is_empty() || chosen.is_empty() {
                        return Err(anyhow!("acme: {host}: {}", failures.join("; ")).into());
                    }
                }
                Err(e) => {
                    return Err(anyhow!(e)
                        .context(format!("acme: {host}: waiting for the order to become ready"))
                        .into())
                }
            }
        };

        // Finalize with a fresh P-256 key (autocert's default key type).
        let key = rcgen::KeyPair::generate()
            .map_err(|e| anyhow!(e).context(format!("acme: {host}: generating the certificate key")))?;
        let mut params = rcgen::CertificateParams::new(vec![host.to_string()])
            .map_err(|e| anyhow!(e).context(format!("acme: {host}: building the CSR")))?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        let csr = params
            .serialize_request(&key)
            .map_err(|e| anyhow!(e).context(format!("acme: {host}: building the CSR")))?;
        order
            .finalize_csr(csr.der())
            .await
            .map_err(|e| anyhow!(e).context(format!("acme: {host}: finalizing the order")))?;
        let policy = RetryPolicy::new()
            .initial_delay(Duration::from_millis(250))
            .backoff(1.5)
            .timeout(self.config.order_timeout);
        let chain_pem = order
            .poll_certificate(&policy)
            .await
            .map_err(|e| anyhow!(e).context(format!("acme: {host}: downloading the certificate")))?;
        let key_pem = key.serialize_pem();
        let cert = parse_cached_cert(host, format!("{key_pem}{chain_pem}").as_bytes())
            .with_context(|| format!("acme: {host}: the CA returned an unusable certificate"))?;
        Ok((cert, key_pem, chain_pem))
    }

    fn provision(
        self: &Arc<Self>,
        kind: ChallengeKind,
        host: &str,
        token: &str,
        key_authorization: &str,
        digest: &[u8],
    ) -> anyhow::Result<ChallengeGuard> {
        match kind {
            ChallengeKind::Http01 => {
                self.http01.write().unwrap().insert(token.to_string(), key_authorization.to_string());
                Ok(ChallengeGuard { inner: self.clone(), kind, key: token.to_string() })
            }
            ChallengeKind::TlsAlpn01 => {
                let cert = tls_alpn01_challenge_cert(host, digest)?;
                self.tls_alpn01.write().unwrap().insert(host.to_string(), Arc::new(cert));
                Ok(ChallengeGuard { inner: self.clone(), kind, key: host.to_string() })
            }
        }
    }

    async fn account(&self) -> anyhow::Result<Account> {
        let mut slot = self.account.lock().await;
        if let Some(account) = slot.as_ref() {
            return Ok(account.clone());
        }
        let account = self.load_or_create_account().await?;
        *slot = Some(account.clone());
        Ok(account)
    }

    async fn forget_account(&self, why: &instant_acme::Error) {
        let mut slot = self.account.lock().await;
        *slot = None;
        let path = self.config.scoped_dir.join(ACCOUNT_CREDENTIALS_FILE);
        let _ = tokio::fs::remove_file(&path).await;
        crate::log_warn!("ACME account unknown to the directory; registering it again", "directory" => self.config.directory_url, "error" => why.to_string());
    }

    fn account_builder(&self) -> anyhow::Result<AccountBuilder> {
        match &self.config.directory_roots_pem {
            None => Account::builder().context("initializing the platform TLS verifier"),
            Some(pem) => Ok(Account::builder_with_http(Box::new(RootsHttpClient::new(pem)?))),
        }
    }

    async fn load_or_create_account(&self) -> anyhow::Result<Account> {
        let dir = &self.config.scoped_dir;
        create_private_dir(dir).await?;
        let url = self.config.directory_url.clone();
        let creds_path = dir.join(ACCOUNT_CREDENTIALS_FILE);
        let key_path = dir.join(ACCOUNT_KEY_FILE);

        // 1. Our own record of the account: no registration round trip.
        if let Some(data) = read_optional(&creds_path).await? {
            if let Ok(creds) = serde_json::from_slice::<AccountCredentials>(&data) {
                return self
                    .account_builder()?
                    .from_credentials(creds)
                    .await
                    .with_context(|| format!("restoring the cached ACME account ({})", creds_path.display()));
            }
        }

        // 2. A key only (autocert's cache, or ours after the CA forgot the account): register it;
        //    the CA returns the existing account for a known key.
        if let Some(data) = read_optional(&key_path).await? {
            let pkcs8 = parse_account_key(&data)
                .with_context(|| format!("reading the ACME account key {}", key_path.display()))?;
            let key = instant_acme::Key::from_pkcs8_der(pkcs8.clone_key())
                .map_err(|e| anyhow!(e))
                .with_context(|| format!("loading the ACME account key {}", key_path.display()))?;
            let (account, creds) = self
                .account_builder()?
                .create_from_key((key, PrivateKeyDer::Pkcs8(pkcs8)), url)
                .await
                .context("registering the ACME account (cached key, terms of service agreed)")?;
            self.save_credentials(&creds_path, &creds).await;
            return Ok(account);
        }

        // 3. A new account.
        let (account, creds) = self
            .account_builder()?
            .create(&NewAccount { contact: &[], terms_of_service_agreed: true, only_return_existing: false }, url, None)
            .await
            .context("creating an ACME account (terms of service agreed)")?;
        let key = rcgen::KeyPair::try_from(creds.private_key().secret_pkcs8_der())
            .context("encoding the new ACME account key")?;
        write_private_file(&key_path, key.serialize_pem().as_bytes())
            .await
            .with_context(|| format!("caching the ACME account key in {}", key_path.display()))?;
        self.save_credentials(&creds_path, &creds).await;
        Ok(account)
    }

    async fn save_credentials(&self, path: &Path, creds: &AccountCredentials) {
        let result = match serde_json::to_vec(creds) {
            Ok(json) => write_private_file(path, &json).await,
            Err(e) => Err(e.into()),
        };
        if let Err(e) = result {
            // Not fatal: the account is found again from its key next time.
            crate::log_warn!("Caching the ACME account failed", "path" => path.display().to_string(), "error" => format!("{e:#}"));
        }
    }
}

enum OrderError {
    AccountGone(instant_acme::Error),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for OrderError {
    fn from(e: anyhow::Error) -> Self {
        OrderError::Other(e)
    }
}

impl OrderError {
    fn into_anyhow(self) -> anyhow::Error {
        match self {
            OrderError::AccountGone(e) => anyhow!(e).context("the ACME account is unknown to the CA"),
            OrderError::Other(e) => e,
        }
    }
}

fn is_account_gone(e: &instant_acme::Error) -> bool {
    matches!(e, instant_acme::Error::Api(p)
        if p.r#type.as_deref() == Some("urn:ietf:params:acme:error:accountDoesNotExist"))
}

/// Withdraws a provisioned challenge response when the attempt is over.
struct ChallengeGuard {
    inner: Arc<Inner>,
    kind: ChallengeKind,
    key: String,
}

impl Drop for ChallengeGuard {
    fn drop(&mut self) {
        match self.kind {
            ChallengeKind::Http01 => {
                self.inner.http01.write().unwrap().remove(&self.key);
            }
            ChallengeKind::TlsAlpn01 => {
                self.inner.tls_alpn01.write().unwrap().remove(&self.key);
            }
        }
    }
}

/// RFC 8737 §3: self-signed, SAN = the host, critical acmeIdentifier = SHA-256(key authorization).
fn tls_alpn01_challenge_cert(host: &str, digest: &[u8]) -> anyhow::Result<CertifiedKey> {
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(vec![host.to_string()])?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.custom_extensions.push(rcgen::CustomExtension::new_acme_identifier(digest));
    let cert = params.self_signed(&key)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let signer = rustls::crypto::ring::sign::any_supported_type(&key_der)?;
    Ok(CertifiedKey::new(vec![cert.der().clone()], signer))
}

/// A cache file (or a fresh download): a PEM private key and the PEM chain, leaf first.
/// Checks the key matches the leaf and the leaf covers `host`.
fn parse_cached_cert(host: &str, pem: &[u8]) -> anyhow::Result<CachedCert> {
    let mut key: Option<PrivateKeyDer<'static>> = None;
    let mut chain: Vec<CertificateDer<'static>> = Vec::new();
    for item in rustls_pemfile::read_all(&mut &pem[..]) {
        match item.context("malformed PEM")? {
            rustls_pemfile::Item::Pkcs8Key(k) if key.is_none() => key = Some(k.into()),
            rustls_pemfile::Item::Sec1Key(k) if key.is_none() => key = Some(k.into()),
            rustls_pemfile::Item::Pkcs1Key(k) if key.is_none() => key = Some(k.into()),
            rustls_pemfile::Item::X509Certificate(c) => chain.push(c),
            _ => {}
        }
    }
    let key = key.context("no private key")?;
    let leaf_der = chain.first().context("no certificate")?.clone();
    let signer = rustls::crypto::ring::sign::any_supported_type(&key).context("unsupported private key")?;
    let certified = CertifiedKey::new(chain, signer);
    match certified.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(e) => bail!("private key does not match the certificate: {e}"),
    }

    let (_, leaf) =
        x509_parser::parse_x509_certificate(&leaf_der).map_err(|e| anyhow!("unparsable certificate: {e}"))?;
    let names: Vec<String> = match leaf.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                x509_parser::extensions::GeneralName::DNSName(d) => Some(normalize_host(d)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    if !names.iter().any(|n| n == host) {
        bail!("certificate is for {names:?}, not {host}");
    }
    let validity = leaf.validity();
    let not_before = unix_time(validity.not_before.timestamp());
    let not_after = unix_time(validity.not_after.timestamp());
    let lifetime = not_after.duration_since(not_before).unwrap_or_default();
    Ok(CachedCert { key: Arc::new(certified), not_after, renew_at: not_after - lifetime / 3 })
}

fn unix_time(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

/// The account key as PKCS#8: ours are PKCS#8 ("PRIVATE KEY"), autocert writes SEC1
/// ("EC PRIVATE KEY", P-256), which is wrapped into PKCS#8 here.
fn parse_account_key(pem: &[u8]) -> anyhow::Result<PrivatePkcs8KeyDer<'static>> {
    for item in rustls_pemfile::read_all(&mut &pem[..]) {
        match item.context("malformed PEM")? {
            rustls_pemfile::Item::Pkcs8Key(k) => return Ok(k),
            rustls_pemfile::Item::Sec1Key(k) => {
                return Ok(PrivatePkcs8KeyDer::from(sec1_p256_to_pkcs8(k.secret_sec1_der())))
            }
            _ => {}
        }
    }
    bail!("no PKCS#8 or SEC1 private key found")
}

/// PKCS#8 `PrivateKeyInfo { version 0, AlgorithmIdentifier { id-ecPublicKey, prime256v1 },
/// OCTET STRING { ECPrivateKey } }` around a SEC1 P-256 key (as rustls does for SEC1 keys).
fn sec1_p256_to_pkcs8(sec1: &[u8]) -> Vec<u8> {
    const PREFIX: &[u8] = &[
        0x02, 0x01, 0x00, // version 0
        0x30, 0x13, // AlgorithmIdentifier
        0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, // id-ecPublicKey
        0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, // prime256v1
    ];
    let mut body = PREFIX.to_vec();
    body.extend(der_wrap(0x04, sec1));
    der_wrap(0x30, &body)
}

fn der_wrap(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn normalize_host(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The name becomes a cache file name: only DNS-name characters, no empty labels.
fn validate_host(host: &str) -> anyhow::Result<()> {
    let ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if !ok {
        bail!("acme: host {host:?} is not a valid DNS name");
    }
    Ok(())
}

async fn read_optional(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match tokio::fs::read(path).await {
        Ok(data) => Ok(Some(data)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow!(e).context(format!("reading {}", path.display()))),
    }
}

async fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = tokio::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir).await.with_context(|| format!("creating the ACME cache directory {}", dir.display()))
}

/// Writes atomically (temporary file + rename), mode 0600; creates the directory.
async fn write_private_file(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    let dir = path.parent().context("cache path has no directory")?;
    create_private_dir(dir).await?;
    let name = path.file_name().context("cache path has no file name")?.to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let result = async {
        let mut file = options.open(&tmp).await?;
        file.write_all(data).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&tmp, path).await
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result.with_context(|| format!("writing {}", path.display()))
}

/// HTTPS client for the directory that trusts extra roots besides the system bundle: one
/// HTTP/1.1 connection per request (an order takes a dozen or so), each bounded in time.
struct RootsHttpClient {
    tls: tokio_rustls::TlsConnector,
}

impl RootsHttpClient {
    fn new(extra_roots_pem: &[u8]) -> anyhow::Result<Self> {
        // Bundles (SSL_CERT_FILE and the like) may hold certificates webpki can't use: skip those.
        let mut roots = rustls::RootCertStore::empty();
        let certs: Vec<_> = rustls_pemfile::certs(&mut &extra_roots_pem[..])
            .collect::<Result<_, _>>()
            .context("malformed directory root PEM")?;
        let (added, _ignored) = roots.add_parsable_certificates(certs);
        if added == 0 {
            bail!("no usable certificate in the directory root PEM");
        }
        for bundle in system_root_bundles() {
            if let Ok(pem) = std::fs::read(&bundle) {
                let mut reader = &pem[..];
                let certs = rustls_pemfile::certs(&mut reader).filter_map(Result::ok);
                roots.add_parsable_certificates(certs);
                break;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self { tls: tokio_rustls::TlsConnector::from(Arc::new(config)) })
    }
}

fn system_root_bundles() -> Vec<PathBuf> {
    // SSL_CERT_FILE is not read here: the caller passes it as the extra roots, and the system
    // bundle must still be trusted next to it (a private CA must not hide Let's Encrypt's).
    let mut paths = Vec::new();
    for p in [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem",
        "/etc/ssl/cert.pem",
    ] {
        paths.push(PathBuf::from(p));
    }
    paths
}

impl HttpClient for RootsHttpClient {
    fn request(
        &self,
        req: http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let tls = self.tls.clone();
        Box::pin(async move {
            let uri = req.uri().clone();
            match tokio::time::timeout(HTTP_REQUEST_TIMEOUT, send_request(tls, req)).await {
                Ok(Ok(rsp)) => Ok(rsp),
                Ok(Err(e)) => Err(instant_acme::Error::Other(format!("{uri}: {e:#}").into())),
                Err(_) => Err(instant_acme::Error::Other(
                    format!("{uri}: no response within {HTTP_REQUEST_TIMEOUT:?}").into(),
                )),
            }
        })
    }
}

async fn send_request(
    tls: tokio_rustls::TlsConnector,
    req: http::Request<BodyWrapper<Bytes>>,
) -> anyhow::Result<BytesResponse> {
    let (mut parts, body) = req.into_parts();
    if parts.uri.scheme_str() != Some("https") {
        bail!("only https:// ACME URLs are supported");
    }
    let authority = parts.uri.authority().context("URL has no host")?.clone();
    let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_string();
    let port = authority.port_u16().unwrap_or(443);

    let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await.context("connecting")?;
    let _ = tcp.set_nodelay(true);
    let server_name = ServerName::try_from(host).context("invalid server name")?;
    let stream = tls.connect(server_name, tcp).await.context("TLS handshake")?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.context("HTTP handshake")?;
    tokio::spawn(async move {
        let _ = connection.await;
    });

    // hyper's connection-level client sends the URI as given: use origin-form plus Host.
    let path = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".to_string());
    parts.uri = path.parse().context("invalid URL path")?;
    if !parts.headers.contains_key(http::header::HOST) {
        parts
            .headers
            .insert(http::header::HOST, http::HeaderValue::from_str(authority.as_str()).context("invalid host")?);
    }
    let rsp = sender.send_request(http::Request::from_parts(parts, body)).await.context("sending the request")?;
    let (parts, body) = rsp.into_parts();
    let body = body.collect().await.context("reading the response")?.to_bytes();
    Ok(BytesResponse::from(http::Response::from_parts(parts, Full::new(body))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sec1_account_keys_are_converted_to_pkcs8() {
        // What autocert (Go's x509.MarshalECPrivateKey) and `openssl ecparam -genkey` write:
        // SEC1 with the curve parameters and the public key.
        const AUTOCERT_KEY: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEICx5I2j6YK3iM34z3WRacwhgoSPTFpIOnrKnYrpQ7JFIoAoGCCqGSM49
AwEHoUQDQgAE36VTXJIIT7Akwb4FLz/xk+83sxtr2wypKMlIwvH21ESA7DyKi2xP
OrhCOynNANc42SK64sPluRw7FCYtlNLHUw==
-----END EC PRIVATE KEY-----
";
        let pkcs8 = parse_account_key(AUTOCERT_KEY.as_bytes()).unwrap();
        assert!(instant_acme::Key::from_pkcs8_der(pkcs8).is_ok());

        let ours = rcgen::KeyPair::generate().unwrap().serialize_pem();
        let pkcs8 = parse_account_key(ours.as_bytes()).unwrap();
        assert!(instant_acme::Key::from_pkcs8_der(pkcs8).is_ok());
    }

    #[test]
    fn default_directory_client_builds() {
        // Production path: instant-acme's client with the platform verifier (ring provider).
        let manager = AcmeManager::new(std::env::temp_dir(), LETS_ENCRYPT_STAGING.to_string(), vec![]);
        assert!(manager.inner.account_builder().is_ok());
        let custom = manager.with_directory_root_pem(b"not a certificate".to_vec());
        assert!(custom.inner.account_builder().is_err());
    }

    #[test]
    fn host_names_are_normalized_and_validated() {
        assert_eq!(normalize_host("WWW.Example.COM."), "www.example.com");
        assert!(validate_host("www.example.com").is_ok());
        assert!(validate_host("../etc/passwd").is_err());
        assert!(validate_host("a..b").is_err());
        assert!(validate_host("").is_err());
    }

    #[test]
    fn der_lengths() {
        assert_eq!(der_wrap(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = vec![0u8; 200];
        let w = der_wrap(0x30, &long);
        assert_eq!(&w[..3], &[0x30, 0x81, 200]);
    }
}
