//! `proxy reboot --zero-downtime` on real servers (Wharf; docs/progressive-delivery.md): the
//! proxy is rebooted to a new version on two servers under continuous load, on HTTP (keep-alive
//! and new connections) and HTTPS, and no request fails; the servers are left as Kamal's reboot
//! leaves them (the new kamal-proxy with the same services and certificate, no handover container,
//! no rule); a new version that does not start leaves the running proxy as it was.

use crate::WHARF;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wharf_testkit::http_load::HttpLoad;
use wharf_testkit::lab::*;

const HOSTS_2: [&str; 2] = ["10.200.0.1", "10.200.0.2"];
const HOST_HEADER: &str = "handover.test";
const PROXY_IMAGE: &str = "localhost:5000/basecamp/kamal-proxy";

/// Runs `wharf remove -y` when dropped, so a failed test leaves nothing behind.
struct Removed<'a>(&'a AppDir);

impl Drop for Removed<'_> {
    fn drop(&mut self) {
        self.0.wharf(&["remove", "-y"]);
    }
}

/// GET https://HOST_HEADER/version on `host`, trusting only `cert`: the status and body.
fn https_get(host: &str, cert: &std::path::Path) -> (bool, String) {
    let curl = Command::new("curl")
        .args(["-sS", "-m", "5", "-w", "\n%{http_code}", "--resolve", &format!("{HOST_HEADER}:443:{host}")])
        .arg("--cacert")
        .arg(cert)
        .arg(format!("https://{HOST_HEADER}/version"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&curl.stdout).to_string();
    (curl.status.success() && text.ends_with("\n200"), format!("{text}{}", String::from_utf8_lossy(&curl.stderr)))
}

/// HTTPS requests on new connections to both servers until stopped: (answered, failures).
struct HttpsLoad {
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
    failures: Arc<Mutex<Vec<String>>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl HttpsLoad {
    fn start(cert: &std::path::Path) -> HttpsLoad {
        let (stop, answered, failures) = (Arc::new(AtomicBool::new(false)), Arc::default(), Arc::default());
        let threads = HOSTS_2
            .iter()
            .map(|host| {
                let (stop, answered, failures, cert): (Arc<AtomicBool>, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>, _) =
                    (stop.clone(), Arc::clone(&answered), Arc::clone(&failures), cert.to_path_buf());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        match https_get(host, &cert) {
                            (true, _) => {
                                answered.fetch_add(1, Ordering::Relaxed);
                            }
                            (false, what) => failures.lock().unwrap().push(format!("{host}: {what}")),
                        }
                    }
                })
            })
            .collect();
        HttpsLoad { stop, answered, failures, threads }
    }

    fn stop(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().unwrap();
        }
        let failures = self.failures.lock().unwrap().clone();
        (self.answered.load(Ordering::Relaxed), failures)
    }
}

/// What a host runs as its proxy: the kamal-proxy container's image, the handover containers
/// left, the handover rules left.
fn proxy_state(lab: &Lab, host: &str) -> (String, String, String) {
    (
        on_host(lab, host, "docker container inspect --format '{{.Config.Image}}' kamal-proxy"),
        on_host(lab, host, "docker ps -a --filter name=^kamal-proxy-handover$ --format '{{.Names}}'"),
        on_host(lab, host, "{ iptables -S; iptables -t nat -S; } | grep -c wharf-proxy-handover"),
    )
}

/// Removes the proxy image `tag` from the servers when dropped: other tests pick "the newest
/// other kamal-proxy image" on a server, which must not be this test's.
struct TaggedImage<'a>(&'a Lab, &'static str);

impl Drop for TaggedImage<'_> {
    fn drop(&mut self) {
        // Never a panic here: during a failed test's unwinding that would abort the whole suite.
        for host in HOSTS_2 {
            try_on_host(self.0, host, &format!("docker image rm -f {PROXY_IMAGE}:{} >/dev/null 2>&1", self.1));
        }
    }
}

/// The proxy image again as `tag` in the lab's registry, with a label of its own (so a different
/// image: another "version").
fn proxy_image_tagged(lab: &Lab, tag: &str) {
    let built = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -e; export DOCKER_HOST={}; printf 'FROM {PROXY_IMAGE}:v0.9.2\\nLABEL org.opencontainers.image.version={tag}\\n' | \
             DOCKER_BUILDKIT=0 docker build -q -t {PROXY_IMAGE}:{tag} - >/dev/null; docker push -q {PROXY_IMAGE}:{tag}",
            lab.var("HOSTLAB_DOCKER_HOST_1")
        ))
        .output()
        .unwrap();
    assert!(built.status.success(), "proxy image {tag}: {}", String::from_utf8_lossy(&built.stderr));
}

#[test]
fn proxy_reboot_to_a_new_version_under_load_fails_no_request() {
    let Some((_guard, lab)) = lab() else { return };
    proxy_image_tagged(lab, "v0.9.3");
    let _tagged = TaggedImage(lab, "v0.9.3");
    let app = AppDir::new(lab, WHARF);
    let _removed = Removed(&app);
    let tls = tempfile::tempdir().unwrap();
    let (cert, cert_pem, key_pem) = self_signed_certificate(tls.path(), HOST_HEADER);
    let secrets = std::fs::read_to_string(app.path().join(".kamal/secrets")).unwrap();
    app.write(
        ".kamal/secrets",
        &format!("{secrets}CERT=\"{}\"\nKEY=\"{}\"\n", cert_pem.trim_end(), key_pem.trim_end()),
    );
    let ssl = "  ssl:\n    certificate_pem: CERT\n    private_key_pem: KEY\n  ssl_redirect: false\n";
    let with_version = |version: &str| format!("    version: {version}\n{ssl}");
    app.write("config/deploy.yml", &deploy_yml("handover", HOST_HEADER, ssl, ""));
    let version = app.commit("deployed");
    app.ok(&["deploy"]);
    for host in HOSTS_2 {
        assert_eq!(curl(host, "/version", Some(HOST_HEADER)), (200, version.clone()), "{host}");
        assert_eq!(proxy_state(lab, host).0, format!("{PROXY_IMAGE}:v0.9.2"), "{host}");
    }

    // A new version that does not start: the error says so, and the running proxy is untouched.
    app.write("config/deploy.yml", &deploy_yml("handover", HOST_HEADER, &with_version("v0.0.404"), ""));
    let out = app.wharf(&["proxy", "reboot", "--zero-downtime", "-y"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("the new proxy did not start beside the running one"), "{err}");
    for host in HOSTS_2 {
        assert_eq!(
            proxy_state(lab, host),
            (format!("{PROXY_IMAGE}:v0.9.2"), String::new(), "0".to_string()),
            "{host} after the failed reboot"
        );
        assert_eq!(curl(host, "/version", Some(HOST_HEADER)), (200, version.clone()), "{host}");
    }

    // The new version, under load.
    app.write("config/deploy.yml", &deploy_yml("handover", HOST_HEADER, &with_version("v0.9.3"), ""));
    let addrs: Vec<SocketAddr> = HOSTS_2.iter().map(|h| format!("{h}:80").parse().unwrap()).collect();
    let load = HttpLoad::start(&addrs, HOST_HEADER, "/version", 4, Duration::from_secs(5));
    let https = HttpsLoad::start(&cert);
    load.until_answered(1_000, Duration::from_secs(60));
    let (before, started) = (load.answered(), std::time::Instant::now());
    let out = app.ok(&["proxy", "reboot", "--zero-downtime", "-y"]);
    let (during, took) = (load.answered() - before, started.elapsed());
    for host in HOSTS_2 {
        assert!(
            out.contains(&format!("[{host}] New connections to port 80, 443 go to kamal-proxy-handover")),
            "{host}: {out}"
        );
    }
    load.until_answered(10_000.max(load.answered() + 1_000), Duration::from_secs(120));
    let (https_answered, https_failures) = https.stop();
    let outcome = load.stop();
    eprintln!(
        "HTTP: {} answered ({during} during the {took:.1?} reboot), {} failed; HTTPS: {https_answered} answered, {} failed",
        outcome.answered,
        outcome.failures.len(),
        https_failures.len()
    );
    assert!(outcome.failures.is_empty(), "{} failed: {:?}", outcome.failures.len(), outcome.failures);
    assert!(https_failures.is_empty(), "HTTPS: {} failed: {https_failures:?}", https_failures.len());
    assert!(outcome.answered >= 10_000, "only {} requests", outcome.answered);
    assert!(during > 100, "the load ran during the reboot: {during} requests");
    assert!(https_answered > 10, "HTTPS load ran: {https_answered}");

    for host in HOSTS_2 {
        assert_eq!(
            proxy_state(lab, host),
            (format!("{PROXY_IMAGE}:v0.9.3"), String::new(), "0".to_string()),
            "{host}: the new kamal-proxy, nothing else"
        );
        let list = on_host(lab, host, "docker exec kamal-proxy kamal-proxy list");
        assert!(list.contains(HOST_HEADER), "{host}: the service carried over: {list}");
        let (ok, what) = https_get(host, &cert);
        assert!(ok && what.starts_with(&version), "{host}: the certificate carried over: {what}");
    }

    // Back to the first version, with Kamal's reboot (the same commands as Kamal's).
    app.write("config/deploy.yml", &deploy_yml("handover", HOST_HEADER, ssl, ""));
    app.ok(&["proxy", "reboot", "-y"]);
    for host in HOSTS_2 {
        assert_eq!(proxy_state(lab, host).0, format!("{PROXY_IMAGE}:v0.9.2"), "{host}");
        assert!(
            eventually(Duration::from_secs(10), || curl(host, "/version", Some(HOST_HEADER)) == (200, version.clone())),
            "{host}: the app answers after Kamal's reboot"
        );
    }
}

/// `x-wharf: upgrade_old_proxy`: a deploy that finds kamal-proxy older than Kamal requires
/// (Kamal: "kamal-proxy version ... is too old, run `kamal proxy reboot`") upgrades it with the
/// handover and deploys, under load, without a failed request.
#[test]
fn a_deploy_upgrades_a_too_old_proxy_without_a_failed_request() {
    let Some((_guard, lab)) = lab() else { return };
    proxy_image_tagged(lab, "v0.8.0");
    let _tagged = TaggedImage(lab, "v0.8.0");
    let app = AppDir::new(lab, WHARF);
    let _removed = Removed(&app);
    app.write("config/deploy.yml", &deploy_yml("oldproxy", HOST_HEADER, "    version: v0.8.0\n", ""));
    app.commit("on an old proxy");
    app.ok(&["deploy"]);
    app.ok(&["proxy", "reboot", "-y"]);
    for host in HOSTS_2 {
        assert_eq!(proxy_state(lab, host).0, format!("{PROXY_IMAGE}:v0.8.0"), "{host}");
    }
    // Kamal's answer to that proxy: the deploy stops.
    app.write("config/deploy.yml", &deploy_yml("oldproxy", HOST_HEADER, "", ""));
    let refused = app.wharf(&["deploy"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("kamal-proxy version v0.8.0 is too old"), "{}", stderr(&refused));

    app.write("config/deploy.yml", &deploy_yml("oldproxy", HOST_HEADER, "", "x-wharf:\n  upgrade_old_proxy: true\n"));
    let version = app.commit("upgrading the proxy as it deploys");
    let addrs: Vec<SocketAddr> = HOSTS_2.iter().map(|h| format!("{h}:80").parse().unwrap()).collect();
    let load = HttpLoad::start(&addrs, HOST_HEADER, "/version", 4, Duration::from_secs(5));
    load.until_answered(500, Duration::from_secs(60));
    let out = app.ok(&["deploy"]);
    load.until_answered(load.answered() + 500, Duration::from_secs(60));
    let outcome = load.stop();
    eprintln!("HTTP: {} answered, {} failed", outcome.answered, outcome.failures.len());
    assert!(out.contains("Upgrading kamal-proxy without downtime on 10.200.0.1,10.200.0.2"), "{out}");
    assert!(outcome.failures.is_empty(), "{} failed: {:?}", outcome.failures.len(), outcome.failures);
    for host in HOSTS_2 {
        assert_eq!(
            proxy_state(lab, host),
            (format!("{PROXY_IMAGE}:v0.9.2"), String::new(), "0".to_string()),
            "{host}: the required kamal-proxy, nothing else"
        );
        assert_eq!(curl(host, "/version", Some(HOST_HEADER)), (200, version.clone()), "{host}");
    }
}
