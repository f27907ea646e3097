//! Ports of Kamal's ssh_test.rb, sshkit_test.rb, boot_test.rb, output_test.rb and volume_test.rb.

use crate::common::*;
use serde_yaml::Value;
use wharf_config::{SshProxy, Volume};

fn deploy() -> Value {
    yaml(
        r#"
service: app
image: dhh/app
registry: { username: dhh, password: secret }
builder: { arch: amd64 }
env: { REDIS_URL: "redis://x/y" }
servers: [ "1.1.1.1", "1.1.1.2" ]
volumes: [ "/local/path:/container/path" ]
"#,
    )
}

fn ssh(s: &str) -> wharf_config::Configuration {
    config(&merge(&deploy(), &format!("ssh: {s}")))
}

#[test]
fn ssh_options() {
    let c = config(&deploy());
    assert_eq!(c.ssh().user(), "root");
    assert_eq!(c.ssh().port(), 22);
    assert_eq!(c.ssh().log_level(), "fatal");
    assert_eq!(c.ssh().forward_agent(), None);
    assert_eq!(ssh("{ user: app }").ssh().user(), "app");
    assert_eq!(ssh("{ log_level: debug }").ssh().log_level(), "debug");
    assert_eq!(ssh("{ port: 2222 }").ssh().port(), 2222);
    assert_eq!(ssh("{ config: true }").ssh().config(), Some(Value::Bool(true)));
    assert_eq!(ssh("{ config: false }").ssh().config(), Some(Value::Bool(false)));
    assert_eq!(ssh("{ config: ~/config.mine }").ssh().config(), Some(Value::String("~/config.mine".into())));
    assert_eq!(
        ssh("{ config: [ ~/config.mine.1, ~/config.mine.2 ] }").ssh().config(),
        Some(yaml("[ ~/config.mine.1, ~/config.mine.2 ]"))
    );
    assert_eq!(ssh("{ forward_agent: false }").ssh().forward_agent(), Some(false));
    assert_eq!(ssh("{ forward_agent: true }").ssh().forward_agent(), Some(true));
    assert_eq!(ssh("{ keys_only: true, keys: [ ~/.ssh/id.pem ] }").ssh().keys(), Some(strs(&["~/.ssh/id.pem"])));
}

#[test]
fn ssh_proxy() {
    assert_eq!(ssh("{ proxy: 1.2.3.4 }").ssh().proxy(), Some(SshProxy::Jump("root@1.2.3.4".into())));
    assert_eq!(ssh("{ proxy: app@1.2.3.4 }").ssh().proxy(), Some(SshProxy::Jump("app@1.2.3.4".into())));
    assert_eq!(
        ssh("{ proxy_command: 'ssh -W %h:%p user@proxy' }").ssh().proxy(),
        Some(SshProxy::Command("ssh -W %h:%p user@proxy".into()))
    );
}

#[test]
fn ssh_key_data() {
    let c = ssh("{ key_data: [ '-----BEGIN OPENSSH PRIVATE KEY-----' ] }");
    assert_eq!(c.ssh().key_data().unwrap(), Some(strs(&["-----BEGIN OPENSSH PRIVATE KEY-----"])));
    assert_eq!(c.ssh().inline_key_data(), strs(&["-----BEGIN OPENSSH PRIVATE KEY-----"]));
    let raw = merge(&deploy(), "ssh: { key_data: [ SSH_PRIVATE_KEY, SECOND_KEY ] }");
    let c =
        config_with_secrets(&raw, &[("SSH_PRIVATE_KEY", "secret_ssh_key"), ("SECOND_KEY", "second_secret_ssh_key")]);
    assert_eq!(c.ssh().key_data().unwrap(), Some(strs(&["secret_ssh_key", "second_secret_ssh_key"])));
    assert!(c.ssh().inline_key_data().is_empty());
}

#[test]
fn sshkit() {
    let c = config(&deploy());
    assert_eq!(
        (c.sshkit().max_concurrent_starts(), c.sshkit().pool_idle_timeout(), c.sshkit().dns_retries()),
        (30, 900, 3)
    );
    let c = config(&merge(&deploy(), "sshkit: { max_concurrent_starts: 50, pool_idle_timeout: 600, dns_retries: 5 }"));
    assert_eq!(
        (c.sshkit().max_concurrent_starts(), c.sshkit().pool_idle_timeout(), c.sshkit().dns_retries()),
        (50, 600, 5)
    );
}

fn boot(b: &str) -> wharf_config::Configuration {
    config(&merge(&deploy(), &format!("servers: {{ web: [ 1.1.1.1, 1.1.1.2 ], workers: [ 1.1.1.3, 1.1.1.4 ] }}\n{b}")))
}

#[test]
fn boot_strategy() {
    let c = boot("");
    assert_eq!((c.boot().limit(), c.boot().wait(), c.boot().parallel_roles()), (None, None, None));
    let c = boot("boot: { limit: 3, wait: 2 }");
    assert_eq!((c.boot().limit(), c.boot().wait()), (Some(3), Some(2)));
    let c = boot("boot: { limit: 50%, wait: 2 }");
    assert_eq!((c.boot().limit(), c.boot().wait()), (Some(2), Some(2)));
    let c = boot("boot: { limit: 1%, wait: 2 }");
    assert_eq!(c.boot().limit(), Some(1));
    assert_eq!(boot("boot: { parallel_roles: true }").boot().parallel_roles(), Some(true));
}

#[test]
fn output() {
    let c = config(&deploy());
    assert!(!c.output().enabled());
    let c = config(&merge(
        &deploy(),
        "output: { otel: { endpoint: 'http://otel-gateway:4318' }, file: { path: /var/log/kamal/ } }",
    ));
    assert!(c.output().enabled());
    assert_eq!(c.output().otel_endpoint().unwrap(), "http://otel-gateway:4318");
    assert_eq!(c.output().file_path().unwrap(), "/var/log/kamal/");
    assert!(!config(&merge(&deploy(), "output: {}")).output().enabled());
}

#[test]
fn volumes() {
    assert_eq!(
        Volume::new("/root/foo/bar", "/assets", None).docker_args(),
        strs(&["--volume", "/root/foo/bar:/assets"])
    );
    assert_eq!(Volume::new("foo/bar", "/assets", None).docker_args(), strs(&["--volume", "$PWD/foo/bar:/assets"]));
    assert_eq!(
        Volume::new("/root/foo/bar", "/assets", Some("ro".into())).docker_args(),
        strs(&["--volume", "/root/foo/bar:/assets:ro"])
    );
    assert_eq!(
        Volume::new("/root/foo/bar", "/assets", Some("ro,z".into())).docker_args(),
        strs(&["--volume", "/root/foo/bar:/assets:ro,z"])
    );
    assert_eq!(Volume::new("/data", "/data", Some("Z".into())).docker_args(), strs(&["--volume", "/data:/data:Z"]));
}
