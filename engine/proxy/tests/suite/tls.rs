//! HTTPS with a static certificate, end to end: HTTP/2 over TLS, redirects from HTTP, and bad
//! certificates refused without touching the running service.

use crate::support::*;
use std::time::Duration;

struct Pki {
    ca_pem: String,
    cert_path: std::path::PathBuf,
    key_path: std::path::PathBuf,
}

fn make_pki(dir: &std::path::Path, host: &str) -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "wharf test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec![host.to_string()]).unwrap().signed_by(&key, &issuer).unwrap();
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    Pki { ca_pem: ca_cert.pem(), cert_path, key_path }
}

fn https_client(proxy: &Proxy, pki: &Pki, host: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap())
        .resolve(host, ([127, 0, 0, 1], proxy.https_port).into())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_certificate_serves_http2_and_redirects_http() {
    let proxy = Proxy::start();
    let a = Backend::start("A").await;
    let pki = make_pki(proxy.dir.path(), "secure.test");
    proxy.ok(&[
        "deploy",
        "app",
        &a.target(),
        "--host=secure.test",
        "--tls",
        &format!("--tls-certificate-path={}", pki.cert_path.display()),
        &format!("--tls-private-key-path={}", pki.key_path.display()),
    ]);
    let https = https_client(&proxy, &pki, "secure.test");
    let r = https.get(format!("https://secure.test:{}/echo", proxy.https_port)).send().await.unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2, "HTTP/2 negotiated over TLS");
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["name"], "A");
    assert_eq!(e["headers"]["x-forwarded-proto"], "https");

    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = plain.get(proxy.url("/path?q=1")).header("host", "secure.test").send().await.unwrap();
    assert_eq!(r.status(), 301);
    assert_eq!(r.headers()["location"], "https://secure.test/path?q=1");

    // Without --tls-redirect, plain HTTP is served as well.
    proxy.ok(&[
        "deploy",
        "app",
        &a.target(),
        "--host=secure.test",
        "--tls",
        "--tls-redirect=false",
        &format!("--tls-certificate-path={}", pki.cert_path.display()),
        &format!("--tls-private-key-path={}", pki.key_path.display()),
    ]);
    let r = plain.get(proxy.url("/")).header("host", "secure.test").send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "A");
    assert!(proxy.ok(&["list"]).contains("yes"));

    // An unknown server name gets no certificate.
    let other = https_client(&proxy, &pki, "other.test");
    assert!(other.get(format!("https://other.test:{}/", proxy.https_port)).send().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_certificates_are_refused_and_nothing_changes() {
    let proxy = Proxy::start();
    let a = Backend::start("A").await;
    let b = Backend::start("B").await;
    let pki = make_pki(proxy.dir.path(), "secure.test");
    let tls_args = |cert: &str, key: &str| {
        vec![
            "--host=secure.test".to_string(),
            "--tls".into(),
            format!("--tls-certificate-path={cert}"),
            format!("--tls-private-key-path={key}"),
        ]
    };
    let ok_args = tls_args(&pki.cert_path.display().to_string(), &pki.key_path.display().to_string());
    let mut args = vec!["deploy".to_string(), "app".into(), a.target()];
    args.extend(ok_args);
    proxy.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let state = std::fs::read(proxy.state_path()).unwrap();

    let garbage = proxy.dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let other_key = proxy.dir.path().join("other-key.pem");
    std::fs::write(&other_key, rcgen::KeyPair::generate().unwrap().serialize_pem()).unwrap();
    let cases = [
        (garbage.display().to_string(), pki.key_path.display().to_string(), "Error: unable to parse TLS certificate"),
        (
            "/nonexistent/cert.pem".into(),
            pki.key_path.display().to_string(),
            "Error: unable to read TLS certificate /nonexistent/cert.pem",
        ),
        (pki.cert_path.display().to_string(), other_key.display().to_string(), "does not match private key"),
    ];
    for (cert, key, expected) in cases {
        let mut args = vec!["deploy".to_string(), "app".into(), b.target()];
        args.extend(tls_args(&cert, &key));
        let out = proxy.cli(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains(expected), "{} does not contain {expected}", stderr(&out));
    }
    let out = proxy.cli(&["deploy", "app", &b.target(), "--tls-certificate-path=/x.pem"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("Error: "), "{}", stderr(&out));
    assert_eq!(std::fs::read(proxy.state_path()).unwrap(), state, "state untouched");
    let https = https_client(&proxy, &pki, "secure.test");
    let r = https.get(format!("https://secure.test:{}/", proxy.https_port)).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "A");
}
