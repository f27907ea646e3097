//! The end-to-end tests' servers: hostlab (3 hosts with real sshd and dockerd, a real registry),
//! two such labs, each brought up once per test binary and used by one test at a time (see
//! [`lab`]); this project's proxy image pushed where deploy.yml points Kamal/Wharf
//! (`localhost:5000/basecamp/kamal-proxy:v0.9.2`, rebuilt when the registry's lacks the
//! `org.opencontainers.image.title` label); a copy of examples/hello as a git repo, with `wharf`
//! run in it against the lab; the lab's deploy.yml; HTTP and SSH probes.

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
    /// The network namespace the lab's network is in, open (`None`: this machine's own).
    netns: Option<std::fs::File>,
    /// hostlab's prefix of its hosts' network namespaces (`HOSTLAB_PREFIX`).
    host_netns_prefix: &'static str,
}

impl Lab {
    /// A lab described by its environment alone, on this machine's network (for tests that only
    /// plan against it).
    pub fn from_env(env: Vec<(String, String)>) -> Self {
        Lab { env, netns: None, host_netns_prefix: FIRST_HOST_NETNS_PREFIX }
    }

    /// The name of lab host `i`'s network namespace (`ip netns pids NAME` lists its processes).
    pub fn host_netns(&self, i: u32) -> String {
        format!("{}{i}", self.host_netns_prefix)
    }

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

/// How many labs a test binary may use at once: `WHARF_LABS` (1 or 2), else 2. Each lab test
/// holds one lab; with two, two lab tests run at once (they spend most of their time waiting on
/// health checks, timeouts and Kamal, so the CLI suite takes about a quarter less time).
fn labs_wanted() -> usize {
    match std::env::var("WHARF_LABS").ok().as_deref() {
        Some("1") => 1,
        None | Some("") | Some("2") => 2,
        Some(other) => panic!("WHARF_LABS must be 1 or 2, not {other:?}"),
    }
}

/// One lab and the lock that gives it to one test at a time.
struct Slot {
    lock: Mutex<()>,
    lab: OnceLock<Lab>,
}

static SLOTS: [Slot; 2] =
    [Slot { lock: Mutex::new(()), lab: OnceLock::new() }, Slot { lock: Mutex::new(()), lab: OnceLock::new() }];

/// A test's hold on a lab: while it lives no other test uses that lab, and the test's thread
/// (with the threads and processes it starts) is in the lab's network namespace. Dropping it
/// puts the thread back in the namespace it was in.
pub struct LabGuard {
    _slot: MutexGuard<'static, ()>,
    restore: Option<std::fs::File>,
}

impl Drop for LabGuard {
    fn drop(&mut self) {
        if let Some(ns) = self.restore.take() {
            enter_network_namespace(&ns).expect("back to the test's own network namespace");
        }
    }
}

/// Gives the calling test a lab (bringing it up once per test binary), waiting while every lab
/// is in use; `None` (the test skips, saying why) where the lab cannot run (see
/// [`crate::skip_without_hostlab`]).
///
/// The first lab is hostlab's default (`/tmp/hostlab`, hosts 10.200.0.1-3 in this machine's
/// network). The second has the very same addresses, in a network namespace of its own
/// (`wharf-lab-b`, hostlab state in `/tmp/hostlab-b`), so the tests' deploy.yml files and
/// probes work unchanged in either; its registry serves the first one's storage, where the
/// proxy image and the base image already are.
pub fn lab() -> Option<(LabGuard, &'static Lab)> {
    if crate::skip_without_hostlab() {
        return None;
    }
    let (index, guard) = take_a_free_slot();
    let lab = match index {
        0 => SLOTS[0].lab.get_or_init(bring_up_first_lab),
        _ => SLOTS[1].lab.get_or_init(|| bring_up_second_lab(SLOTS[0].lab.get_or_init(bring_up_first_lab))),
    };
    let restore = lab.netns.as_ref().map(|target| {
        let own = std::fs::File::open("/proc/thread-self/ns/net").expect("this thread's network namespace");
        enter_network_namespace(target).unwrap_or_else(|e| panic!("entering {SECOND_NETNS}: {e}"));
        own
    });
    Some((LabGuard { _slot: guard, restore }, lab))
}

fn take_a_free_slot() -> (usize, MutexGuard<'static, ()>) {
    use std::sync::TryLockError;
    let wanted = labs_wanted();
    loop {
        for (index, slot) in SLOTS.iter().enumerate().take(wanted) {
            match slot.lock.try_lock() {
                Ok(guard) => return (index, guard),
                Err(TryLockError::Poisoned(poisoned)) => return (index, poisoned.into_inner()),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Moves the calling thread (only it: a network namespace is per thread) into `ns`.
fn enter_network_namespace(ns: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: setns on a file descriptor this function borrows, for the calling thread only.
    if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn parse_env(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect()
}

fn bring_up_first_lab() -> Lab {
    let up = sh(&format!("flock -o /tmp/hostlab.lock {} up 3", hostlab().display()));
    assert!(up.status.success(), "hostlab up failed: {}", String::from_utf8_lossy(&up.stderr));
    let env_text = String::from_utf8(sh(&format!("{} env", hostlab().display())).stdout).unwrap();
    let lab = Lab::from_env(parse_env(&env_text));
    if !sh(PROXY_IMAGE_IS_CURRENT).status.success() {
        let build = sh(&format!(
            "{}/engine/proxy/image/build.sh --push --docker-host {} localhost:5000/basecamp/kamal-proxy:v0.9.2",
            repo_root().display(),
            lab.var("HOSTLAB_DOCKER_HOST_1")
        ));
        assert!(build.status.success(), "proxy image: {}", String::from_utf8_lossy(&build.stderr));
    }
    lab
}

/// hostlab's default prefix of its hosts' network namespaces (the first lab's).
const FIRST_HOST_NETNS_PREFIX: &str = "hl";
/// The second lab's network namespace and hostlab state.
const SECOND_NETNS: &str = "wharf-lab-b";
const SECOND_DIR: &str = "/tmp/hostlab-b";
const SECOND_HOST_NETNS_PREFIX: &str = "hb";

fn bring_up_second_lab(first: &Lab) -> Lab {
    let first_registry = first.var("HOSTLAB_DIR") + "/registry/data";
    let script = format!(
        r#"set -e
[ -e /run/netns/{SECOND_NETNS} ] || ip netns add {SECOND_NETNS}
ip -n {SECOND_NETNS} link set lo up
mkdir -p {SECOND_DIR}/registry
[ -L {SECOND_DIR}/registry/data ] || ln -s {first_registry} {SECOND_DIR}/registry/data
HOSTLAB_DIR={SECOND_DIR} HOSTLAB_PREFIX={SECOND_HOST_NETNS_PREFIX} flock -o {SECOND_DIR}.lock nsenter --net=/run/netns/{SECOND_NETNS} {hostlab} up 3"#,
        hostlab = hostlab().display()
    );
    let up = sh(&script);
    assert!(up.status.success(), "second hostlab ({SECOND_NETNS}) up failed: {}", String::from_utf8_lossy(&up.stderr));
    let env_text =
        String::from_utf8(sh(&format!("HOSTLAB_DIR={SECOND_DIR} {} env", hostlab().display())).stdout).unwrap();
    Lab {
        env: parse_env(&env_text),
        netns: Some(
            std::fs::File::open(format!("/run/netns/{SECOND_NETNS}"))
                .unwrap_or_else(|e| panic!("/run/netns/{SECOND_NETNS}: {e}")),
        ),
        host_netns_prefix: SECOND_HOST_NETNS_PREFIX,
    }
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

/// Runs a command on a lab host over ssh (the test's own view of the server): its stdout,
/// trimmed, whatever its exit status (`ls -d X 2>/dev/null` answering nothing is how a test
/// sees that X is gone). It panics when the answer cannot be trusted: ssh could not reach the
/// host, or the host's docker daemon could not be reached, so that an empty answer always means
/// "none", never "could not look". See [`try_on_host`] to wait for a host that is down.
pub fn on_host(lab: &Lab, host: &str, cmd: &str) -> String {
    let out = ssh_to(lab, host, cmd);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() != Some(255), "ssh to {host} failed (running `{cmd}`): {err}");
    assert!(
        !err.contains("Cannot connect to the Docker daemon"),
        "docker on {host} is unreachable (running `{cmd}`): {err}"
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// [`on_host`]'s answer, or `None` when ssh could not reach the host (to poll a host that is
/// coming back).
pub fn try_on_host(lab: &Lab, host: &str, cmd: &str) -> Option<String> {
    let out = ssh_to(lab, host, cmd);
    (out.status.code() != Some(255)).then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn ssh_to(lab: &Lab, host: &str, cmd: &str) -> std::process::Output {
    Command::new("ssh").args(["-F", &lab.var("HOSTLAB_SSH_CONFIG"), host, cmd]).output().unwrap()
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
