//! Port of Kamal's test/commands/app_test.rb.
#![allow(unused_variables)]

use crate::common::*;
use serde_yaml::Value;
use wharf_commands::{App, ContainerId, ExecOptions, Interactive, LogsOptions};

const BASE: &str = r#"{"service":"app","image":"dhh/app","registry":{"username":"dhh","password":"secret"},"servers":{"web":["1.1.1.1"],"workers":["1.1.1.2"]},"env":{"secret":["RAILS_MASTER_KEY"]},"builder":{"arch":"amd64"}}"#;

fn base() -> Value {
    yaml(BASE)
}

/// `new_command(role:, host:)` (version 999, secrets `RAILS_MASTER_KEY=456`).
fn new_command<R>(raw: &Value, destination: Option<&str>, role: &str, host: &str, f: impl FnOnce(&App) -> R) -> R {
    let c = config(raw, destination, Some("999"), &[("RAILS_MASTER_KEY", "456")]);
    let app = App::new(&c, c.role(role), Some(host));
    f(&app)
}

/// `new_command` with the defaults (`web` on `1.1.1.1`).
fn web<R>(raw: &Value, destination: Option<&str>, f: impl FnOnce(&App) -> R) -> R {
    new_command(raw, destination, "web", "1.1.1.1", f)
}

fn logs_options(f: impl FnOnce(&mut LogsOptions)) -> LogsOptions {
    let mut o = LogsOptions::default();
    f(&mut o);
    o
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn exec(detach: bool, env_pairs: &[(&str, &str)]) -> ExecOptions {
    ExecOptions { detach, env: env(env_pairs), ..Default::default() }
}

#[test]
fn run() {
    // Kamal: test "run"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker run --detach --restart unless-stopped --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --label service="app" --label role="web" --label destination dhh/app:999"#;
    assert_eq!(web(&raw, destination, |a| a.run(None).to_string()), e1);
}

#[test]
fn run_with_destination() {
    // Kamal: test "run with destination"
    let raw = base();
    let destination = Some("staging");
    let e1 = r#"docker run --detach --restart unless-stopped --name app-web-staging-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-staging-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env KAMAL_DESTINATION="staging" --env-file .kamal/apps/app-staging/env/roles/web.env --log-opt max-size="10m" --label service="app" --label role="web" --label destination="staging" dhh/app:999"#;
    assert_eq!(web(&raw, destination, |a| a.run(None).to_string()), e1);
}

#[test]
fn run_with_hostname() {
    // Kamal: test "run with hostname"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker run --detach --restart unless-stopped --name app-web-999 --network kamal --hostname myhost --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --label service="app" --label role="web" --label destination dhh/app:999"#;
    assert_eq!(web(&raw, destination, |a| a.run(Some("myhost")).to_string()), e1);
}

#[test]
fn run_with_volumes() {
    // Kamal: test "run with volumes"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "volumes", r#"["/local/path:/container/path"]"#);
    let e2 = r#"docker run --detach --restart unless-stopped --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --volume /local/path:/container/path --label service="app" --label role="web" --label destination dhh/app:999"#;
    assert_eq!(web(&raw, destination, |a| a.run(None).to_string()), e2);
}

#[test]
fn run_with_custom_options() {
    // Kamal: test "run with custom options"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(
        &raw,
        "servers",
        r#"{"web":["1.1.1.1"],"jobs":{"hosts":["1.1.1.2"],"cmd":"bin/jobs","options":{"mount":"somewhere","cap-add":true}}}"#,
    );
    let e1 = r#"docker run --detach --restart unless-stopped --name app-jobs-999 --network kamal --env KAMAL_CONTAINER_NAME="app-jobs-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.2" --env-file .kamal/apps/app/env/roles/jobs.env --log-opt max-size="10m" --label service="app" --label role="jobs" --label destination --mount "somewhere" --cap-add dhh/app:999 bin/jobs"#;
    assert_eq!(new_command(&raw, destination, "jobs", "1.1.1.2", |a| a.run(None).to_string()), e1);
}

#[test]
fn run_with_custom_restart_policy() {
    // Kamal: test "run with custom restart policy"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "servers", r#"{"web":{"hosts":["1.1.1.1"],"options":{"restart":"on-failure"}}}"#);
    let e1 = r#"docker run --detach --restart on-failure --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --label service="app" --label role="web" --label destination dhh/app:999"#;
    assert_eq!(web(&raw, destination, |a| a.run(None).to_string()), e1);
}

#[test]
fn run_with_logging_config() {
    // Kamal: test "run with logging config"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "logging", r#"{"driver":"local","options":{"max-size":"100m","max-file":"3"}}"#);
    let e1 = r#"docker run --detach --restart unless-stopped --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-driver "local" --log-opt max-size="100m" --log-opt max-file="3" --label service="app" --label role="web" --label destination dhh/app:999"#;
    assert_eq!(web(&raw, destination, |a| a.run(None).to_string()), e1);
}

#[test]
fn run_with_role_logging_config() {
    // Kamal: test "run with role logging config"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "logging", r#"{"driver":"local","options":{"max-size":"10m","max-file":"3"}}"#);
    let raw = set(
        &raw,
        "servers",
        r#"{"web":{"hosts":["1.1.1.1"],"logging":{"driver":"local","options":{"max-size":"100m"}}}}"#,
    );
    let e1 = r#"docker run --detach --restart unless-stopped --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-driver "local" --log-opt max-size="100m" --log-opt max-file="3" --label service="app" --label role="web" --label destination dhh/app:999"#;
    assert_eq!(web(&raw, destination, |a| a.run(None).to_string()), e1);
}

#[test]
fn run_with_tags() {
    // Kamal: test "run with tags"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "servers", r#"[{"1.1.1.1":"tag1"}]"#);
    let raw = set(&raw, "env/tags", r#"{"tag1":{"ENV1":"value1"}}"#);
    let e1 = r#"docker run --detach --restart unless-stopped --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env ENV1="value1" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --label service="app" --label role="web" --label destination dhh/app:999"#;
    assert_eq!(web(&raw, destination, |a| a.run(None).to_string()), e1);
}

#[test]
fn start() {
    // Kamal: test "start"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker start app-web-999"#;
    assert_eq!(web(&raw, destination, |a| a.start().to_string()), e1);
}

#[test]
fn start_with_destination() {
    // Kamal: test "start with destination"
    let raw = base();
    let destination = Some("staging");
    let e1 = r#"docker start app-web-staging-999"#;
    assert_eq!(web(&raw, destination, |a| a.start().to_string()), e1);
}

#[test]
fn stop() {
    // Kamal: test "stop"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{.ID}}'\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker stop"#;
    assert_eq!(web(&raw, destination, |a| a.stop(None).to_string()), e1);
}

#[test]
fn stop_by_name() {
    // Wharf: a version's container stopped by its name (`stop(version:)` finds it by that name).
    let raw = set(&base(), "drain_timeout", r#"20"#);
    assert_eq!(web(&raw, None, |a| a.stop_by_name("123").to_string()), "docker stop app-web-123");
    assert_eq!(
        new_command(&raw, None, "workers", "1.1.1.1", |a| a.stop_by_name("123").to_string()),
        "docker stop -t 20 app-workers-123"
    );
}

#[test]
fn stop_with_custom_drain_timeout() {
    // Kamal: test "stop with custom drain timeout"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "drain_timeout", r#"20"#);
    let e1 = r#"sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{.ID}}'\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker stop"#;
    let e2 = r#"sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=workers --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{.ID}}'\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=workers --filter status=running --filter status=restarting' | head -1 | xargs docker stop -t 20"#;
    assert_eq!(web(&raw, destination, |a| a.stop(None).to_string()), e1);
    assert_eq!(new_command(&raw, destination, "workers", "1.1.1.1", |a| a.stop(None).to_string()), e2);
}

#[test]
fn stop_with_stop_timeout() {
    // Kamal: test "stop with stop_timeout"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(
        &raw,
        "servers",
        r#"{"web":{"hosts":["1.1.1.1"],"stop_timeout":30},"workers":{"hosts":["1.1.1.2"],"cmd":"bin/jobs","stop_timeout":60}}"#,
    );
    let e1 = r#"sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{.ID}}'\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker stop -t 30"#;
    let e2 = r#"sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=workers --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{.ID}}'\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=workers --filter status=running --filter status=restarting' | head -1 | xargs docker stop -t 60"#;
    assert_eq!(web(&raw, destination, |a| a.stop(None).to_string()), e1);
    assert_eq!(new_command(&raw, destination, "workers", "1.1.1.1", |a| a.stop(None).to_string()), e2);
}

#[test]
fn stop_with_version() {
    // Kamal: test "stop with version"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker container ls --all --filter 'name=^app-web-123$' --quiet | xargs docker stop"#;
    assert_eq!(web(&raw, destination, |a| a.stop(Some("123")).to_string()), e1);
}

#[test]
fn info() {
    // Kamal: test "info"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker ps --filter label=service=app --filter label=destination= --filter label=role=web"#;
    assert_eq!(web(&raw, destination, |a| a.info().to_string()), e1);
}

#[test]
fn info_with_destination() {
    // Kamal: test "info with destination"
    let raw = base();
    let destination = Some("staging");
    let e1 = r#"docker ps --filter label=service=app --filter label=destination=staging --filter label=role=web"#;
    assert_eq!(web(&raw, destination, |a| a.info().to_string()), e1);
}

#[test]
fn deploy() {
    // Kamal: test "deploy"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker exec kamal-proxy kamal-proxy deploy app-web --target="172.1.0.2:80" --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent""#;
    assert_eq!(web(&raw, destination, |a| a.deploy("172.1.0.2").to_string()), e1);
}

#[test]
fn deploy_with_ssl() {
    // Kamal: test "deploy with SSL"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "proxy", r#"{"ssl":true,"host":"example.com"}"#);
    let e1 = r#"docker exec kamal-proxy kamal-proxy deploy app-web --target="172.1.0.2:80" --host="example.com" --tls --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent""#;
    assert_eq!(web(&raw, destination, |a| a.deploy("172.1.0.2").to_string()), e1);
}

#[test]
fn deploy_with_ssl_targeting_multiple_hosts() {
    // Kamal: test "deploy with SSL targeting multiple hosts"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "proxy", r#"{"ssl":true,"hosts":["example.com","anotherexample.com"]}"#);
    let e2 = r#"docker exec kamal-proxy kamal-proxy deploy app-web --target="172.1.0.2:80" --host="example.com" --host="anotherexample.com" --tls --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent""#;
    assert_eq!(web(&raw, destination, |a| a.deploy("172.1.0.2").to_string()), e2);
}

#[test]
fn deploy_with_ssl_false() {
    // Kamal: test "deploy with SSL false"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "proxy", r#"{"ssl":false}"#);
    let e1 = r#"docker exec kamal-proxy kamal-proxy deploy app-web --target="172.1.0.2:80" --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent""#;
    assert_eq!(web(&raw, destination, |a| a.deploy("172.1.0.2").to_string()), e1);
}

#[test]
fn remove() {
    // Kamal: test "remove"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker exec kamal-proxy kamal-proxy remove app-web"#;
    assert_eq!(web(&raw, destination, |a| a.remove().to_string()), e1);
}

#[test]
fn logs() {
    // Kamal: test "logs"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{.ID}}'\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker logs --timestamps 2>&1"#;
    assert_eq!(web(&raw, destination, |a| a.logs(&LogsOptions::default()).to_string()), e1);
}

#[test]
fn logs_with_container_id() {
    // Kamal: test "logs with container_id"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"sh -c 'echo C137' | xargs docker logs --timestamps 2>&1"#;
    assert_eq!(
        web(&raw, destination, |a| a
            .logs(&logs_options(|o| o.container_id = ContainerId::Id("C137".into())))
            .to_string()),
        e1
    );
}

#[test]
fn logs_with_since() {
    // Kamal: test "logs with since"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{.ID}}'\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker logs --timestamps --since 5m 2>&1"#;
    assert_eq!(web(&raw, destination, |a| a.logs(&logs_options(|o| o.since = Some("5m".into()))).to_string()), e1);
}

#[test]
fn logs_with_lines() {
    // Kamal: test "logs with lines"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{.ID}}'\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker logs --timestamps --tail 100 2>&1"#;
    assert_eq!(web(&raw, destination, |a| a.logs(&logs_options(|o| o.lines = Some("100".into()))).to_string()), e1);
}

#[test]
fn logs_with_since_and_lines() {
    // Kamal: test "logs with since and lines"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{.ID}}'\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker logs --timestamps --since 5m --tail 100 2>&1"#;
    assert_eq!(
        web(&raw, destination, |a| a
            .logs(&logs_options(|o| {
                o.since = Some("5m".into());
                o.lines = Some("100".into())
            }))
            .to_string()),
        e1
    );
}

#[test]
fn logs_with_grep() {
    // Kamal: test "logs with grep"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{.ID}}'\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker logs --timestamps 2>&1 | grep 'my-id'"#;
    assert_eq!(web(&raw, destination, |a| a.logs(&logs_options(|o| o.grep = Some("my-id".into()))).to_string()), e1);
}

#[test]
fn logs_with_grep_and_grep_options() {
    // Kamal: test "logs with grep and grep options"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{.ID}}'\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker logs --timestamps 2>&1 | grep 'my-id' -C 2"#;
    assert_eq!(
        web(&raw, destination, |a| a
            .logs(&logs_options(|o| {
                o.grep = Some("my-id".into());
                o.grep_options = Some("-C 2".into())
            }))
            .to_string()),
        e1
    );
}

#[test]
fn logs_with_since_grep_and_grep_options() {
    // Kamal: test "logs with since, grep and grep options"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{.ID}}'\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker logs --timestamps --since 5m 2>&1 | grep 'my-id' -C 2"#;
    assert_eq!(
        web(&raw, destination, |a| a
            .logs(&logs_options(|o| {
                o.since = Some("5m".into());
                o.grep = Some("my-id".into());
                o.grep_options = Some("-C 2".into())
            }))
            .to_string()),
        e1
    );
}

#[test]
fn logs_with_since_and_grep() {
    // Kamal: test "logs with since and grep"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{.ID}}'\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker logs --timestamps --since 5m 2>&1 | grep 'my-id'"#;
    assert_eq!(
        web(&raw, destination, |a| a
            .logs(&logs_options(|o| {
                o.since = Some("5m".into());
                o.grep = Some("my-id".into())
            }))
            .to_string()),
        e1
    );
}

#[test]
fn follow_logs() {
    // Kamal: test "follow logs"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"ssh -t root@app-1 -p 22 'sh -c '\''docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''\'\'''\''{{.ID}}'\''\'\'''\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting'\'' | head -1 | xargs docker logs --timestamps --follow 2>&1'"#;
    let e2 = r#"ssh -t root@app-1 -p 22 'sh -c '\''docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''\'\'''\''{{.ID}}'\''\'\'''\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting'\'' | head -1 | xargs docker logs --timestamps --follow 2>&1 | grep "Completed"'"#;
    let e3 = r#"ssh -t root@app-1 -p 22 'sh -c '\''echo ID321'\'' | xargs docker logs --timestamps --follow 2>&1'"#;
    let e4 = r#"ssh -t root@app-1 -p 22 'sh -c '\''docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''\'\'''\''{{.ID}}'\''\'\'''\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting'\'' | head -1 | xargs docker logs --timestamps --tail 123 --follow 2>&1'"#;
    let e5 = r#"ssh -t root@app-1 -p 22 'sh -c '\''docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''\'\'''\''{{.ID}}'\''\'\'''\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting'\'' | head -1 | xargs docker logs --timestamps --tail 123 --follow 2>&1 | grep "Completed"'"#;
    let e6 = r#"ssh -t root@app-1 -p 22 'sh -c '\''docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''\'\'''\''{{.ID}}'\''\'\'''\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting'\'' | head -1 | xargs docker logs --tail 123 --follow 2>&1 | grep "Completed"'"#;
    assert_eq!(web(&raw, destination, |a| a.follow_logs("app-1", &LogsOptions::default())), e1);
    assert_eq!(
        web(&raw, destination, |a| a.follow_logs("app-1", &logs_options(|o| o.grep = Some("Completed".into())))),
        e2
    );
    assert_eq!(
        web(&raw, destination, |a| a
            .follow_logs("app-1", &logs_options(|o| o.container_id = ContainerId::Id("ID321".into())))),
        e3
    );
    assert_eq!(web(&raw, destination, |a| a.follow_logs("app-1", &logs_options(|o| o.lines = Some("123".into())))), e4);
    assert_eq!(
        web(&raw, destination, |a| a.follow_logs(
            "app-1",
            &logs_options(|o| {
                o.lines = Some("123".into());
                o.grep = Some("Completed".into())
            })
        )),
        e5
    );
    assert_eq!(
        web(&raw, destination, |a| a.follow_logs(
            "app-1",
            &logs_options(|o| {
                o.timestamps = false;
                o.lines = Some("123".into());
                o.grep = Some("Completed".into())
            })
        )),
        e6
    );
}

#[test]
fn follow_logs_with_ssh_keys() {
    // Kamal: test "follow logs with ssh keys"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "ssh", r#"{"keys":["path_to_key.pem"]}"#);
    let e2 = r#"ssh -i path_to_key.pem -t root@app-1 -p 22 'sh -c '\''docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''\'\'''\''{{.ID}}'\''\'\'''\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting'\'' | head -1 | xargs docker logs --timestamps --follow 2>&1'"#;
    assert_eq!(web(&raw, destination, |a| a.follow_logs("app-1", &LogsOptions::default())), e2);
}

#[test]
fn follow_logs_with_ssh_proxy_command() {
    // Kamal: test "follow logs with ssh proxy_command"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "ssh", r#"{"proxy_command":"ssh -W %h:%p user@proxy-server"}"#);
    let e2 = r#"ssh -o ProxyCommand='ssh -W %h:%p user@proxy-server' -t root@app-1 -p 22 'sh -c '\''docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''\'\'''\''{{.ID}}'\''\'\'''\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting'\'' | head -1 | xargs docker logs --timestamps --follow 2>&1'"#;
    assert_eq!(web(&raw, destination, |a| a.follow_logs("app-1", &LogsOptions::default())), e2);
}

#[test]
fn follow_logs_with_ssh_config_file() {
    // Kamal: test "follow logs with ssh config file"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "ssh", r#"{"config":"~/.ssh/custom_config"}"#);
    let e2 = r#"ssh -F ~/.ssh/custom_config -t root@app-1 -p 22 'sh -c '\''docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''\'\'''\''{{.ID}}'\''\'\'''\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting'\'' | head -1 | xargs docker logs --timestamps --follow 2>&1'"#;
    assert_eq!(web(&raw, destination, |a| a.follow_logs("app-1", &LogsOptions::default())), e2);
}

#[test]
fn execute_in_new_container() {
    // Kamal: test "execute in new container"
    let raw = base();
    let destination: Option<&str> = None;
    let r1 = r#"docker run --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" dhh/app:999 bin/rails db:setup"#;
    assert_match(
        r1,
        &web(&raw, destination, |a| {
            a.execute_in_new_container(&["bin/rails", "db:setup"], &exec(false, &[])).to_string()
        }),
    );
}

#[test]
fn execute_in_new_container_with_logging() {
    // Kamal: test "execute in new container with logging"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "logging", r#"{"driver":"local","options":{"max-size":"100m","max-file":"3"}}"#);
    let r1 = r#"docker run --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env-file .kamal/apps/app/env/roles/web.env --log-driver "local" --log-opt max-size="100m" --log-opt max-file="3" dhh/app:999 bin/rails db:setup"#;
    assert_match(
        r1,
        &web(&raw, destination, |a| {
            a.execute_in_new_container(&["bin/rails", "db:setup"], &exec(false, &[])).to_string()
        }),
    );
}

#[test]
fn execute_in_new_container_with_env() {
    // Kamal: test "execute in new container with env"
    let raw = base();
    let destination: Option<&str> = None;
    let r1 = r#"docker run --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env-file .kamal/apps/app/env/roles/web.env --env foo="bar" --log-opt max-size="10m" dhh/app:999 bin/rails db:setup"#;
    assert_match(
        r1,
        &web(&raw, destination, |a| {
            a.execute_in_new_container(&["bin/rails", "db:setup"], &exec(false, &[("foo", "bar")])).to_string()
        }),
    );
}

#[test]
fn execute_in_new_detached_container() {
    // Kamal: test "execute in new detached container"
    let raw = base();
    let destination: Option<&str> = None;
    let r1 = r#"docker run --detach --name app-web-exec-999-[0-9a-f]{6} --network kamal --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" dhh/app:999 bin/rails db:setup"#;
    assert_match(
        r1,
        &web(&raw, destination, |a| {
            a.execute_in_new_container(&["bin/rails", "db:setup"], &exec(true, &[])).to_string()
        }),
    );
}

#[test]
fn execute_in_new_container_with_tags() {
    // Kamal: test "execute in new container with tags"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "servers", r#"[{"1.1.1.1":"tag1"}]"#);
    let raw = set(&raw, "env/tags", r#"{"tag1":{"ENV1":"value1"}}"#);
    let r1 = r#"docker run --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env ENV1="value1" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" dhh/app:999 bin/rails db:setup"#;
    assert_match(
        r1,
        &web(&raw, destination, |a| {
            a.execute_in_new_container(&["bin/rails", "db:setup"], &exec(false, &[])).to_string()
        }),
    );
}

#[test]
fn execute_in_new_container_with_custom_options() {
    // Kamal: test "execute in new container with custom options"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "servers", r#"{"web":{"hosts":["1.1.1.1"],"options":{"mount":"somewhere","cap-add":true}}}"#);
    let r1 = r#"docker run --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --mount "somewhere" --cap-add dhh/app:999 bin/rails db:setup"#;
    assert_match(
        r1,
        &web(&raw, destination, |a| {
            a.execute_in_new_container(&["bin/rails", "db:setup"], &exec(false, &[])).to_string()
        }),
    );
}

#[test]
fn execute_in_new_container_excludes_restart_policy() {
    // Kamal: test "execute in new container excludes restart policy"
    let raw = base();
    let destination: Option<&str> = None;
    let raw =
        set(&raw, "servers", r#"{"web":{"hosts":["1.1.1.1"],"options":{"restart":"on-failure","mount":"somewhere"}}}"#);
    let r1 = r#"docker run --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --mount "somewhere" dhh/app:999 bin/rails db:setup"#;
    let r2 = r#"--restart"#;
    let command = web(&raw, destination, |a| {
        a.execute_in_new_container(&["bin/rails", "db:setup"], &exec(false, &[])).to_string()
    });
    assert_match(r1, &command);
    assert_no_match(r2, &command);
}

#[test]
fn execute_in_existing_container() {
    // Kamal: test "execute in existing container"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker exec app-web-999 bin/rails db:setup"#;
    assert_eq!(
        web(&raw, destination, |a| a
            .execute_in_existing_container(&["bin/rails", "db:setup"], Interactive::No, &[])
            .to_string()),
        e1
    );
}

#[test]
fn execute_in_existing_container_with_env() {
    // Kamal: test "execute in existing container with env"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker exec --env foo="bar" app-web-999 bin/rails db:setup"#;
    assert_eq!(
        web(&raw, destination, |a| a
            .execute_in_existing_container(&["bin/rails", "db:setup"], Interactive::No, &env(&[("foo", "bar")]))
            .to_string()),
        e1
    );
}

#[test]
fn execute_in_new_container_over_ssh() {
    // Kamal: test "execute in new container over ssh"
    let raw = base();
    let destination: Option<&str> = None;
    let r1 = r#"docker run -it --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" dhh/app:999 bin/rails c"#;
    assert_match(
        r1,
        &web(&raw, destination, |a| a.execute_in_new_container_over_ssh(&["bin/rails", "c"], &[], true, None)),
    );
}

#[test]
fn execute_in_new_container_over_ssh_with_tags() {
    // Kamal: test "execute in new container over ssh with tags"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "servers", r#"[{"1.1.1.1":"tag1"}]"#);
    let raw = set(&raw, "env/tags", r#"{"tag1":{"ENV1":"value1"}}"#);
    let r1 = r#"ssh -t root@1.1.1.1 -p 22 'docker run -it --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env ENV1="value1" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" dhh/app:999 bin/rails c'"#;
    assert_match(
        r1,
        &web(&raw, destination, |a| a.execute_in_new_container_over_ssh(&["bin/rails", "c"], &[], true, None)),
    );
}

#[test]
fn execute_in_new_container_with_custom_options_over_ssh() {
    // Kamal: test "execute in new container with custom options over ssh"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "servers", r#"{"web":{"hosts":["1.1.1.1"],"options":{"mount":"somewhere","cap-add":true}}}"#);
    let r1 = r#"docker run -it --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size=\"10m\" --mount \"somewhere\" --cap-add dhh/app:999 bin/rails c"#;
    assert_match(
        r1,
        &web(&raw, destination, |a| a.execute_in_new_container_over_ssh(&["bin/rails", "c"], &[], true, None)),
    );
}

#[test]
fn execute_in_existing_container_over_ssh() {
    // Kamal: test "execute in existing container over ssh"
    let raw = base();
    let destination: Option<&str> = None;
    let r1 = r#"docker exec -it app-web-999 bin/rails c"#;
    assert_match(
        r1,
        &web(&raw, destination, |a| a.execute_in_existing_container_over_ssh(&["bin/rails", "c"], &[], true)),
    );
}

#[test]
fn execute_in_existing_container_with_piped_input_over_ssh() {
    // Kamal: test "execute in existing container with piped input over ssh"
    let raw = base();
    let destination: Option<&str> = None;
    let r1 = r#"docker exec -i app-web-999 bin/rails c"#;
    assert_match(
        r1,
        &web(&raw, destination, |a| a.execute_in_existing_container_over_ssh(&["bin/rails", "c"], &[], false)),
    );
}

#[test]
fn run_over_ssh() {
    // Kamal: test "run over ssh"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"ssh -t root@1.1.1.1 -p 22 'ls'"#;
    assert_eq!(web(&raw, destination, |a| a.run_over_ssh("ls", "1.1.1.1")), e1);
}

#[test]
fn run_over_ssh_with_custom_user() {
    // Kamal: test "run over ssh with custom user"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "ssh", r#"{"user":"app"}"#);
    let e1 = r#"ssh -t app@1.1.1.1 -p 22 'ls'"#;
    assert_eq!(web(&raw, destination, |a| a.run_over_ssh("ls", "1.1.1.1")), e1);
}

#[test]
fn run_over_ssh_with_custom_port() {
    // Kamal: test "run over ssh with custom port"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "ssh", r#"{"port":"2222"}"#);
    let e1 = r#"ssh -t root@1.1.1.1 -p 2222 'ls'"#;
    assert_eq!(web(&raw, destination, |a| a.run_over_ssh("ls", "1.1.1.1")), e1);
}

#[test]
fn run_over_ssh_with_proxy() {
    // Kamal: test "run over ssh with proxy"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "ssh", r#"{"proxy":"2.2.2.2"}"#);
    let e1 = r#"ssh -J root@2.2.2.2 -t root@1.1.1.1 -p 22 'ls'"#;
    assert_eq!(web(&raw, destination, |a| a.run_over_ssh("ls", "1.1.1.1")), e1);
}

#[test]
fn run_over_ssh_with_proxy_user() {
    // Kamal: test "run over ssh with proxy user"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "ssh", r#"{"proxy":"app@2.2.2.2"}"#);
    let e1 = r#"ssh -J app@2.2.2.2 -t root@1.1.1.1 -p 22 'ls'"#;
    assert_eq!(web(&raw, destination, |a| a.run_over_ssh("ls", "1.1.1.1")), e1);
}

#[test]
fn run_over_ssh_with_custom_user_with_proxy() {
    // Kamal: test "run over ssh with custom user with proxy"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "ssh", r#"{"user":"app","proxy":"2.2.2.2"}"#);
    let e1 = r#"ssh -J root@2.2.2.2 -t app@1.1.1.1 -p 22 'ls'"#;
    assert_eq!(web(&raw, destination, |a| a.run_over_ssh("ls", "1.1.1.1")), e1);
}

#[test]
fn run_over_ssh_with_keys_config() {
    // Kamal: test "run over ssh with keys config"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "ssh", r#"{"keys":["path_to_key.pem"]}"#);
    let e2 = r#"ssh -i path_to_key.pem -t root@1.1.1.1 -p 22 'ls'"#;
    assert_eq!(web(&raw, destination, |a| a.run_over_ssh("ls", "1.1.1.1")), e2);
}

#[test]
fn run_over_ssh_with_keys_config_with_keys_only() {
    // Kamal: test "run over ssh with keys config with keys_only"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "ssh", r#"{"keys":["path_to_key.pem"],"keys_only":true}"#);
    let e2 = r#"ssh -i path_to_key.pem -o IdentitiesOnly=yes -t root@1.1.1.1 -p 22 'ls'"#;
    assert_eq!(web(&raw, destination, |a| a.run_over_ssh("ls", "1.1.1.1")), e2);
}

#[test]
fn run_over_ssh_with_proxy_command() {
    // Kamal: test "run over ssh with proxy_command"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "ssh", r#"{"proxy_command":"ssh -W %h:%p user@proxy-server"}"#);
    let e2 = r#"ssh -o ProxyCommand='ssh -W %h:%p user@proxy-server' -t root@1.1.1.1 -p 22 'ls'"#;
    assert_eq!(web(&raw, destination, |a| a.run_over_ssh("ls", "1.1.1.1")), e2);
}

#[test]
fn run_over_ssh_with_config_file() {
    // Kamal: test "run over ssh with config file"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "ssh", r#"{"config":"~/.ssh/custom_config"}"#);
    let e2 = r#"ssh -F ~/.ssh/custom_config -t root@1.1.1.1 -p 22 'ls'"#;
    assert_eq!(web(&raw, destination, |a| a.run_over_ssh("ls", "1.1.1.1")), e2);
}

#[test]
fn run_over_ssh_with_multiple_config_files() {
    // Kamal: test "run over ssh with multiple config files"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "ssh", r#"{"config":["~/.ssh/config1","~/.ssh/config2"]}"#);
    let e1 = r#"ssh -F ~/.ssh/config1 -F ~/.ssh/config2 -t root@1.1.1.1 -p 22 'ls'"#;
    assert_eq!(web(&raw, destination, |a| a.run_over_ssh("ls", "1.1.1.1")), e1);
}

#[test]
fn run_over_ssh_with_config_false() {
    // Kamal: test "run over ssh with config false"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "ssh", r#"{"config":false}"#);
    let e1 = r#"ssh -F /dev/null -t root@1.1.1.1 -p 22 'ls'"#;
    assert_eq!(web(&raw, destination, |a| a.run_over_ssh("ls", "1.1.1.1")), e1);
}

#[test]
fn run_over_ssh_with_config_true() {
    // Kamal: test "run over ssh with config true"
    let raw = base();
    let destination: Option<&str> = None;
    let raw = set(&raw, "ssh", r#"{"config":true}"#);
    let e1 = r#"ssh -t root@1.1.1.1 -p 22 'ls'"#;
    assert_eq!(web(&raw, destination, |a| a.run_over_ssh("ls", "1.1.1.1")), e1);
}

#[test]
fn current_running_container_id() {
    // Kamal: test "current_running_container_id"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{.ID}}'\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1"#;
    assert_eq!(web(&raw, destination, |a| a.current_running_container_id().to_string()), e1);
}

#[test]
fn current_running_container_id_with_destination() {
    // Kamal: test "current_running_container_id with destination"
    let raw = base();
    let destination = Some("staging");
    let e1 = r#"sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination=staging --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest-staging --format '\''{{.ID}}'\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination=staging --filter label=role=web --filter status=running --filter status=restarting' | head -1"#;
    assert_eq!(web(&raw, destination, |a| a.current_running_container_id().to_string()), e1);
}

#[test]
fn container_id_for() {
    // Kamal: test "container_id_for"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker container ls --all --filter 'name=^app-999$' --quiet"#;
    assert_eq!(web(&raw, destination, |a| a.container_id_for("app-999", false).to_string()), e1);
}

#[test]
fn current_running_version() {
    // Kamal: test "current_running_version"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"sh -c 'docker ps --latest --format '\''{{.Names}}'\'' --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{.ID}}'\'') ; docker ps --latest --format '\''{{.Names}}'\'' --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | while read line; do echo ${line#app-web-}; done"#;
    assert_eq!(web(&raw, destination, |a| a.current_running_version().to_string()), e1);
}

#[test]
fn list_versions() {
    // Kamal: test "list_versions"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker ps --filter label=service=app --filter label=destination= --filter label=role=web --format "{{.Names}}" | while read line; do echo ${line#app-web-}; done"#;
    let e2 = r#"docker ps --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --latest --format "{{.Names}}" | while read line; do echo ${line#app-web-}; done"#;
    assert_eq!(web(&raw, destination, |a| a.list_versions(&[], &[]).to_string()), e1);
    assert_eq!(web(&raw, destination, |a| a.list_versions(&["--latest"], &["running", "restarting"]).to_string()), e2);
}

#[test]
fn list_containers() {
    // Kamal: test "list_containers"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 =
        r#"docker container ls --all --filter label=service=app --filter label=destination= --filter label=role=web"#;
    assert_eq!(web(&raw, destination, |a| a.list_containers().to_string()), e1);
}

#[test]
fn list_containers_with_destination() {
    // Kamal: test "list_containers with destination"
    let raw = base();
    let destination = Some("staging");
    let e1 = r#"docker container ls --all --filter label=service=app --filter label=destination=staging --filter label=role=web"#;
    assert_eq!(web(&raw, destination, |a| a.list_containers().to_string()), e1);
}

#[test]
fn list_container_names() {
    // Kamal: test "list_container_names"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker container ls --all --filter label=service=app --filter label=destination= --filter label=role=web --format '{{ .Names }}'"#;
    assert_eq!(web(&raw, destination, |a| a.list_container_names().to_string()), e1);
}

#[test]
fn remove_container() {
    // Kamal: test "remove_container"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker container ls --all --filter 'name=^app-web-999$' --quiet | xargs docker container rm"#;
    assert_eq!(web(&raw, destination, |a| a.remove_container("999").to_string()), e1);
}

#[test]
fn remove_container_with_destination() {
    // Kamal: test "remove_container with destination"
    let raw = base();
    let destination = Some("staging");
    let e1 = r#"docker container ls --all --filter 'name=^app-web-staging-999$' --quiet | xargs docker container rm"#;
    assert_eq!(web(&raw, destination, |a| a.remove_container("999").to_string()), e1);
}

#[test]
fn remove_containers() {
    // Kamal: test "remove_containers"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker container prune --force --filter label=service=app --filter label=destination= --filter label=role=web"#;
    assert_eq!(web(&raw, destination, |a| a.remove_containers().to_string()), e1);
}

#[test]
fn remove_containers_with_destination() {
    // Kamal: test "remove_containers with destination"
    let raw = base();
    let destination = Some("staging");
    let e1 = r#"docker container prune --force --filter label=service=app --filter label=destination=staging --filter label=role=web"#;
    assert_eq!(web(&raw, destination, |a| a.remove_containers().to_string()), e1);
}

#[test]
fn list_images() {
    // Kamal: test "list_images"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker image ls dhh/app"#;
    assert_eq!(web(&raw, destination, |a| a.list_images().to_string()), e1);
}

#[test]
fn remove_images() {
    // Kamal: test "remove_images"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker image prune --all --force --filter label=service=app"#;
    assert_eq!(web(&raw, destination, |a| a.remove_images().to_string()), e1);
}

#[test]
fn remove_images_with_destination() {
    // Kamal: test "remove_images with destination"
    let raw = base();
    let destination = Some("staging");
    let e1 = r#"docker image prune --all --force --filter label=service=app"#;
    assert_eq!(web(&raw, destination, |a| a.remove_images().to_string()), e1);
}

#[test]
fn tag_latest_image() {
    // Kamal: test "tag_latest_image"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker tag dhh/app:999 dhh/app:latest"#;
    assert_eq!(web(&raw, destination, |a| a.tag_latest_image().to_string()), e1);
}

#[test]
fn tag_latest_image_with_destination() {
    // Kamal: test "tag_latest_image with destination"
    let raw = base();
    let destination = Some("staging");
    let e1 = r#"docker tag dhh/app:999 dhh/app:latest-staging"#;
    assert_eq!(web(&raw, destination, |a| a.tag_latest_image().to_string()), e1);
}

#[test]
fn extract_assets() {
    // Kamal: test "extract assets"
    let raw = base();
    let destination: Option<&str> = None;
    let a1 = strs(&[
        r#"mkdir"#,
        r#"-p"#,
        r#".kamal/apps/app/assets/extracted/web-999"#,
        r#"&&"#,
        r#"docker"#,
        r#"container"#,
        r#"rm"#,
        r#"app-web-assets"#,
        r#"2> /dev/null"#,
        r#"|| true"#,
        r#"&&"#,
        r#"docker"#,
        r#"container"#,
        r#"create"#,
        r#"--name"#,
        r#"app-web-assets"#,
        r#"dhh/app:999"#,
        r#"&&"#,
        r#"docker"#,
        r#"container"#,
        r#"cp"#,
        r#"-L"#,
        r#"app-web-assets:/public/assets/."#,
        r#".kamal/apps/app/assets/extracted/web-999"#,
        r#"&&"#,
        r#"docker"#,
        r#"container"#,
        r#"rm"#,
        r#"app-web-assets"#,
    ]);
    let raw = merge(&raw, r#"{"asset_path": "/public/assets"}"#);
    assert_eq!(web(&raw, destination, |a| words(&a.extract_assets())), a1);
}

#[test]
fn sync_asset_volumes() {
    // Kamal: test "sync asset volumes"
    let raw = base();
    let destination: Option<&str> = None;
    let a1 = strs(&[
        r#"mkdir"#,
        r#"-p"#,
        r#".kamal/apps/app/assets/volumes/web-999"#,
        r#";"#,
        r#"cp"#,
        r#"-rnT"#,
        r#".kamal/apps/app/assets/extracted/web-999"#,
        r#".kamal/apps/app/assets/volumes/web-999"#,
    ]);
    let a5 = strs(&[
        r#"mkdir"#,
        r#"-p"#,
        r#".kamal/apps/app/assets/volumes/web-999"#,
        r#";"#,
        r#"cp"#,
        r#"-rnT"#,
        r#".kamal/apps/app/assets/extracted/web-999"#,
        r#".kamal/apps/app/assets/volumes/web-999"#,
        r#";"#,
        r#"cp"#,
        r#"-rnT"#,
        r#".kamal/apps/app/assets/extracted/web-999"#,
        r#".kamal/apps/app/assets/volumes/web-998"#,
        r#"|| true"#,
        r#";"#,
        r#"cp"#,
        r#"-rnT"#,
        r#".kamal/apps/app/assets/extracted/web-998"#,
        r#".kamal/apps/app/assets/volumes/web-999"#,
        r#"|| true"#,
    ]);
    let raw = merge(&raw, r#"{"asset_path": "/public/assets"}"#);
    assert_eq!(web(&raw, destination, |a| words(&a.sync_asset_volumes(None))), a1);
    assert_eq!(web(&raw, destination, |a| words(&a.sync_asset_volumes(Some("998")))), a5);
}

#[test]
fn clean_up_assets() {
    // Kamal: test "clean up assets"
    let raw = base();
    let destination: Option<&str> = None;
    let a1 = strs(&[
        r#"find"#,
        r#".kamal/apps/app/assets/extracted"#,
        r#"-maxdepth 1"#,
        r#"-name"#,
        r#"'web-*'"#,
        r#"!"#,
        r#"-name"#,
        r#"web-999"#,
        r#"-exec rm -rf "{}" +"#,
        r#";"#,
        r#"find"#,
        r#".kamal/apps/app/assets/volumes"#,
        r#"-maxdepth 1"#,
        r#"-name"#,
        r#"'web-*'"#,
        r#"!"#,
        r#"-name"#,
        r#"web-999"#,
        r#"-exec rm -rf "{}" +"#,
    ]);
    let raw = merge(&raw, r#"{"asset_path": "/public/assets"}"#);
    assert_eq!(web(&raw, destination, |a| words(&a.clean_up_assets())), a1);
}

#[test]
fn live() {
    // Kamal: test "live"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker exec kamal-proxy kamal-proxy resume app-web"#;
    assert_eq!(web(&raw, destination, |a| a.live().to_string()), e1);
}

#[test]
fn maintenance() {
    // Kamal: test "maintenance"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker exec kamal-proxy kamal-proxy stop app-web"#;
    assert_eq!(web(&raw, destination, |a| a.maintenance(None, None).to_string()), e1);
}

#[test]
fn maintenance_with_options() {
    // Kamal: test "maintenance with options"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"docker exec kamal-proxy kamal-proxy stop app-web --drain-timeout="10s" --message="Hi""#;
    assert_eq!(web(&raw, destination, |a| a.maintenance(Some(10), Some("Hi")).to_string()), e1);
}

#[test]
fn remove_proxy_app_directory() {
    // Kamal: test "remove_proxy_app_directory"
    let raw = base();
    let destination: Option<&str> = None;
    let e1 = r#"rm -r .kamal/proxy/apps-config/app"#;
    assert_eq!(web(&raw, destination, |a| a.remove_proxy_app_directory().to_string()), e1);
}

#[test]
fn container_state_and_proxy_list() {
    // Wharf: the failure diagnosis's questions.
    let raw = base();
    assert_eq!(
        web(&raw, None, |a| a.container_state("999").to_string()),
        "docker container inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}' app-web-999"
    );
    assert_eq!(web(&raw, None, |a| a.proxy_list().to_string()), "docker exec kamal-proxy kamal-proxy list");
    assert_eq!(
        web(&raw, None, |a| a.proxy_health_check_failures("999").to_string()),
        r#"docker logs kamal-proxy --since 15m 2>&1 | grep -F '"Healthcheck failed"' | grep -F "http://$(docker container ls --all --filter 'name=^app-web-999$' --quiet):" | tail -n 10"#
    );
}

#[test]
fn canary_rollout_commands() {
    // Wharf: `deploy --canary` and `canary status|promote|abort`.
    let raw = base();
    let run = |f: fn(&App) -> String| web(&raw, None, f);
    assert_eq!(
        run(|a| a.rollout_deploy("abc123").to_string()),
        r#"docker exec kamal-proxy kamal-proxy rollout deploy app-web --target="abc123:80" --deploy-timeout="30s" --drain-timeout="30s""#
    );
    assert_eq!(
        run(|a| a.rollout_set(10, &["beta".into(), "staff".into()]).to_string()),
        "docker exec kamal-proxy kamal-proxy rollout set app-web --percent=10 --list=beta,staff"
    );
    assert_eq!(
        run(|a| a.rollout_set(0, &[]).to_string()),
        "docker exec kamal-proxy kamal-proxy rollout set app-web --percent=0"
    );
    assert_eq!(run(|a| a.rollout_stop().to_string()), "docker exec kamal-proxy kamal-proxy rollout stop app-web");
    assert_eq!(run(|a| a.proxy_stats().to_string()), "docker exec kamal-proxy kamal-proxy stats app-web");
    assert_eq!(
        run(|a| a.write_canary("999").to_string()),
        "mkdir -p .kamal/apps/app && echo 999 > .kamal/apps/app/canary-web"
    );
    assert_eq!(run(|a| a.read_canary().to_string()), "cat .kamal/apps/app/canary-web 2> /dev/null || true");
    assert_eq!(run(|a| a.remove_canary().to_string()), "rm -f .kamal/apps/app/canary-web");
}
