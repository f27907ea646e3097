//! Registry and builder modes on real servers (hostlab): Kamal's local registry
//! (`registry.server: localhost:PORT`, pulled by the servers through SSH reverse tunnels) and a
//! remote builder (`builder.remote: ssh://...`) with no local docker daemon.
//!
//! The local registry needs a "local" docker whose `127.0.0.1:PORT` is the deploying machine's,
//! as it is for a Kamal user: hostlab's daemons live in the servers' network namespaces, so these
//! tests start one in the test's own network namespace (this machine's, or the second lab's:
//! tests/fixtures/local-dockerd.sh, stopped at the end), with a `registry:3` made from Debian's
//! docker-registry (tests/fixtures/registry-image.sh).
//!
//! These tests run one at a time ([`one_at_a_time`]), whichever lab each has: the local docker
//! keeps its state in one directory, and the remote builder's check for leftovers looks at
//! `/tmp`, which every lab host shares with this machine.
//!
//! Run: cargo test -p wharf --test suite registry_modes::

use crate::WHARF;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use wharf_testkit::lab::*;

/// Held by each test of this module while it runs (see the module's doc).
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Runs `cmd`, killing it if it takes longer than `timeout`.
fn run_bounded(mut cmd: Command, timeout: Duration) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_reader = std::thread::spawn(move || {
        let mut v = vec![];
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = vec![];
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let status = child.wait().unwrap();
            eprintln!("timed out after {timeout:?}: {cmd:?}");
            break status;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Output { status, stdout: out_reader.join().unwrap(), stderr: err_reader.join().unwrap() }
}

/// `wharf ARGS` in the app's directory with the lab's environment and the given DOCKER_HOST;
/// none: no local docker at all, whatever this machine has (see [`no_local_docker`]).
fn wharf(app: &AppDir, lab: &Lab, docker_host: Option<&str>, args: &[&str]) -> Output {
    let wharf = app.runner().env_remove("DOCKER_HOST");
    let wharf = match docker_host {
        Some(h) => wharf.env("DOCKER_HOST", h),
        None => {
            let path = lab.env.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v.clone());
            let path = path.or_else(|| std::env::var("PATH").ok()).unwrap_or_default();
            wharf.env("PATH", format!("{}:{path}", no_local_docker().display()))
        }
    };
    let out = run_bounded(wharf.command(args), Duration::from_secs(600));
    eprintln!(
        "$ DOCKER_HOST={} wharf {}\n{}{}",
        docker_host.unwrap_or(""),
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn wharf_ok(app: &AppDir, lab: &Lab, docker_host: Option<&str>, args: &[&str]) -> String {
    let out = wharf(app, lab, docker_host, args);
    assert!(out.status.success(), "wharf {args:?} failed");
    stdout(&out)
}

/// A folder holding a `docker` that is this machine's docker CLI without buildx and without a
/// daemon (DOCKER_HOST pointing nowhere), first on PATH: "no local docker" on any machine, with
/// or without a system dockerd or the buildx plugin.
fn no_local_docker() -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let real = String::from_utf8_lossy(&Command::new("sh").args(["-c", "command -v docker"]).output().unwrap().stdout)
        .trim()
        .to_string();
    assert!(!real.is_empty(), "the tests need the docker CLI");
    let dir = std::env::temp_dir().join(format!("wharf-no-local-docker-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = buildx ] && {{ echo \"docker: 'buildx' is not a docker command.\" >&2; exit 1; }}\nDOCKER_HOST=unix:///nonexistent/docker.sock exec {real} \"$@\"\n"
    );
    std::fs::write(dir.join("docker"), script).unwrap();
    std::fs::set_permissions(dir.join("docker"), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn sh(cmd: &str) -> Output {
    let mut c = Command::new("bash");
    c.arg("-c").arg(cmd);
    run_bounded(c, Duration::from_secs(120))
}

/// A docker daemon in this machine's network namespace (tests/fixtures/local-dockerd.sh), from
/// a clean state; stopped, with its containers, when dropped.
struct LocalDocker {
    host: String,
}

impl LocalDocker {
    fn up() -> LocalDocker {
        let script = fixture("local-dockerd.sh");
        sh(&format!("{} down", script.display()));
        let up = sh(&format!("{} up", script.display()));
        assert!(up.status.success(), "local dockerd: {}{}", stdout(&up), stderr(&up));
        let host = stdout(&up)
            .lines()
            .find_map(|l| l.strip_prefix("DOCKER_HOST=").map(str::to_string))
            .expect("local-dockerd.sh printed DOCKER_HOST");
        LocalDocker { host }
    }

    /// `docker ARGS` against this daemon: its stdout, trimmed; a failure panics (an empty answer
    /// means "none", never "could not ask").
    fn docker(&self, args: &str) -> String {
        let out = sh(&format!("docker -H {} {args}", self.host));
        assert!(out.status.success(), "local docker {args}: {}{}", stdout(&out), stderr(&out));
        stdout(&out).trim().to_string()
    }
}

impl Drop for LocalDocker {
    fn drop(&mut self) {
        let down = sh(&format!("{} down", fixture("local-dockerd.sh").display()));
        if !down.status.success() {
            eprintln!("local dockerd down: {}", stderr(&down));
        }
    }
}

/// deploy.yml for a test app on 10.200.0.1 and .2, with the given registry and builder sections.
fn app_yml(service: &str, registry: &str, builder: &str) -> String {
    format!(
        r#"service: {service}
image: wharf/{service}
servers:
  web:
    - 10.200.0.1
    - 10.200.0.2
{registry}
{builder}
proxy:
  host: {service}.test
  app_port: 80
  healthcheck:
    path: /up
    interval: 1
  run:
    registry: localhost:5000
env:
  clear:
    GREETING: Hello
  secret:
    - SECRET_TOKEN
ssh:
  config: <%= ENV["HOSTLAB_SSH_CONFIG"] %>
readiness_delay: 1
deploy_timeout: 20
drain_timeout: 3
"#
    )
}

/// What a server's 127.0.0.1:PORT answers (`000`: nothing listens).
fn loopback_on_host(lab: &Lab, host: &str, port: u16) -> String {
    on_host(lab, host, &format!("curl -s -m 3 -o /dev/null -w '%{{http_code}}' http://127.0.0.1:{port}/v2/ || true"))
}

#[test]
fn local_registry_mode_deploys_through_ssh_tunnels() {
    let Some((_guard, lab)) = lab() else { return };
    let _alone = one_at_a_time();
    let docker = LocalDocker::up();
    let app = AppDir::new(lab, WHARF);
    // Kamal needs no username or password for a local registry.
    app.write(
        "config/deploy.yml",
        &app_yml("localreg", "registry:\n  server: localhost:5555", "builder:\n  arch: amd64"),
    );
    let v1 = app.commit("local registry");
    let dh = Some(docker.host.as_str());

    let out = wharf_ok(&app, lab, dh, &["deploy"]);
    assert!(out.contains("Setting up local registry port forwarding to 10.200.0.1, 10.200.0.2"), "{out}");
    for host in ["10.200.0.1", "10.200.0.2"] {
        assert_eq!(curl(host, "/version", Some("localreg.test")), (200, v1.clone()), "{host}");
        assert_eq!(curl(host, "/", Some("localreg.test")).1, format!("Hello from localreg-web-{v1} on {host}"));
        // Pulled from the local registry, by its localhost name.
        assert!(
            on_host(lab, host, "docker image ls localhost:5555/wharf/localreg --format '{{.Tag}}'").contains(&v1),
            "{host} has the image from localhost:5555"
        );
        // The tunnels were closed once the pull was done.
        assert_eq!(loopback_on_host(lab, host, 5555), "000", "no tunnel left on {host}");
    }
    // The registry runs on the local docker, published on this machine's loopback, and holds the
    // version and latest tags.
    assert_eq!(
        docker.docker("ps --filter name=kamal-docker-registry --format '{{.Image}} {{.Ports}}'"),
        "registry:3 127.0.0.1:5555->5000/tcp"
    );
    let (status, tags) = curl("127.0.0.1:5555", "/v2/wharf/localreg/tags/list", None);
    assert_eq!(status, 200);
    assert!(tags.contains(&v1) && tags.contains("latest"), "{tags}");

    // A second version: the registry container is reused (`docker start` of the running one).
    app.write(
        "start.sh",
        &std::fs::read_to_string(app.path().join("start.sh")).unwrap().replace("${GREETING:-Hello}", "Version two:"),
    );
    let v2 = app.commit("v2");
    wharf_ok(&app, lab, dh, &["deploy"]);
    for host in ["10.200.0.1", "10.200.0.2"] {
        assert_eq!(curl(host, "/version", Some("localreg.test")), (200, v2.clone()), "{host}");
        assert!(curl(host, "/", Some("localreg.test")).1.starts_with("Version two:"));
    }
    assert_eq!(docker.docker("ps -a --filter name=kamal-docker-registry -q").lines().count(), 1);

    // `build pull` alone (deploy -P) opens the tunnels again: the tag taken off the first host
    // comes back from the local registry.
    let image = format!("localhost:5555/wharf/localreg:{v2}");
    on_host(lab, "10.200.0.1", &format!("docker image rm -f {image} >/dev/null"));
    assert_eq!(on_host(lab, "10.200.0.1", &format!("docker image ls -q {image}")), "");
    let out = wharf_ok(&app, lab, dh, &["build", "pull"]);
    assert!(out.contains("Setting up local registry port forwarding to 10.200.0.1, 10.200.0.2"), "{out}");
    assert_ne!(on_host(lab, "10.200.0.1", &format!("docker image ls -q {image}")), "", "pulled again");
    assert_eq!(loopback_on_host(lab, "10.200.0.1", 5555), "000");

    wharf_ok(&app, lab, dh, &["remove", "-y"]);
    assert_eq!(on_host(lab, "10.200.0.1", "docker ps -a --filter label=service=localreg -q"), "");
    // As in Kamal, `remove` leaves the local registry alone (`registry remove` stops it).
    assert_eq!(docker.docker("ps --filter name=kamal-docker-registry -q").lines().count(), 1);
}

#[test]
fn local_registry_not_on_this_machines_loopback_is_reported() {
    let Some((_guard, lab)) = lab() else { return };
    let _alone = one_at_a_time();
    let app = AppDir::new(lab, WHARF);
    app.write(
        "config/deploy.yml",
        &app_yml("lrmissing", "registry:\n  server: localhost:5556", "builder:\n  arch: amd64"),
    );
    app.commit("local registry elsewhere");
    // A docker host in another network namespace: its 127.0.0.1:5556 is not this machine's, so
    // the tunnels would lead nowhere. (Kamal fails later, in the servers' docker pull.)
    let h1 = lab.var("HOSTLAB_DOCKER_HOST_1");
    let out = wharf(&app, lab, Some(&h1), &["build", "pull"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("ERROR (RuntimeError): The local registry does not answer on 127.0.0.1:5556"), "{err}");
    assert!(err.contains(&format!("DOCKER_HOST={h1}")), "{err}");
    assert_eq!(loopback_on_host(lab, "10.200.0.1", 5556), "000", "no tunnel was opened");
    assert_eq!(
        on_host(lab, "10.200.0.1", "docker image ls -q localhost:5556/wharf/lrmissing"),
        "",
        "nothing was pulled"
    );
}

#[test]
fn remote_builder_over_ssh_with_no_local_docker() {
    let Some((_guard, lab)) = lab() else { return };
    let _alone = one_at_a_time();
    let app = AppDir::new(lab, WHARF);
    let registry = "registry:\n  server: 10.200.0.254:5000\n  username: wharf\n  password:\n    - REGISTRY_PASSWORD";
    app.write(
        "config/deploy.yml",
        &app_yml("remotebuild", registry, "builder:\n  arch: amd64\n  remote: ssh://root@10.200.0.3"),
    );
    let version = app.commit("remote builder");
    let out = wharf_ok(&app, lab, None, &["deploy"]);
    assert!(out.contains("building on the remote builder ssh://root@10.200.0.3"), "{out}");
    for host in ["10.200.0.1", "10.200.0.2"] {
        assert_eq!(curl(host, "/version", Some("remotebuild.test")), (200, version.clone()), "{host}");
        assert_eq!(
            curl(host, "/", Some("remotebuild.test")).1,
            format!("Hello from remotebuild-web-{version} on {host}")
        );
    }
    // Built on the builder (10.200.0.3), which keeps the image; its temporary build directory is gone.
    assert!(
        on_host(lab, "10.200.0.3", "docker image ls 10.200.0.254:5000/wharf/remotebuild --format '{{.Tag}}'")
            .contains(&version),
        "the image was built on 10.200.0.3"
    );
    assert_eq!(on_host(lab, "10.200.0.3", "ls -d /tmp/wharf-build.* 2>/dev/null | wc -l"), "0");
    wharf_ok(&app, lab, None, &["remove", "-y"]);
    assert_eq!(on_host(lab, "10.200.0.1", "docker ps -a --filter label=service=remotebuild -q"), "");
    // The builder keeps what it built (its layer cache), as a local `docker build` would.
    on_host(
        lab,
        "10.200.0.3",
        "docker image rm -f $(docker image ls -q 10.200.0.254:5000/wharf/remotebuild) >/dev/null 2>&1",
    );
}

/// A remote builder with a local registry: the builder pushes through a tunnel to the local
/// registry (Kamal's forward_local_registry_port_for_remote_builder), the servers pull through
/// theirs.
#[test]
fn remote_builder_pushes_to_the_local_registry_through_a_tunnel() {
    let Some((_guard, lab)) = lab() else { return };
    let _alone = one_at_a_time();
    let docker = LocalDocker::up();
    let app = AppDir::new(lab, WHARF);
    app.write(
        "config/deploy.yml",
        &app_yml(
            "lrremote",
            "registry:\n  server: localhost:5557",
            "builder:\n  arch: amd64\n  local: false\n  remote: ssh://root@10.200.0.3",
        ),
    );
    let version = app.commit("remote builder, local registry");
    let out = wharf_ok(&app, lab, Some(&docker.host), &["build", "deliver"]);
    assert!(out.contains("Setting up local registry port forwarding to root@10.200.0.3"), "{out}");
    let (status, tags) = curl("127.0.0.1:5557", "/v2/wharf/lrremote/tags/list", None);
    assert_eq!(status, 200);
    assert!(tags.contains(&version), "{tags}");
    for host in ["10.200.0.1", "10.200.0.2", "10.200.0.3"] {
        assert_eq!(loopback_on_host(lab, host, 5557), "000", "no tunnel left on {host}");
    }
    for host in ["10.200.0.1", "10.200.0.2"] {
        assert!(
            on_host(lab, host, "docker image ls localhost:5557/wharf/lrremote --format '{{.Tag}}'").contains(&version)
        );
        on_host(lab, host, "docker image rm -f $(docker image ls -q localhost:5557/wharf/lrremote) >/dev/null 2>&1");
    }
    on_host(
        lab,
        "10.200.0.3",
        "docker image rm -f $(docker image ls -q localhost:5557/wharf/lrremote) >/dev/null 2>&1",
    );
}

/// `wharf registry setup` / `remove` start and stop the local registry container (Kamal's
/// `kamal registry setup|remove` with a local registry), via `local_registry::run`.
#[test]
fn registry_setup_and_remove_manage_the_local_registry() {
    let Some((_guard, lab)) = lab() else { return };
    let _alone = one_at_a_time();
    let docker = LocalDocker::up();
    let app = AppDir::new(lab, WHARF);
    app.write("config/deploy.yml", &app_yml("lrcmd", "registry:\n  server: localhost:5558", "builder:\n  arch: amd64"));
    app.commit("registry commands");
    let dh = Some(docker.host.as_str());
    wharf_ok(&app, lab, dh, &["registry", "setup"]);
    wharf_ok(&app, lab, dh, &["registry", "setup"]);
    assert_eq!(curl("127.0.0.1:5558", "/v2/", None).0, 200);
    let login = wharf(&app, lab, dh, &["registry", "login"]);
    assert_eq!(login.status.code(), Some(1));
    assert!(stderr(&login).contains("Cannot use login command with a local registry"));
    wharf_ok(&app, lab, dh, &["registry", "remove"]);
    assert_eq!(docker.docker("ps -a --filter name=kamal-docker-registry -q"), "");
    wharf_ok(&app, lab, dh, &["registry", "remove"]);
}
