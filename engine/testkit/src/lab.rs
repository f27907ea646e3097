//! The end-to-end tests' servers: hostlab (3 hosts with real sshd and dockerd, a real registry),
//! brought up once per test binary and used by one test at a time; this project's proxy image
//! pushed where deploy.yml points Kamal/Wharf (`localhost:5000/basecamp/kamal-proxy:v0.9.2`,
//! rebuilt when the registry's lacks the `org.opencontainers.image.title` label); a copy of
//! examples/hello as a git repo, with `wharf` run in it against the lab; the lab's deploy.yml;
//! HTTP and SSH probes.

use crate::runner::Runner;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

pub const HOSTS: [&str; 3] = ["10.200.0.1", "10.200.0.2", "10.200.0.3"];

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn hostlab() -> PathBuf {
    crate::hostlab_script()
}

pub struct Lab {
    pub env: Vec<(String, String)>,
}

impl Lab {
    pub fn var(&self, key: &str) -> String {
        self.env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default()
    }
}

fn sh(cmd: &str) -> Output {
    Command::new("bash").arg("-c").arg(cmd).output().unwrap()
}

/// Succeeds when the registry has the proxy image, with the label Kamal finds it by (images
/// pushed before the image had it are rebuilt).
const PROXY_IMAGE_IS_CURRENT: &str = r#"r=http://127.0.0.1:5000/v2/basecamp/kamal-proxy
config=$(curl -fsS -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  -H 'Accept: application/vnd.oci.image.manifest.v1+json' $r/manifests/v0.9.2 |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["digest"])') &&
curl -fsS "$r/blobs/$config" | grep -q '"org.opencontainers.image.title":"kamal-proxy"'"#;

/// Brings the lab up once per test binary and serializes the tests that use it; `None` (the
/// test skips, saying why) where the lab cannot run (see [`crate::skip_without_hostlab`]).
pub fn lab() -> Option<(MutexGuard<'static, ()>, &'static Lab)> {
    if crate::skip_without_hostlab() {
        return None;
    }
    static LOCK: Mutex<()> = Mutex::new(());
    static LAB: OnceLock<Lab> = OnceLock::new();
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let lab = LAB.get_or_init(|| {
        let up = sh(&format!("flock -o /tmp/hostlab.lock {} up 3", hostlab().display()));
        assert!(up.status.success(), "hostlab up failed: {}", String::from_utf8_lossy(&up.stderr));
        let env_text = String::from_utf8(sh(&format!("{} env", hostlab().display())).stdout).unwrap();
        let env: Vec<(String, String)> = env_text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect();
        let lab = Lab { env };
        if !sh(PROXY_IMAGE_IS_CURRENT).status.success() {
            let build = sh(&format!(
                "{}/engine/proxy/image/build.sh --push --docker-host {} localhost:5000/basecamp/kamal-proxy:v0.9.2",
                repo_root().display(),
                lab.var("HOSTLAB_DOCKER_HOST_1")
            ));
            assert!(build.status.success(), "proxy image: {}", String::from_utf8_lossy(&build.stderr));
        }
        lab
    });
    Some((guard, lab))
}

/// A copy of examples/hello in a temp dir, as its own git repository, where `wharf` runs
/// against the lab.
pub struct AppDir {
    pub dir: tempfile::TempDir,
    lab: &'static Lab,
    wharf: PathBuf,
}

impl AppDir {
    /// `wharf`: the binary under test (`env!("CARGO_BIN_EXE_wharf")`).
    pub fn new(lab: &'static Lab, wharf: impl AsRef<Path>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let src = repo_root().join("examples/hello");
        let cp = sh(&format!("cp -r {}/. {}", src.display(), dir.path().display()));
        assert!(cp.status.success());
        let app = AppDir { dir, lab, wharf: wharf.as_ref().to_path_buf() };
        app.git(&["init", "-q"]);
        app.git(&["config", "user.email", "tester@example.com"]);
        app.git(&["config", "user.name", "Tester"]);
        app.commit("initial");
        app
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git").args(args).current_dir(self.path()).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn write(&self, file: &str, content: &str) {
        let path = self.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    /// `wharf` in this directory with the lab's environment, building on the first host's
    /// docker.
    pub fn runner(&self) -> Runner {
        Runner::new(&self.wharf, self.path())
            .envs(self.lab.env.iter().cloned())
            .env("DOCKER_HOST", self.lab.var("HOSTLAB_DOCKER_HOST_1"))
    }

    pub fn wharf(&self, args: &[&str]) -> Output {
        self.runner().run(args)
    }

    /// `wharf`, asserting success; stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.runner().ok(args)
    }
}

/// GET http://host/path with an optional Host header: (status, body).
pub fn curl(host: &str, path: &str, host_header: Option<&str>) -> (u16, String) {
    let header = host_header.map(|h| format!("-H 'Host: {h}'")).unwrap_or_default();
    let out = sh(&format!("curl -s -m 5 {header} -w '\\n%{{http_code}}' http://{host}{path}"));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "000"));
    (code.trim().parse().unwrap_or(0), body.trim().to_string())
}

/// A self-signed certificate for `name` (2 days, RSA) written in `dir`: the certificate's file,
/// its PEM and the private key's PEM.
pub fn self_signed_certificate(dir: &Path, name: &str) -> (PathBuf, String, String) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let openssl = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", &format!("/CN={name}")])
        .args(["-addext", &format!("subjectAltName=DNS:{name}"), "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(openssl.status.success(), "{}", String::from_utf8_lossy(&openssl.stderr));
    let (cert_pem, key_pem) = (std::fs::read_to_string(&cert).unwrap(), std::fs::read_to_string(&key).unwrap());
    (cert, cert_pem, key_pem)
}

/// Runs a command on a lab host over ssh (the test's own view of the server).
pub fn on_host(lab: &Lab, host: &str, cmd: &str) -> String {
    let out = Command::new("ssh").args(["-F", &lab.var("HOSTLAB_SSH_CONFIG"), host, cmd]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Polls `f` until it is true or `timeout` passes.
pub fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

pub use crate::runner::{stderr, stdout};

/// A deploy.yml for a test app on the first two hosts, with its own service name and proxy host;
/// `proxy_extra` goes inside `proxy:`, `extra` at the root.
pub fn deploy_yml(service: &str, proxy_host: &str, proxy_extra: &str, extra: &str) -> String {
    format!(
        r#"service: {service}
image: wharf/{service}
servers:
  web:
    - 10.200.0.1
    - 10.200.0.2
registry:
  server: 10.200.0.254:5000
  username: wharf
  password:
    - REGISTRY_PASSWORD
builder:
  arch: amd64
proxy:
  host: {proxy_host}
  app_port: 80
  healthcheck:
    path: /up
    interval: 1
  run:
    registry: localhost:5000
{proxy_extra}env:
  clear:
    GREETING: Hello
  secret:
    - SECRET_TOKEN
ssh:
  config: <%= ENV["HOSTLAB_SSH_CONFIG"] %>
readiness_delay: 1
deploy_timeout: 20
drain_timeout: 3
{extra}"#
    )
}
