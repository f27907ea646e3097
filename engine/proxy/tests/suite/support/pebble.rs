//! Test support: Debian's `pebble` ACME test server (`apt-get install -y pebble`) on loopback
//! with its own HTTPS certificate, and a tiny DNS responder that answers every A query with
//! 127.0.0.1 (pebble is started with `-dnsserver` pointing at it), so that pebble validates
//! challenges for any name against loopback ports (`httpPort`, `tlsPort` in its config).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

/// The pebble binary: `PEBBLE_BIN`, else `pebble` on `PATH`.
pub fn find_pebble() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PEBBLE_BIN") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("pebble")).find(|p| p.is_file())
}

/// Starts a DNS responder (UDP, on the current runtime) answering every A query with
/// 127.0.0.1 and every other query with no records.
pub async fn start_dns() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        loop {
            let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
                return;
            };
            if let Some(reply) = dns_reply(&buf[..n]) {
                let _ = socket.send_to(&reply, peer).await;
            }
        }
    });
    addr
}

fn dns_reply(query: &[u8]) -> Option<Vec<u8>> {
    if query.len() < 12 || u16::from_be_bytes([query[4], query[5]]) != 1 {
        return None;
    }
    // Skip the question name, then read QTYPE and QCLASS.
    let mut i = 12;
    loop {
        let len = *query.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        if len & 0xc0 != 0 {
            return None;
        }
        i += len;
    }
    let question_end = i + 4;
    let question = query.get(12..question_end)?;
    let qtype = u16::from_be_bytes([query[i], query[i + 1]]);

    let mut reply = Vec::with_capacity(question_end + 16);
    reply.extend_from_slice(&query[0..2]); // ID
    reply.push(0x84 | (query[2] & 0x01)); // QR, AA, RD copied
    reply.push(0x00); // RA=0, RCODE=NOERROR
    reply.extend_from_slice(&[0, 1]); // QDCOUNT
    reply.extend_from_slice(&[0, u8::from(qtype == 1)]); // ANCOUNT
    reply.extend_from_slice(&[0, 0, 0, 0]); // NSCOUNT, ARCOUNT
    reply.extend_from_slice(question);
    if qtype == 1 {
        reply.extend_from_slice(&[0xc0, 0x0c]); // name: pointer to the question
        reply.extend_from_slice(&[0, 1, 0, 1]); // A, IN
        reply.extend_from_slice(&[0, 0, 0, 60]); // TTL
        reply.extend_from_slice(&[0, 4, 127, 0, 0, 1]);
    }
    Some(reply)
}

/// pebble's own HTTPS certificate (directory and management API), made before pebble starts so
/// that a client (e.g. `kamal-proxy run`, via `SSL_CERT_FILE`) can be told to trust `ca_path`
/// first.
pub struct PebbleTls {
    dir: tempfile::TempDir,
    /// The CA that signed pebble's HTTPS certificate (PEM).
    pub ca_pem: String,
    /// `ca_pem`, written to a file.
    pub ca_path: PathBuf,
    cert_path: PathBuf,
    key_path: PathBuf,
}

impl PebbleTls {
    pub fn generate() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "wharf pebble test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        let ca_path = dir.path().join("pebble-ca.pem");
        let cert_path = dir.path().join("cert.pem");
        let key_path = dir.path().join("key.pem");
        std::fs::write(&ca_path, ca_cert.pem()).unwrap();
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        PebbleTls { dir, ca_pem: ca_cert.pem(), ca_path, cert_path, key_path }
    }
}

/// A pebble process on loopback; killed on drop.
pub struct Pebble {
    child: Option<Child>,
    tls: PebbleTls,
    pub log: PathBuf,
    pub listen_port: u16,
    pub management_port: u16,
    /// The CA of pebble's own HTTPS certificate (directory and management API).
    pub tls_ca_pem: String,
}

impl Pebble {
    /// Starts pebble, validating HTTP-01 on `http_port` and TLS-ALPN-01 on `tls_port` (of the
    /// name's address, 127.0.0.1), and waits until it serves its directory.
    pub async fn start(bin: &Path, dns: SocketAddr, http_port: u16, tls_port: u16) -> Pebble {
        Self::start_with_tls(bin, dns, http_port, tls_port, PebbleTls::generate()).await
    }

    /// `start`, with HTTPS certificate material made beforehand.
    pub async fn start_with_tls(bin: &Path, dns: SocketAddr, http_port: u16, tls_port: u16, tls: PebbleTls) -> Pebble {
        let dir = tls.dir.path().to_path_buf();
        let listen_port = super::free_port();
        let management_port = super::free_port();
        let config = serde_json::json!({
            "pebble": {
                "listenAddress": format!("127.0.0.1:{listen_port}"),
                "managementListenAddress": format!("127.0.0.1:{management_port}"),
                "certificate": tls.cert_path,
                "privateKey": tls.key_path,
                "httpPort": http_port,
                "tlsPort": tls_port,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false
            }
        });
        let config_path = dir.join("pebble-config.json");
        std::fs::write(&config_path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
        let log = dir.join("pebble.log");
        let log_file = std::fs::File::create(&log).unwrap();

        let child = Command::new(bin)
            .arg("-config")
            .arg(&config_path)
            .arg("-dnsserver")
            .arg(dns.to_string())
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .env("PEBBLE_AUTHZREUSE", "0")
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let tls_ca_pem = tls.ca_pem.clone();
        let mut pebble = Pebble { child: Some(child), tls, log, listen_port, management_port, tls_ca_pem };
        pebble.wait_ready().await;
        pebble
    }

    /// The ACME directory URL.
    pub fn directory_url(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.listen_port)
    }

    /// The file holding `tls_ca_pem`.
    pub fn tls_ca_path(&self) -> &Path {
        &self.tls.ca_path
    }

    async fn wait_ready(&mut self) {
        let client = self.client();
        let url = self.directory_url();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                self.fail(&format!("pebble exited early: {status}"));
            }
            if let Ok(rsp) = client.get(&url).send().await {
                if rsp.status().is_success() {
                    return;
                }
            }
            if Instant::now() > deadline {
                self.fail("pebble did not serve its directory within 20s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// An HTTPS client trusting pebble's own certificate.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(self.tls_ca_pem.as_bytes()).unwrap())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
    }

    /// The root of the certificates pebble issues (it makes a new one at every start).
    pub async fn root_pem(&self) -> Vec<u8> {
        let url = format!("https://127.0.0.1:{}/roots/0", self.management_port);
        let rsp = self.client().get(&url).send().await.unwrap_or_else(|e| self.fail(&format!("GET {url}: {e}")));
        assert!(rsp.status().is_success(), "GET {url}: {}", rsp.status());
        rsp.bytes().await.unwrap().to_vec()
    }

    /// Kills pebble and waits for it (idempotent).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics with `what` and pebble's log.
    pub fn fail(&self, what: &str) -> ! {
        panic!("{what}\n--- pebble log ---\n{}", self.log());
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        self.stop();
    }
}
