//! Port of Kamal's test/commands/docker_test.rb.
#![allow(unused_variables)]

use crate::common::*;
use serde_yaml::Value;
use wharf_commands::Docker;

const BASE: &str = r#"{"service":"app","image":"dhh/app","registry":{"username":"dhh","password":"secret"},"servers":["1.1.1.1"],"builder":{"arch":"amd64"}}"#;

fn base() -> Value {
    yaml(BASE)
}

/// `Kamal::Commands::Docker.new(Kamal::Configuration.new(@config))` (the commands need no
/// configuration; the config is still loaded, as in Kamal's setup).
fn docker(raw: &Value) -> Docker {
    let _config = config(raw, None, None, &[]);
    Docker::new()
}

#[test]
fn install() {
    // Kamal: test "install"
    let raw = base();
    let e1 = r#"sh -c 'curl -fsSL https://get.docker.com || wget -O - https://get.docker.com || echo "exit 1"' | sh"#;
    assert_eq!(docker(&raw).install().to_string(), e1);
}

#[test]
fn installed() {
    // Kamal: test "installed?"
    let raw = base();
    assert_eq!(docker(&raw).installed().to_string(), "docker -v");
}

#[test]
fn running() {
    // Kamal: test "running?"
    let raw = base();
    assert_eq!(docker(&raw).running().to_string(), "docker version");
}

#[test]
fn superuser() {
    // Kamal: test "superuser?"
    let raw = base();
    let e1 = r#"[ "${EUID:-$(id -u)}" -eq 0 ] || sudo -nl usermod >/dev/null"#;
    assert_eq!(docker(&raw).superuser().to_string(), e1);
}

#[test]
fn root() {
    // Kamal: test "root?"
    let raw = base();
    let e1 = r#"[ "${EUID:-$(id -u)}" -eq 0 ]"#;
    assert_eq!(docker(&raw).root().to_string(), e1);
}

#[test]
fn in_docker_group() {
    // Kamal: test "in_docker_group?"
    let raw = base();
    let e1 = r#"id -nG "${USER:-$(id -un)}" | grep -qw docker"#;
    assert_eq!(docker(&raw).in_docker_group().to_string(), e1);
}

#[test]
fn add_to_docker_group() {
    // Kamal: test "add_to_docker_group"
    let raw = base();
    let e1 = r#"sudo -n usermod -aG docker "${USER:-$(id -un)}""#;
    assert_eq!(docker(&raw).add_to_docker_group().to_string(), e1);
}

#[test]
fn refresh_session() {
    // Kamal: test "refresh_session"
    let raw = base();
    let e1 = r#"kill -HUP $PPID"#;
    assert_eq!(docker(&raw).refresh_session().to_string(), e1);
}

#[test]
fn install_from_packages() {
    // Wharf: x-wharf docker_from_packages. One line for the remote shell: it parses, picks the
    // package manager there is, and says so when there is none.
    let line = Docker::new().install_from_packages().to_string();
    assert!(line.starts_with("s=; [ \"${EUID:-$(id -u)}\" -eq 0 ] || s=\"sudo -n\"; if command -v apt-get"), "{line}");
    assert!(line.contains("$s env DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io"), "{line}");
    assert!(line.ends_with("else $s service docker start; fi"), "{line}");
    assert!(!line.contains('\''), "no single quotes, so it can be wrapped: {line}");
    let parse = std::process::Command::new("sh").args(["-n", "-c", &line]).output().unwrap();
    assert!(parse.status.success(), "{}", String::from_utf8_lossy(&parse.stderr));
    let none = std::process::Command::new("/bin/sh").args(["-c", &line]).env("PATH", "/nonexistent").output().unwrap();
    assert_eq!(none.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&none.stderr)
            .contains("no package manager Wharf knows (apt-get, dnf, yum, zypper, apk, pacman)"),
        "{}",
        String::from_utf8_lossy(&none.stderr)
    );
}
