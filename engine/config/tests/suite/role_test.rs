//! Port of Kamal's test/configuration/role_test.rb.

use crate::common::*;
use serde_yaml::Value;

fn deploy() -> Value {
    yaml(
        r#"
service: app
image: dhh/app
registry: { username: dhh, password: secret }
servers: [ "1.1.1.1", "1.1.1.2" ]
builder: { arch: amd64 }
env: { REDIS_URL: "redis://x/y" }
"#,
    )
}

fn deploy_with_roles() -> Value {
    merge(
        &deploy(),
        r#"
servers:
  web: [ "1.1.1.1", "1.1.1.2" ]
  workers:
    hosts: [ "1.1.1.3", "1.1.1.4" ]
    cmd: bin/jobs
    env:
      REDIS_URL: "redis://a/b"
      WEB_CONCURRENCY: "4"
"#,
    )
}

#[test]
fn hosts_and_cmd() {
    assert_eq!(config(&deploy()).role("web").unwrap().hosts(), strs(&["1.1.1.1", "1.1.1.2"]));
    let c = config(&deploy_with_roles());
    assert_eq!(c.role("workers").unwrap().hosts(), strs(&["1.1.1.3", "1.1.1.4"]));
    assert_eq!(config(&deploy()).role("web").unwrap().cmd(), None);
    assert_eq!(c.role("workers").unwrap().cmd().unwrap(), "bin/jobs");
}

#[test]
fn missing_env_tag_is_ignored() {
    let raw = set(&deploy_with_roles(), "servers/workers/hosts", r#"[ { "1.1.1.3": [ job ] } ]"#);
    let c = config(&raw);
    assert_eq!(c.role("workers").unwrap().env("1.1.1.3").clear_value("REDIS_URL").unwrap(), "redis://a/b");
}

#[test]
fn label_args() {
    let c = config(&deploy_with_roles());
    assert_eq!(
        c.role("workers").unwrap().label_args(),
        strs(&["--label", "service=\"app\"", "--label", "role=\"workers\"", "--label", "destination"])
    );
    assert_eq!(
        config(&deploy()).role("web").unwrap().label_args(),
        strs(&["--label", "service=\"app\"", "--label", "role=\"web\"", "--label", "destination"])
    );
    let raw = set(&deploy_with_roles(), "servers/beta", r#"{ proxy: true, hosts: [ "1.1.1.5" ] }"#);
    assert_eq!(
        config(&raw).role("beta").unwrap().label_args(),
        strs(&["--label", "service=\"app\"", "--label", "role=\"beta\"", "--label", "destination"])
    );
}

#[test]
fn label_args_with_destination() {
    let mut opts = options(std::sync::Arc::new(wharf_config::NoSecrets));
    opts.destination = Some("staging".into());
    let c = wharf_config::Configuration::new(deploy(), &opts).unwrap();
    assert_eq!(
        c.role("web").unwrap().label_args(),
        strs(&["--label", "service=\"app\"", "--label", "role=\"web\"", "--label", "destination=\"staging\""])
    );
    assert_eq!(c.role("web").unwrap().container_prefix(), "app-web-staging");
    assert_eq!(c.role("web").unwrap().secrets_path(), ".kamal/apps/app-staging/env/roles/web.env");
    assert_eq!(c.latest_tag(), "latest-staging");
}

#[test]
fn custom_labels() {
    let c = config(&merge(&deploy(), r#"labels: { my.custom.label: "50" }"#));
    assert_eq!(c.role("web").unwrap().labels().get("my.custom.label").unwrap().as_str().unwrap(), "50");
    let raw = set(
        &merge(&deploy_with_roles(), r#"labels: { my.custom.label: "50" }"#),
        "servers/workers/labels",
        r#"{ my.custom.label: "70" }"#,
    );
    assert_eq!(config(&raw).role("workers").unwrap().labels().get("my.custom.label").unwrap().as_str().unwrap(), "70");
}

#[test]
fn env_overwritten_by_role() {
    let c = config(&deploy_with_roles());
    let workers = c.role("workers").unwrap();
    assert_eq!(workers.env("1.1.1.3").clear_value("REDIS_URL").unwrap(), "redis://a/b");
    assert_eq!(
        workers.env_args("1.1.1.3"),
        strs(&[
            "--env",
            "REDIS_URL=\"redis://a/b\"",
            "--env",
            "WEB_CONCURRENCY=\"4\"",
            "--env-file",
            ".kamal/apps/app/env/roles/workers.env"
        ])
    );
    assert_eq!(workers.secrets_io("1.1.1.3").unwrap(), "\n");
}

#[test]
fn container_name() {
    let c = config(&deploy_with_roles());
    c.set_version("12345");
    assert_eq!(c.role("workers").unwrap().container_name(None), "app-workers-12345");
    assert_eq!(c.role("web").unwrap().container_name(None), "app-web-12345");
    assert_eq!(c.role("web").unwrap().container_name(Some("abc")), "app-web-abc");
}

#[test]
fn env_secret_overwritten_by_role() {
    let raw =
        merge(&deploy_with_roles(), r#"env: { clear: { REDIS_URL: "redis://a/b" }, secret: [ REDIS_PASSWORD ] }"#);
    let raw = set(
        &raw,
        "servers/workers/env",
        r#"{ clear: { REDIS_URL: "redis://a/b", WEB_CONCURRENCY: "4" }, secret: [ DB_PASSWORD ] }"#,
    );
    let c = config_with_secrets(&raw, &[("REDIS_PASSWORD", "secret456"), ("DB_PASSWORD", "secret&\"123")]);
    let w = c.role("workers").unwrap();
    assert_eq!(
        w.env_args("1.1.1.3"),
        strs(&[
            "--env",
            "REDIS_URL=\"redis://a/b\"",
            "--env",
            "WEB_CONCURRENCY=\"4\"",
            "--env-file",
            ".kamal/apps/app/env/roles/workers.env"
        ])
    );
    assert_eq!(w.secrets_io("1.1.1.3").unwrap(), "REDIS_PASSWORD=secret456\nDB_PASSWORD=secret&\"123\n");
}

#[test]
fn env_secrets_only_in_role() {
    let raw = set(
        &deploy_with_roles(),
        "servers/workers/env",
        r#"{ clear: { REDIS_URL: "redis://a/b", WEB_CONCURRENCY: "4" }, secret: [ DB_PASSWORD ] }"#,
    );
    let c = config_with_secrets(&raw, &[("DB_PASSWORD", "secret123")]);
    assert_eq!(c.role("workers").unwrap().secrets_io("1.1.1.3").unwrap(), "DB_PASSWORD=secret123\n");
}

#[test]
fn env_secrets_only_at_top_level() {
    let raw =
        merge(&deploy_with_roles(), r#"env: { clear: { REDIS_URL: "redis://a/b" }, secret: [ REDIS_PASSWORD ] }"#);
    let c = config_with_secrets(&raw, &[("REDIS_PASSWORD", "secret456")]);
    let w = c.role("workers").unwrap();
    assert_eq!(
        w.env_args("1.1.1.3"),
        strs(&[
            "--env",
            "REDIS_URL=\"redis://a/b\"",
            "--env",
            "WEB_CONCURRENCY=\"4\"",
            "--env-file",
            ".kamal/apps/app/env/roles/workers.env"
        ])
    );
    assert_eq!(w.secrets_io("1.1.1.3").unwrap(), "REDIS_PASSWORD=secret456\n");
}

#[test]
fn env_overwritten_by_role_with_secrets() {
    let raw =
        merge(&deploy_with_roles(), r#"env: { clear: { REDIS_URL: "redis://a/b" }, secret: [ REDIS_PASSWORD ] }"#);
    let raw = set(&raw, "servers/workers/env", r#"{ clear: { REDIS_URL: "redis://c/d" } }"#);
    let c = config_with_secrets(&raw, &[("REDIS_PASSWORD", "secret456")]);
    let w = c.role("workers").unwrap();
    assert_eq!(
        w.env_args("1.1.1.3"),
        strs(&["--env", "REDIS_URL=\"redis://c/d\"", "--env-file", ".kamal/apps/app/env/roles/workers.env"])
    );
    assert_eq!(w.secrets_io("1.1.1.3").unwrap(), "REDIS_PASSWORD=secret456\n");
}

#[test]
fn missing_secret_is_kamals_error() {
    let raw = merge(&deploy(), "env: { secret: [ PASSWORD ] }");
    let c = config(&raw);
    let e = c.role("web").unwrap().secrets_io("1.1.1.1").unwrap_err();
    assert_eq!(e.to_string(), "Secret 'PASSWORD' not found in .kamal/secrets");
    assert_eq!(e.ruby_class(), "Kamal::ConfigurationError");
}

#[test]
fn asset_path_and_volume_args() {
    let c = config(&deploy_with_roles());
    c.set_version("12345");
    for r in ["web", "workers"] {
        let role = c.role(r).unwrap();
        assert_eq!(role.asset_volume_args(None), None);
        assert_eq!(role.asset_path(), None);
        assert!(!role.assets());
    }
    let c = config(&merge(&deploy_with_roles(), "asset_path: foo"));
    c.set_version("12345");
    assert_eq!(c.role("web").unwrap().asset_path().unwrap(), "foo");
    assert_eq!(c.role("workers").unwrap().asset_path().unwrap(), "foo");
    assert_eq!(
        c.role("web").unwrap().asset_volume_args(None).unwrap(),
        strs(&["--volume", "$PWD/.kamal/apps/app/assets/volumes/web-12345:foo"])
    );
    assert_eq!(c.role("workers").unwrap().asset_volume_args(None), None);
    assert!(c.role("web").unwrap().assets());
    assert!(!c.role("workers").unwrap().assets());

    let c =
        config(&set(&deploy_with_roles(), "servers/web", r#"{ hosts: [ "1.1.1.1", "1.1.1.2" ], asset_path: bar }"#));
    c.set_version("12345");
    assert_eq!(c.role("web").unwrap().asset_path().unwrap(), "bar");
    assert_eq!(c.role("workers").unwrap().asset_path(), None);
    assert_eq!(
        c.role("web").unwrap().asset_volume_args(None).unwrap(),
        strs(&["--volume", "$PWD/.kamal/apps/app/assets/volumes/web-12345:bar"])
    );
}

#[test]
fn asset_path_with_mount_options() {
    let c = config(&merge(&deploy_with_roles(), "asset_path: /rails/public/assets:z"));
    c.set_version("12345");
    let web = c.role("web").unwrap();
    assert_eq!(web.asset_path().unwrap(), "/rails/public/assets");
    assert_eq!(web.asset_path_options().unwrap(), "z");
    assert_eq!(
        web.asset_volume_args(None).unwrap(),
        strs(&["--volume", "$PWD/.kamal/apps/app/assets/volumes/web-12345:/rails/public/assets:z"])
    );
    let c = config(&set(
        &deploy_with_roles(),
        "servers/web",
        r#"{ hosts: [ "1.1.1.1", "1.1.1.2" ], asset_path: "/assets:ro,z" }"#,
    ));
    c.set_version("12345");
    let web = c.role("web").unwrap();
    assert_eq!(web.asset_path().unwrap(), "/assets");
    assert_eq!(web.asset_path_options().unwrap(), "ro,z");
    assert_eq!(
        web.asset_volume_args(None).unwrap(),
        strs(&["--volume", "$PWD/.kamal/apps/app/assets/volumes/web-12345:/assets:ro,z"])
    );
}

#[test]
fn asset_directories() {
    let c = config(&deploy_with_roles());
    c.set_version("12345");
    assert_eq!(c.role("web").unwrap().asset_extracted_directory(None), ".kamal/apps/app/assets/extracted/web-12345");
    assert_eq!(
        c.role("workers").unwrap().asset_extracted_directory(None),
        ".kamal/apps/app/assets/extracted/workers-12345"
    );
    assert_eq!(c.role("web").unwrap().asset_volume_directory(None), ".kamal/apps/app/assets/volumes/web-12345");
    assert_eq!(c.role("workers").unwrap().asset_volume_directory(None), ".kamal/apps/app/assets/volumes/workers-12345");
}

#[test]
fn stop_args() {
    let c = config(&deploy_with_roles());
    assert_eq!(c.role("web").unwrap().stop_args(), Vec::<String>::new());
    assert_eq!(c.role("workers").unwrap().stop_args(), strs(&["-t", "30"]));
    let raw = set(&deploy_with_roles(), "servers/web", r#"{ hosts: [ "1.1.1.1", "1.1.1.2" ], stop_timeout: 60 }"#);
    assert_eq!(config(&raw).role("web").unwrap().stop_args(), strs(&["-t", "60"]));
    let raw = set(
        &deploy_with_roles(),
        "servers/workers",
        r#"{ hosts: [ "1.1.1.3", "1.1.1.4" ], cmd: bin/jobs, stop_timeout: 60 }"#,
    );
    assert_eq!(config(&raw).role("workers").unwrap().stop_args(), strs(&["-t", "60"]));
    let raw = merge(&deploy_with_roles(), "stop_timeout: 45");
    assert_eq!(config(&raw).role("web").unwrap().stop_args(), strs(&["-t", "45"]));
    assert_eq!(config(&raw).role("workers").unwrap().stop_args(), strs(&["-t", "45"]));
    let raw = set(&raw, "servers/web", r#"{ hosts: [ "1.1.1.1", "1.1.1.2" ], stop_timeout: 60 }"#);
    assert_eq!(config(&raw).role("web").unwrap().stop_args(), strs(&["-t", "60"]));
    assert_eq!(config(&raw).role("workers").unwrap().stop_args(), strs(&["-t", "45"]));
}

#[test]
fn restart_policy_and_options() {
    let raw = set(&deploy_with_roles(), "servers/workers/options", r#"{ restart: "on-failure:3", memory: 2g }"#);
    let c = config(&raw);
    assert_eq!(c.role("workers").unwrap().restart_policy(), "on-failure:3");
    assert_eq!(c.role("workers").unwrap().option_args(), strs(&["--memory", "\"2g\""]));
    assert_eq!(config(&deploy_with_roles()).role("workers").unwrap().restart_policy(), "unless-stopped");
    let raw = set(&deploy_with_roles(), "servers/workers/options", "{ restart: false }");
    assert_eq!(error(&raw), "servers/workers/options/restart: should be a string. Use \"no\" to disable restarts");
}

#[test]
fn role_specific_proxy_config() {
    let raw = merge(&deploy_with_roles(), "proxy: { response_timeout: 15 }");
    let raw = set(&raw, "servers/workers/proxy", "{ response_timeout: 18 }");
    let c = config(&raw);
    let target_timeout = |role: &str| {
        c.role(role)
            .unwrap()
            .proxy()
            .unwrap()
            .deploy_options()
            .into_iter()
            .find(|(k, _)| k == "target-timeout")
            .unwrap()
            .1
    };
    assert_eq!(target_timeout("web"), Value::String("15s".into()));
    assert_eq!(target_timeout("workers"), Value::String("18s".into()));
}

#[test]
fn logging_merges_root_and_role() {
    let raw = merge(&deploy_with_roles(), "logging: { driver: json-file, options: { max-size: 100m } }");
    let raw = set(&raw, "servers/workers/logging", "{ options: { max-file: 3 } }");
    let c = config(&raw);
    assert_eq!(
        c.role("workers").unwrap().logging_args(),
        strs(&["--log-driver", "\"json-file\"", "--log-opt", "max-size=\"100m\"", "--log-opt", "max-file=\"3\""])
    );
    assert_eq!(
        c.role("web").unwrap().logging_args(),
        strs(&["--log-driver", "\"json-file\"", "--log-opt", "max-size=\"100m\""])
    );
}
