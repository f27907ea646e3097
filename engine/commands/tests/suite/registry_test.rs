//! Port of Kamal's test/commands/registry_test.rb.
#![allow(unused_variables)]

use crate::common::*;
use serde_yaml::Value;
use wharf_commands::Registry;

const BASE: &str = r#"{"service":"app","image":"dhh/app","registry":{"username":"dhh","password":"secret","server":"hub.docker.com"},"builder":{"arch":"amd64"},"servers":["1.1.1.1"],"accessories":{"db":{"image":"mysql:8.0","hosts":["1.1.1.1"],"registry":{"username":"user","password":"pw","server":"other.hub.docker.com"}}}}"#;

fn base() -> Value {
    yaml(BASE)
}

const SECRETS: [(&str, &str); 0] = [];

/// `registry` (`Kamal::Commands::Registry.new main_config`) with the given test secrets; the
/// closure also gets the config, for `main_config.accessory("db").registry`.
fn registry<R>(
    raw: &Value,
    secrets: &[(&str, &str)],
    f: impl FnOnce(&Registry, &wharf_config::Configuration) -> R,
) -> R {
    let c = config(raw, None, None, secrets);
    f(&Registry::new(&c), &c)
}

#[test]
fn registry_login() {
    // Kamal: test "registry login"
    let raw = base();
    let e1 = r#"docker login hub.docker.com -u "dhh" -p "secret""#;
    assert_eq!(registry(&raw, &SECRETS, |r, _| r.login(None).unwrap().unwrap().to_string()), e1);
}

#[test]
fn registry_login_with_the_password_on_stdin() {
    // Wharf's own: the password goes to standard input, never to argv.
    let raw = base();
    let login = registry(&raw, &SECRETS, |r, _| r.login_password_stdin(None).unwrap().unwrap());
    assert_eq!(login.to_string(), r#"docker login hub.docker.com -u "dhh" --password-stdin"#);
    assert_eq!(login.to_redacted_string(), "docker login hub.docker.com -u [REDACTED] --password-stdin");
    assert_eq!(login.stdin(), Some(&b"secret"[..]));
    assert!(!format!("{login:?}").contains("secret"));
}

#[test]
fn given_registry_login() {
    // Kamal: test "given registry login"
    let raw = base();
    let e1 = r#"docker login other.hub.docker.com -u "user" -p "pw""#;
    assert_eq!(
        registry(&raw, &[], |r, c| r.login(c.accessory("db").unwrap().registry()).unwrap().unwrap().to_string()),
        e1
    );
}

#[test]
fn registry_login_with_env_password() {
    // Kamal: test "registry login with ENV password"
    let raw = base();
    let raw = set(&raw, "registry/password", r#"["KAMAL_REGISTRY_PASSWORD"]"#);
    let raw = set(&raw, "accessories/db/registry/password", r#"["KAMAL_MYSQL_REGISTRY_PASSWORD"]"#);
    let e4 = r#"docker login hub.docker.com -u "dhh" -p "more-secret""#;
    let e5 = r#"docker login other.hub.docker.com -u "user" -p "secret-pw""#;
    let secrets = [("KAMAL_REGISTRY_PASSWORD", "more-secret"), ("KAMAL_MYSQL_REGISTRY_PASSWORD", "secret-pw")];
    assert_eq!(registry(&raw, &secrets, |r, _| r.login(None).unwrap().unwrap().to_string()), e4);
    assert_eq!(
        registry(&raw, &secrets, |r, c| r.login(c.accessory("db").unwrap().registry()).unwrap().unwrap().to_string()),
        e5
    );
}

#[test]
fn registry_login_escape_password() {
    // Kamal: test "registry login escape password"
    let raw = base();
    let raw = set(&raw, "registry/password", r#"["KAMAL_REGISTRY_PASSWORD"]"#);
    let e3 = r#"docker login hub.docker.com -u "dhh" -p "more-secret'\"""#;
    let secrets = [("KAMAL_REGISTRY_PASSWORD", "more-secret'\"")];
    assert_eq!(registry(&raw, &secrets, |r, _| r.login(None).unwrap().unwrap().to_string()), e3);
}

#[test]
fn registry_login_with_env_username() {
    // Kamal: test "registry login with ENV username"
    let raw = base();
    let raw = set(&raw, "registry/username", r#"["KAMAL_REGISTRY_USERNAME"]"#);
    let e3 = r#"docker login hub.docker.com -u "also-secret" -p "secret""#;
    let secrets = [("KAMAL_REGISTRY_USERNAME", "also-secret")];
    assert_eq!(registry(&raw, &secrets, |r, _| r.login(None).unwrap().unwrap().to_string()), e3);
}

#[test]
fn registry_logout() {
    // Kamal: test "registry logout"
    let raw = base();
    let e1 = r#"docker logout hub.docker.com"#;
    assert_eq!(registry(&raw, &[], |r, _| r.logout(None).to_string()), e1);
}

#[test]
fn given_registry_logout() {
    // Kamal: test "given registry logout"
    let raw = base();
    let e1 = r#"docker logout other.hub.docker.com"#;
    assert_eq!(registry(&raw, &[], |r, c| r.logout(c.accessory("db").unwrap().registry()).to_string()), e1);
}

#[test]
fn registry_setup() {
    // Kamal: test "registry setup"
    let raw = base();
    let raw = set(&raw, "registry", r#"{"server":"localhost:5000"}"#);
    let e1 = r#"docker start kamal-docker-registry || docker run --detach -p 127.0.0.1:5000:5000 --name kamal-docker-registry registry:3"#;
    assert_eq!(registry(&raw, &[], |r, _| r.setup(None).to_string()), e1);
}

#[test]
fn registry_remove() {
    // Kamal: test "registry remove"
    let raw = base();
    let e1 = r#"docker stop kamal-docker-registry && docker rm kamal-docker-registry"#;
    assert_eq!(registry(&raw, &[], |r, _| r.remove().to_string()), e1);
}
