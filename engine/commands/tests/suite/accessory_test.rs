//! Port of Kamal's test/commands/accessory_test.rb.
#![allow(unused_variables)]

use crate::common::*;
use serde_yaml::Value;
use wharf_commands::{Accessory, AccessoryLogsOptions, Interactive};

const BASE: &str = r#"{"service":"app","image":"dhh/app","registry":{"server":"private.registry","username":"dhh","password":"secret"},"servers":["1.1.1.1"],"builder":{"arch":"amd64"},"accessories":{"mysql":{"image":"private.registry/mysql:8.0","host":"1.1.1.5","port":"3306","env":{"clear":{"MYSQL_ROOT_HOST":"%"},"secret":["MYSQL_ROOT_PASSWORD"]},"options":{"cpus":"4","memory":"2GB"}},"redis":{"image":"redis:latest","host":"1.1.1.6","port":"6379:6379","labels":{"cache":"true"},"env":{"SOMETHING":"else"},"volumes":["/var/lib/redis:/data"]},"busybox":{"service":"custom-busybox","image":"busybox:latest","registry":{"server":"other.registry","username":"user","password":"pw"},"host":"1.1.1.7","proxy":{"host":"busybox.example.com"}}}}"#;

fn base() -> Value {
    yaml(BASE)
}

/// `new_command(accessory)` (secrets `MYSQL_ROOT_PASSWORD=secret123`).
fn new_command<R>(raw: &Value, accessory: &str, f: impl FnOnce(&Accessory) -> R) -> R {
    let c = config(raw, None, None, &[("MYSQL_ROOT_PASSWORD", "secret123")]);
    let a = Accessory::new(&c, accessory).expect("accessory");
    f(&a)
}

fn logs_options(f: impl FnOnce(&mut AccessoryLogsOptions)) -> AccessoryLogsOptions {
    let mut o = AccessoryLogsOptions::default();
    f(&mut o);
    o
}

#[test]
fn run() {
    // Kamal: test "run"
    let raw = base();
    let e1 = r#"docker run --name app-mysql --detach --restart unless-stopped --network kamal --log-opt max-size="10m" --publish 3306:3306 --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env --label service="app-mysql" --cpus "4" --memory "2GB" private.registry/mysql:8.0"#;
    let e2 = r#"docker run --name app-redis --detach --restart unless-stopped --network kamal --log-opt max-size="10m" --publish 6379:6379 --env SOMETHING="else" --env-file .kamal/apps/app/env/accessories/redis.env --volume /var/lib/redis:/data --label service="app-redis" --label cache="true" redis:latest"#;
    let e3 = r#"docker run --name custom-busybox --detach --restart unless-stopped --network kamal --log-opt max-size="10m" --env-file .kamal/apps/app/env/accessories/busybox.env --label service="custom-busybox" other.registry/busybox:latest"#;
    assert_eq!(new_command(&raw, "mysql", |a| a.run(None).to_string()), e1);
    assert_eq!(new_command(&raw, "redis", |a| a.run(None).to_string()), e2);
    assert_eq!(new_command(&raw, "busybox", |a| a.run(None).to_string()), e3);
}

#[test]
fn run_with_logging_config() {
    // Kamal: test "run with logging config"
    let raw = base();
    let raw = set(&raw, "logging", r#"{"driver":"local","options":{"max-size":"100m","max-file":"3"}}"#);
    let e1 = r#"docker run --name custom-busybox --detach --restart unless-stopped --network kamal --log-driver "local" --log-opt max-size="100m" --log-opt max-file="3" --env-file .kamal/apps/app/env/accessories/busybox.env --label service="custom-busybox" other.registry/busybox:latest"#;
    assert_eq!(new_command(&raw, "busybox", |a| a.run(None).to_string()), e1);
}

#[test]
fn run_with_custom_restart_policy() {
    // Kamal: test "run with custom restart policy"
    let raw = base();
    let raw = set(&raw, "accessories/mysql/options/restart", r#""on-failure""#);
    let e1 = r#"docker run --name app-mysql --detach --restart on-failure --network kamal --log-opt max-size="10m" --publish 3306:3306 --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env --label service="app-mysql" --cpus "4" --memory "2GB" private.registry/mysql:8.0"#;
    assert_eq!(new_command(&raw, "mysql", |a| a.run(None).to_string()), e1);
}

#[test]
fn run_in_custom_network() {
    // Kamal: test "run in custom network"
    let raw = base();
    let raw = set(&raw, "accessories/mysql/network", r#""custom""#);
    let e1 = r#"docker run --name app-mysql --detach --restart unless-stopped --network custom --log-opt max-size="10m" --publish 3306:3306 --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env --label service="app-mysql" --cpus "4" --memory "2GB" private.registry/mysql:8.0"#;
    assert_eq!(new_command(&raw, "mysql", |a| a.run(None).to_string()), e1);
}

#[test]
fn start() {
    // Kamal: test "start"
    let raw = base();
    let e1 = r#"docker container start app-mysql"#;
    assert_eq!(new_command(&raw, "mysql", |a| a.start().to_string()), e1);
}

#[test]
fn stop() {
    // Kamal: test "stop"
    let raw = base();
    let e1 = r#"docker container stop app-mysql"#;
    assert_eq!(new_command(&raw, "mysql", |a| a.stop().to_string()), e1);
}

#[test]
fn info() {
    // Kamal: test "info"
    let raw = base();
    let e1 = r#"docker ps --filter label=service=app-mysql"#;
    assert_eq!(new_command(&raw, "mysql", |a| a.info(false, false).to_string()), e1);
}

#[test]
fn execute_in_new_container() {
    // Kamal: test "execute in new container"
    let raw = base();
    let e1 = r#"docker run --rm --network kamal --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env --cpus "4" --memory "2GB" private.registry/mysql:8.0 mysql -u root"#;
    assert_eq!(
        new_command(&raw, "mysql", |a| a
            .execute_in_new_container(&["mysql", "-u", "root"], Interactive::No)
            .to_string()),
        e1
    );
}

#[test]
fn execute_in_new_container_excludes_restart_policy() {
    // Kamal: test "execute in new container excludes restart policy"
    let raw = base();
    let raw = set(&raw, "accessories/mysql/options/restart", r#""on-failure""#);
    let e1 = r#"docker run --rm --network kamal --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env --cpus "4" --memory "2GB" private.registry/mysql:8.0 mysql -u root"#;
    let r2 = r#"--restart"#;
    let command = new_command(&raw, "mysql", |a| {
        a.execute_in_new_container(&["mysql", "-u", "root"], Interactive::No).to_string()
    });
    assert_eq!(command, e1);
    assert_no_match(r2, &command);
}

#[test]
fn execute_in_existing_container() {
    // Kamal: test "execute in existing container"
    let raw = base();
    let e1 = r#"docker exec app-mysql mysql -u root"#;
    assert_eq!(
        new_command(&raw, "mysql", |a| a
            .execute_in_existing_container(&["mysql", "-u", "root"], Interactive::No)
            .to_string()),
        e1
    );
}

#[test]
fn execute_in_new_container_over_ssh() {
    // Kamal: test "execute in new container over ssh"
    let raw = base();
    let r1 = r#"docker run -it --rm --network kamal --env MYSQL_ROOT_HOST=\"%\" --env-file .kamal/apps/app/env/accessories/mysql.env --cpus \"4\" --memory \"2GB\" private.registry/mysql:8.0 mysql -u root"#;
    assert_match(
        r1,
        &new_command(&raw, "mysql", |a| a.execute_in_new_container_over_ssh(&["mysql", "-u", "root"], true)),
    );
}

#[test]
fn execute_in_existing_container_over_ssh() {
    // Kamal: test "execute in existing container over ssh"
    let raw = base();
    let r1 = r#"docker exec -it app-mysql mysql -u root"#;
    assert_match(
        r1,
        &new_command(&raw, "mysql", |a| a.execute_in_existing_container_over_ssh(&["mysql", "-u", "root"], true)),
    );
}

#[test]
fn execute_in_existing_container_with_piped_input_over_ssh() {
    // Kamal: test "execute in existing container with piped input over ssh"
    let raw = base();
    let r1 = r#"docker exec -i app-mysql mysql -u root"#;
    assert_match(
        r1,
        &new_command(&raw, "mysql", |a| a.execute_in_existing_container_over_ssh(&["mysql", "-u", "root"], false)),
    );
}

#[test]
fn logs() {
    // Kamal: test "logs"
    let raw = base();
    let e1 = r#"docker logs app-mysql --timestamps 2>&1"#;
    let e2 = r#"docker logs app-mysql  --since 5m  --tail 100 --timestamps 2>&1 | grep 'thing'"#;
    let e3 = r#"docker logs app-mysql  --since 5m  --tail 100 --timestamps 2>&1 | grep 'thing' -C 2"#;
    let e4 = r#"docker logs app-mysql  --since 5m  --tail 100 2>&1 | grep 'thing' -C 2"#;
    assert_eq!(new_command(&raw, "mysql", |a| a.logs(&AccessoryLogsOptions::default()).to_string()), e1);
    assert_eq!(
        new_command(&raw, "mysql", |a| a
            .logs(&logs_options(|o| {
                o.since = Some("5m".into());
                o.lines = Some("100".into());
                o.grep = Some("thing".into())
            }))
            .to_string()),
        e2
    );
    assert_eq!(
        new_command(&raw, "mysql", |a| a
            .logs(&logs_options(|o| {
                o.since = Some("5m".into());
                o.lines = Some("100".into());
                o.grep = Some("thing".into());
                o.grep_options = Some("-C 2".into())
            }))
            .to_string()),
        e3
    );
    assert_eq!(
        new_command(&raw, "mysql", |a| a
            .logs(&logs_options(|o| {
                o.timestamps = false;
                o.since = Some("5m".into());
                o.lines = Some("100".into());
                o.grep = Some("thing".into());
                o.grep_options = Some("-C 2".into())
            }))
            .to_string()),
        e4
    );
}

#[test]
fn follow_logs() {
    // Kamal: test "follow logs"
    let raw = base();
    let e1 = r#"ssh -t root@1.1.1.5 -p 22 'docker logs app-mysql --timestamps --tail 10 --follow 2>&1'"#;
    let e2 = r#"ssh -t root@1.1.1.5 -p 22 'docker logs app-mysql --tail 10 --follow 2>&1'"#;
    assert_eq!(new_command(&raw, "mysql", |a| a.follow_logs(true, None, None)), e1);
    assert_eq!(new_command(&raw, "mysql", |a| a.follow_logs(false, None, None)), e2);
}

#[test]
fn remove_container() {
    // Kamal: test "remove container"
    let raw = base();
    let e1 = r#"docker container prune --force --filter label=service=app-mysql"#;
    assert_eq!(new_command(&raw, "mysql", |a| a.remove_container().to_string()), e1);
}

#[test]
fn pull_image() {
    // Kamal: test "pull image"
    let raw = base();
    let e1 = r#"docker image pull private.registry/mysql:8.0"#;
    assert_eq!(new_command(&raw, "mysql", |a| a.pull_image().to_string()), e1);
}

#[test]
fn remove_image() {
    // Kamal: test "remove image"
    let raw = base();
    let e1 = r#"docker image rm --force private.registry/mysql:8.0"#;
    assert_eq!(new_command(&raw, "mysql", |a| a.remove_image().to_string()), e1);
}

#[test]
fn deploy() {
    // Kamal: test "deploy"
    let raw = base();
    let e1 = r#"docker exec kamal-proxy kamal-proxy deploy custom-busybox --target="172.1.0.2:80" --host="busybox.example.com" --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent""#;
    assert_eq!(new_command(&raw, "busybox", |a| a.deploy("172.1.0.2").to_string()), e1);
}

#[test]
fn remove() {
    // Kamal: test "remove"
    let raw = base();
    let e1 = r#"docker exec kamal-proxy kamal-proxy remove custom-busybox"#;
    assert_eq!(new_command(&raw, "busybox", |a| a.remove().to_string()), e1);
}
