//! Port of Kamal's test/commands/proxy_test.rb.
#![allow(unused_variables)]

use crate::common::*;
use serde_yaml::Value;
use wharf_commands::{Proxy, ProxyLogsOptions};

const BASE: &str = r#"{"service":"app","image":"dhh/app","registry":{"username":"dhh","password":"secret"},"servers":["1.1.1.1"],"builder":{"arch":"amd64"}}"#;

fn base() -> Value {
    yaml(BASE)
}

/// `new_command` (version 123, host 1.1.1.1).
fn new_command<R>(raw: &Value, f: impl FnOnce(&Proxy) -> R) -> R {
    let c = config(raw, None, Some("123"), &[]);
    f(&Proxy::new(&c, "1.1.1.1"))
}

fn logs_options(f: impl FnOnce(&mut ProxyLogsOptions)) -> ProxyLogsOptions {
    let mut o = ProxyLogsOptions::default();
    f(&mut o);
    o
}

#[test]
fn run() {
    // Kamal: test "run"
    let raw = base();
    let e1 = r#"echo $(cat .kamal/proxy/options 2> /dev/null || echo "--publish 80:80 --publish 443:443 --log-opt max-size=10m") $(cat .kamal/proxy/image 2> /dev/null || echo "basecamp/kamal-proxy"):$(cat .kamal/proxy/image_version 2> /dev/null || echo "v0.9.2") $(cat .kamal/proxy/run_command 2> /dev/null || echo "") | xargs docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config"#;
    assert_eq!(new_command(&raw, |p| p.run().to_string()), e1);
}

#[test]
fn run_without_configuration() {
    // Kamal: test "run without configuration"
    let raw = base();
    let e1 = r#"echo $(cat .kamal/proxy/options 2> /dev/null || echo "--publish 80:80 --publish 443:443 --log-opt max-size=10m") $(cat .kamal/proxy/image 2> /dev/null || echo "basecamp/kamal-proxy"):$(cat .kamal/proxy/image_version 2> /dev/null || echo "v0.9.2") $(cat .kamal/proxy/run_command 2> /dev/null || echo "") | xargs docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config"#;
    let raw = without(&raw, "proxy");
    assert_eq!(new_command(&raw, |p| p.run().to_string()), e1);
}

#[test]
fn proxy_start() {
    // Kamal: test "proxy start"
    let raw = base();
    let e1 = r#"docker container start kamal-proxy"#;
    assert_eq!(new_command(&raw, |p| p.start().to_string()), e1);
}

#[test]
fn proxy_stop() {
    // Kamal: test "proxy stop"
    let raw = base();
    let e1 = r#"docker container stop kamal-proxy"#;
    assert_eq!(new_command(&raw, |p| p.stop(None).to_string()), e1);
}

#[test]
fn proxy_info() {
    // Kamal: test "proxy info"
    let raw = base();
    let e1 = r#"docker ps --filter 'name=^kamal-proxy$'"#;
    assert_eq!(new_command(&raw, |p| p.info().to_string()), e1);
}

#[test]
fn proxy_logs() {
    // Kamal: test "proxy logs"
    let raw = base();
    let e1 = r#"docker logs kamal-proxy --timestamps 2>&1"#;
    assert_eq!(new_command(&raw, |p| p.logs(&ProxyLogsOptions::default()).to_string()), e1);
}

#[test]
fn proxy_logs_since_2h() {
    // Kamal: test "proxy logs since 2h"
    let raw = base();
    let e1 = r#"docker logs kamal-proxy --since 2h --timestamps 2>&1"#;
    assert_eq!(new_command(&raw, |p| p.logs(&logs_options(|o| o.since = Some("2h".into()))).to_string()), e1);
}

#[test]
fn proxy_logs_last_10_lines() {
    // Kamal: test "proxy logs last 10 lines"
    let raw = base();
    let e1 = r#"docker logs kamal-proxy --tail 10 --timestamps 2>&1"#;
    assert_eq!(new_command(&raw, |p| p.logs(&logs_options(|o| o.lines = Some("10".into()))).to_string()), e1);
}

#[test]
fn proxy_logs_without_timestamps() {
    // Kamal: test "proxy logs without timestamps"
    let raw = base();
    let e1 = r#"docker logs kamal-proxy 2>&1"#;
    assert_eq!(new_command(&raw, |p| p.logs(&logs_options(|o| o.timestamps = false)).to_string()), e1);
}

#[test]
fn proxy_logs_with_grep_hello() {
    // Kamal: test "proxy logs with grep hello!"
    let raw = base();
    let e1 = r#"docker logs kamal-proxy --timestamps 2>&1 | grep 'hello!'"#;
    assert_eq!(new_command(&raw, |p| p.logs(&logs_options(|o| o.grep = Some("hello!".into()))).to_string()), e1);
}

#[test]
fn proxy_remove_container() {
    // Kamal: test "proxy remove container"
    let raw = base();
    let e1 = r#"docker container prune --force --filter label=org.opencontainers.image.title=kamal-proxy"#;
    assert_eq!(new_command(&raw, |p| p.remove_container().to_string()), e1);
}

#[test]
fn proxy_remove_image() {
    // Kamal: test "proxy remove image"
    let raw = base();
    let e1 = r#"docker image prune --all --force --filter label=org.opencontainers.image.title=kamal-proxy"#;
    assert_eq!(new_command(&raw, |p| p.remove_image().to_string()), e1);
}

#[test]
fn proxy_follow_logs() {
    // Kamal: test "proxy follow logs"
    let raw = base();
    let e1 = r#"ssh -t root@1.1.1.1 -p 22 'docker logs kamal-proxy --timestamps --tail 10 --follow 2>&1'"#;
    assert_eq!(new_command(&raw, |p| p.follow_logs("1.1.1.1", true, None, None)), e1);
}

#[test]
fn proxy_follow_logs_with_grep_hello() {
    // Kamal: test "proxy follow logs with grep hello!"
    let raw = base();
    let e1 =
        r#"ssh -t root@1.1.1.1 -p 22 'docker logs kamal-proxy --timestamps --tail 10 --follow 2>&1 | grep "hello!"'"#;
    assert_eq!(new_command(&raw, |p| p.follow_logs("1.1.1.1", true, Some("hello!"), None)), e1);
}

#[test]
fn version() {
    // Kamal: test "version"
    let raw = base();
    let e1 = r#"docker inspect kamal-proxy --format '{{.Config.Image}}' | awk -F: '{print $NF}'"#;
    assert_eq!(new_command(&raw, |p| p.version().to_string()), e1);
}

#[test]
fn ensure_proxy_directory() {
    // Kamal: test "ensure_proxy_directory"
    let raw = base();
    let e1 = r#"mkdir -p .kamal/proxy"#;
    assert_eq!(new_command(&raw, |p| p.ensure_proxy_directory().to_string()), e1);
}

#[test]
fn read_boot_options() {
    // Kamal: test "read_boot_options"
    let raw = base();
    let e1 =
        r#"cat .kamal/proxy/options 2> /dev/null || echo "--publish 80:80 --publish 443:443 --log-opt max-size=10m""#;
    assert_eq!(new_command(&raw, |p| p.read_boot_options().to_string()), e1);
}

#[test]
fn read_image() {
    // Kamal: test "read_image"
    let raw = base();
    let e1 = r#"cat .kamal/proxy/image 2> /dev/null || echo "basecamp/kamal-proxy""#;
    assert_eq!(new_command(&raw, |p| p.read_image().to_string()), e1);
}

#[test]
fn read_image_version() {
    // Kamal: test "read_image_version"
    let raw = base();
    let e1 = r#"cat .kamal/proxy/image_version 2> /dev/null || echo "v0.9.2""#;
    assert_eq!(new_command(&raw, |p| p.read_image_version().to_string()), e1);
}

#[test]
fn read_run_command() {
    // Kamal: test "read_run_command"
    let raw = base();
    let e1 = r#"cat .kamal/proxy/run_command 2> /dev/null || echo """#;
    assert_eq!(new_command(&raw, |p| p.read_run_command().to_string()), e1);
}

#[test]
fn reset_boot_options() {
    // Kamal: test "reset_boot_options"
    let raw = base();
    let e1 = r#"rm .kamal/proxy/options"#;
    assert_eq!(new_command(&raw, |p| p.reset_boot_options().to_string()), e1);
}

#[test]
fn reset_image() {
    // Kamal: test "reset_image"
    let raw = base();
    let e1 = r#"rm .kamal/proxy/image"#;
    assert_eq!(new_command(&raw, |p| p.reset_image().to_string()), e1);
}

#[test]
fn reset_image_version() {
    // Kamal: test "reset_image_version"
    let raw = base();
    let e1 = r#"rm .kamal/proxy/image_version"#;
    assert_eq!(new_command(&raw, |p| p.reset_image_version().to_string()), e1);
}

#[test]
fn ensure_apps_config_directory() {
    // Kamal: test "ensure_apps_config_directory"
    let raw = base();
    let e1 = r#"mkdir -p .kamal/proxy/apps-config"#;
    assert_eq!(new_command(&raw, |p| p.ensure_apps_config_directory().to_string()), e1);
}

#[test]
fn reset_run_command() {
    // Kamal: test "reset_run_command"
    let raw = base();
    let e1 = r#"rm .kamal/proxy/run_command"#;
    assert_eq!(new_command(&raw, |p| p.reset_run_command().to_string()), e1);
}

#[test]
fn registry_run_config() {
    // Kamal: test "registry run config"
    let raw = base();
    let raw = set(&raw, "proxy", r#"{"run":{"registry":"registry:4443"}}"#);
    let e1 = r#"docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=10m registry:4443/basecamp/kamal-proxy:v0.9.2 kamal-proxy run"#;
    assert_eq!(new_command(&raw, |p| p.run().to_string()), e1);
}

#[test]
fn repository_run_config() {
    // Kamal: test "repository run config"
    let raw = base();
    let raw = set(&raw, "proxy", r#"{"run":{"repository":"custom/repo"}}"#);
    let e1 = r#"docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=10m custom/repo:v0.9.2 kamal-proxy run"#;
    assert_eq!(new_command(&raw, |p| p.run().to_string()), e1);
}

#[test]
fn image_version_run_config() {
    // Kamal: test "image_version run config"
    let raw = base();
    let raw = set(&raw, "proxy", r#"{"run":{"version":"v1.2.3"}}"#);
    let e1 = r#"docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=10m basecamp/kamal-proxy:v1.2.3 kamal-proxy run"#;
    assert_eq!(new_command(&raw, |p| p.run().to_string()), e1);
}

#[test]
fn bind_ips_run_config() {
    // Kamal: test "bind_ips run config"
    let raw = base();
    let raw = set(&raw, "proxy", r#"{"run":{"bind_ips":["0.0.0.0","127.0.0.1"]}}"#);
    let e1 = r#"docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 0.0.0.0:80:80 --publish 0.0.0.0:443:443 --publish 127.0.0.1:80:80 --publish 127.0.0.1:443:443 --log-opt max-size=10m basecamp/kamal-proxy:v0.9.2 kamal-proxy run"#;
    assert_eq!(new_command(&raw, |p| p.run().to_string()), e1);
}

#[test]
fn log_max_size_run_config() {
    // Kamal: test "log_max_size run config"
    let raw = base();
    let raw = set(&raw, "proxy", r#"{"run":{"log_max_size":"50m"}}"#);
    let e1 = r#"docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=50m basecamp/kamal-proxy:v0.9.2 kamal-proxy run"#;
    assert_eq!(new_command(&raw, |p| p.run().to_string()), e1);
}

#[test]
fn debug_run_config() {
    // Kamal: test "debug run config"
    let raw = base();
    let raw = set(&raw, "proxy", r#"{"run":{"debug":true}}"#);
    let e1 = r#"docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=10m basecamp/kamal-proxy:v0.9.2 kamal-proxy run --debug"#;
    assert_eq!(new_command(&raw, |p| p.run().to_string()), e1);
}

#[test]
fn metrics_port_run_config() {
    // Kamal: test "metrics_port run config"
    let raw = base();
    let raw = set(&raw, "proxy", r#"{"run":{"metrics_port":9090}}"#);
    let e1 = r#"docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=10m --expose=9090 basecamp/kamal-proxy:v0.9.2 kamal-proxy run --metrics-port "9090""#;
    assert_eq!(new_command(&raw, |p| p.run().to_string()), e1);
}

#[test]
fn don_t_publish_run_config() {
    // Kamal: test "don't publish run config"
    let raw = base();
    let raw = set(&raw, "proxy", r#"{"run":{"publish":false}}"#);
    let e1 = r#"docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --log-opt max-size=10m basecamp/kamal-proxy:v0.9.2 kamal-proxy run"#;
    assert_eq!(new_command(&raw, |p| p.run().to_string()), e1);
}
