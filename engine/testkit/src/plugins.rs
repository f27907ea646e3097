//! Plugin sources for tests (the plugin store's and the CLI's): the example secrets adapter
//! built for wasm32-wasip2 (under `target/wasm-guests`, like the plugin host's tests), an HTTPS
//! file server on loopback with its own CA, and a private `docker-registry` on a free loopback
//! port.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Where guest builds go: `<target>/wasm-guests` (`$CARGO_TARGET_DIR`, else the workspace's
/// `target`), beside the host's own builds.
pub fn guest_target_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo().join("target"));
    target.join("wasm-guests")
}

fn cargo_build(manifest: &Path, target_dir: &Path) -> std::process::Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    Command::new(cargo)
        .args(["build", "--release", "--target", "wasm32-wasip2", "--manifest-path"])
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir)
        // Whatever the outer build was given is for the host, not for wasm.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .expect("run cargo")
}

/// Builds the guest crate (or workspace) `manifest` (relative to the repository) for
/// wasm32-wasip2 in release mode under [`guest_target_dir`] (adding the target with rustup if
/// it is missing; cargo's lock serializes concurrent test binaries); the directory holding the
/// `.wasm` files.
pub fn build_guest(manifest: &str) -> PathBuf {
    let target = guest_target_dir();
    let path = repo().join(manifest);
    let mut out = cargo_build(&path, &target);
    if !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("target may not be installed") {
        let _ = Command::new("rustup").args(["target", "add", "wasm32-wasip2"]).status();
        out = cargo_build(&path, &target);
    }
    assert!(
        out.status.success(),
        "building {manifest} for wasm32-wasip2 failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("wasm32-wasip2/release")
}

/// The example adapter's component (`examples/secrets-adapter`), built once per process.
pub fn adapter_wasm() -> Vec<u8> {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    let path = PATH.get_or_init(|| build_guest("examples/secrets-adapter/Cargo.toml").join("file_secrets.wasm"));
    std::fs::read(path).unwrap()
}

/// The example adapter's `plugin.toml` text.
pub fn adapter_manifest() -> String {
    std::fs::read_to_string(repo().join("examples/secrets-adapter/plugin.toml")).unwrap()
}

/// The example adapter as a plugin directory (`plugin.toml` + `file-secrets.wasm`) in `dir`.
pub fn adapter_dir(dir: &Path) -> PathBuf {
    let d = dir.join("file-secrets");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("plugin.toml"), adapter_manifest()).unwrap();
    std::fs::write(d.join("file-secrets.wasm"), adapter_wasm()).unwrap();
    d
}

/// A CA and a certificate for `localhost`/`127.0.0.1` signed by it.
pub struct TestCa {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

pub fn test_ca() -> TestCa {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "wharf plugin-store test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    TestCa { ca_pem: ca_cert.pem(), cert_pem: cert.pem(), key_pem: key.serialize_pem() }
}

/// An HTTPS server on 127.0.0.1 serving `files` (path -> bytes); 404 otherwise. It runs on
/// its own thread and runtime until the process ends.
pub struct HttpsServer {
    pub base: String,
    pub ca_pem: String,
}

pub fn https_server(files: Vec<(String, Vec<u8>)>) -> HttpsServer {
    let ca = test_ca();
    use rustls::pki_types::pem::PemObject;
    let certs: Vec<rustls::pki_types::CertificateDer<'static>> =
        rustls::pki_types::CertificateDer::pem_slice_iter(ca.cert_pem.as_bytes()).map(|c| c.unwrap()).collect();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(ca.key_pem.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let std_listener = StdListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let port = std_listener.local_addr().unwrap().port();
    let files = Arc::new(files);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = TcpListener::from_std(std_listener).unwrap();
            loop {
                let Ok((tcp, _)) = listener.accept().await else { continue };
                let acceptor = acceptor.clone();
                let files = files.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let files = files.clone();
                        async move {
                            let found = files.iter().find(|(p, _)| p == req.uri().path()).map(|(_, b)| b.clone());
                            let resp = match found {
                                Some(b) => hyper::Response::new(Full::new(Bytes::from(b))),
                                None => {
                                    let mut r = hyper::Response::new(Full::new(Bytes::from_static(b"not found")));
                                    *r.status_mut() = hyper::StatusCode::NOT_FOUND;
                                    r
                                }
                            };
                            Ok::<_, std::convert::Infallible>(resp)
                        }
                    });
                    let _ =
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).await;
                });
            }
        });
    });
    HttpsServer { base: format!("https://127.0.0.1:{port}"), ca_pem: ca.ca_pem }
}

/// A private registry (Debian's `docker-registry`) on a free loopback port, with its storage in
/// a temporary directory; stopped when dropped.
pub struct TestRegistry {
    child: Child,
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A registry without authentication.
pub fn registry() -> TestRegistry {
    start_registry(None)
}

/// A registry that wants Basic credentials (htpasswd, bcrypt) for `user`/`password`.
pub fn registry_with_login(user: &str, password: &str) -> TestRegistry {
    start_registry(Some((user, password)))
}

fn start_registry(login: Option<(&str, &str)>) -> TestRegistry {
    let bin = ["/usr/bin/docker-registry", "/usr/sbin/docker-registry"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("docker-registry is not installed (scripts/install-deps installs it)");
    for _attempt in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let port = crate::free_port();
        let addr = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        let mut yaml = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
            dir.path().join("storage").display()
        );
        if let Some((user, password)) = login {
            let htpasswd = dir.path().join("htpasswd");
            std::fs::write(&htpasswd, format!("{user}:{}\n", bcrypt::hash(password, 4).unwrap())).unwrap();
            yaml.push_str(&format!("auth:\n  htpasswd:\n    realm: wharf-test\n    path: {}\n", htpasswd.display()));
        }
        std::fs::write(&config, yaml).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new(bin)
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let mut reg = TestRegistry { child, addr: addr.clone(), _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = reg.child.try_wait() {
                break; // the port was taken meanwhile: try another
            }
            if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
                use std::io::{Read, Write};
                let _ = s.write_all(format!("GET /v2/ HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes());
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200") || buf.contains(" 401 ") {
                    return reg;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = reg.child.kill();
    }
    panic!("docker-registry did not start");
}
