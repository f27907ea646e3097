//! What Wharf's tests share, so that no test reaches into another crate's files by path.
//!
//! - Kamal's test fixtures (basecamp/kamal `test/fixtures`, unchanged: deploy*.yml and the
//!   files they name), in `fixtures/kamal`.
//! - [`plugins`]: plugin sources (the example adapter built, an HTTPS server with its own CA,
//!   a private registry).
//! - [`lab`]: the hostlab brought up once per test binary and shared by its tests one at a time,
//!   the example app as a git repository, the lab's deploy.yml, HTTP and SSH probes.
//! - [`http_load`]: continuous HTTP/1.1 load (keep-alive and new connections) that records
//!   every request not answered 200.
//! - [`runner`]: `wharf` (or any program under test) run in a directory with an environment,
//!   its output echoed.
//! - [`free_port`]: a port nothing listens on.
//! - Where the hostlab is (the test servers: `hostlab.sh`), and whether it can run here: a test
//!   that needs it skips with the reason where it cannot, unless `WHARF_REQUIRE_LAB=1` (which
//!   `scripts/test`, and so CI, sets) makes that a failure. The same holds for a test that needs
//!   a tool `scripts/install-deps` installs (Kamal, pebble, strace): [`skip_without_tool`].

use std::path::PathBuf;

pub mod http_load;
pub mod lab;
pub mod plugins;
pub mod runner;

/// A TCP port on 127.0.0.1 that nothing listened on a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The folder of Kamal's test fixtures (`test/fixtures` in basecamp/kamal).
pub fn kamal_fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/kamal")
}

/// One of Kamal's fixtures, by file name (`deploy_with_accessories.yml`).
pub fn kamal_fixture_path(name: &str) -> PathBuf {
    kamal_fixtures().join(name)
}

/// The text of one of Kamal's fixtures.
pub fn kamal_fixture(name: &str) -> String {
    let path = kamal_fixture_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("Kamal fixture {}: {e}", path.display()))
}

/// `hostlab.sh`: `$WHARF_HOSTLAB`, else `../shared/hostlab/hostlab.sh` beside the repository.
pub fn hostlab_script() -> PathBuf {
    std::env::var_os("WHARF_HOSTLAB")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/hostlab/hostlab.sh"))
}

/// Why the hostlab cannot run on this machine, if it cannot: it needs root (it creates network
/// namespaces), its script, and `ip`, `sshd` and `dockerd`.
pub fn hostlab_unavailable() -> Option<String> {
    let script = hostlab_script();
    if !script.exists() {
        return Some(format!("{} not found (set WHARF_HOSTLAB)", script.display()));
    }
    let uid = std::process::Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("the hostlab needs root (it creates network namespaces)".into());
    }
    for tool in ["ip", "sshd", "dockerd"] {
        let found = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool} || test -x /usr/sbin/{tool}"))
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !found {
            return Some(format!("the hostlab needs `{tool}` (scripts/install-deps installs it)"));
        }
    }
    None
}

/// Whether tests must run rather than skip (`WHARF_REQUIRE_LAB=1`, set by `scripts/test`).
fn skips_are_failures() -> bool {
    std::env::var("WHARF_REQUIRE_LAB").is_ok_and(|v| v == "1")
}

/// For a test that cannot run without a tool this machine lacks (`why`: what is missing, and
/// how to install it): says so on stderr, so that the test can return. With
/// `WHARF_REQUIRE_LAB=1` it panics instead: `scripts/test` runs after `scripts/install-deps`
/// installed every such tool, so there a missing one is a failure, never a test that passed
/// without running.
pub fn skip_without_tool(test: &str, why: &str) {
    if skips_are_failures() {
        panic!("{test} cannot run and WHARF_REQUIRE_LAB=1: {why}");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// For a test that needs the hostlab: `true` (after saying why on stderr) when it should skip
/// because the lab cannot run here. With `WHARF_REQUIRE_LAB=1` it panics with the reason instead.
pub fn skip_without_hostlab() -> bool {
    let Some(reason) = hostlab_unavailable() else { return false };
    if skips_are_failures() {
        panic!("the hostlab cannot run here and WHARF_REQUIRE_LAB=1: {reason}");
    }
    // Straight to stderr: the test harness captures `eprintln!` of passing tests.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipping a test that needs the hostlab: {reason}");
    true
}
