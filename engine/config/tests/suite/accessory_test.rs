//! Port of Kamal's test/configuration/accessory_test.rb.

use crate::common::*;
use serde_yaml::Value;

fn deploy() -> Value {
    yaml(
        r#"
service: app
image: dhh/app
registry: { username: dhh, password: secret }
servers:
  web: [ { "1.1.1.1": writer }, { "1.1.1.2": reader } ]
  workers: [ { "1.1.1.3": writer }, "1.1.1.4" ]
builder: { arch: amd64 }
env: { REDIS_URL: "redis://x/y" }
accessories:
  mysql:
    image: public.registry/mysql:8.0
    host: 1.1.1.5
    port: "3306"
    env:
      clear: { MYSQL_ROOT_HOST: "%" }
      secret: [ MYSQL_ROOT_PASSWORD ]
    files:
      - config/mysql/my.cnf:/etc/mysql/my.cnf
      - db/structure.sql:/docker-entrypoint-initdb.d/structure.sql
    directories:
      - data:/var/lib/mysql
  redis:
    image: redis:latest
    hosts: [ "1.1.1.6", "1.1.1.7" ]
    port: "6379:6379"
    labels: { cache: "true" }
    env: { SOMETHING: else }
    volumes: [ "/var/lib/redis:/data" ]
    options: { cpus: "4", memory: 2GB }
  monitoring:
    service: custom-monitoring
    image: monitoring:latest
    registry: { server: other.registry, username: user, password: pw }
    role: web
    port: "4321:4321"
    labels: { cache: "true" }
    env: { STATSD_PORT: "8126" }
    options: { cpus: "4", memory: 2GB }
    proxy: { host: monitoring.example.com }
  proxy:
    image: proxy:latest
    tags: [ writer, reader ]
  logger:
    image: logger:latest
    tag: writer
"#,
    )
}

#[test]
fn service_name_image_registry_port() {
    let c = config(&deploy());
    assert_eq!(c.accessory("mysql").unwrap().service_name(), "app-mysql");
    assert_eq!(c.accessory("redis").unwrap().service_name(), "app-redis");
    assert_eq!(c.accessory("monitoring").unwrap().service_name(), "custom-monitoring");
    assert_eq!(c.accessory("mysql").unwrap().image(), "public.registry/mysql:8.0");
    assert_eq!(c.accessory("redis").unwrap().image(), "redis:latest");
    assert_eq!(c.accessory("monitoring").unwrap().image(), "other.registry/monitoring:latest");
    assert!(c.accessory("mysql").unwrap().registry().is_none());
    let r = c.accessory("monitoring").unwrap().registry().unwrap();
    assert_eq!(r.server().unwrap(), "other.registry");
    assert_eq!(r.username().unwrap().unwrap(), "user");
    assert_eq!(r.password().unwrap().unwrap(), "pw");
    assert_eq!(c.accessory("mysql").unwrap().port().unwrap(), "3306:3306");
    assert_eq!(c.accessory("redis").unwrap().port().unwrap(), "6379:6379");
    assert_eq!(c.accessory("redis").unwrap().publish_args().unwrap(), strs(&["--publish", "6379:6379"]));
}

#[test]
fn hosts() {
    let c = config(&deploy());
    assert_eq!(c.accessory("mysql").unwrap().hosts(), strs(&["1.1.1.5"]));
    assert_eq!(c.accessory("redis").unwrap().hosts(), strs(&["1.1.1.6", "1.1.1.7"]));
    assert_eq!(c.accessory("monitoring").unwrap().hosts(), strs(&["1.1.1.1", "1.1.1.2"]));
    assert_eq!(c.accessory("proxy").unwrap().hosts(), strs(&["1.1.1.1", "1.1.1.3", "1.1.1.2"]));
    assert_eq!(c.accessory("logger").unwrap().hosts(), strs(&["1.1.1.1", "1.1.1.3"]));
    assert_eq!(c.all_hosts(), strs(&["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5", "1.1.1.6", "1.1.1.7"]));
}

#[test]
fn missing_host_and_too_many_host_keys() {
    assert_eq!(error(&set(&deploy(), "accessories/mysql/host", "null")), "accessories/mysql/host: should be a string");
    let raw = set(&set(&deploy(), "accessories/mysql/hosts", "[ mysql-db1 ]"), "accessories/mysql/roles", "[ db ]");
    assert_eq!(error(&raw), "accessories/mysql: specify one of `host`, `hosts`, `role`, `roles`, `tag` or `tags`");
}

#[test]
fn label_args() {
    let c = config(&deploy());
    assert_eq!(c.accessory("mysql").unwrap().label_args(), strs(&["--label", "service=\"app-mysql\""]));
    assert_eq!(
        c.accessory("redis").unwrap().label_args(),
        strs(&["--label", "service=\"app-redis\"", "--label", "cache=\"true\""])
    );
}

#[test]
fn env_args() {
    let c = config_with_secrets(&deploy(), &[("MYSQL_ROOT_PASSWORD", "secret123")]);
    let mysql = c.accessory("mysql").unwrap();
    assert_eq!(
        mysql.env_args(),
        strs(&["--env", "MYSQL_ROOT_HOST=\"%\"", "--env-file", ".kamal/apps/app/env/accessories/mysql.env"])
    );
    assert_eq!(mysql.secrets_io().unwrap(), "MYSQL_ROOT_PASSWORD=secret123\n");
    let redis = c.accessory("redis").unwrap();
    assert_eq!(
        redis.env_args(),
        strs(&["--env", "SOMETHING=\"else\"", "--env-file", ".kamal/apps/app/env/accessories/redis.env"])
    );
    assert_eq!(redis.secrets_io().unwrap(), "\n");
}

#[test]
fn volume_args() {
    let c = config(&deploy());
    assert_eq!(
        c.accessory("mysql").unwrap().volume_args(),
        strs(&[
            "--volume",
            "$PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf",
            "--volume",
            "$PWD/app-mysql/docker-entrypoint-initdb.d/structure.sql:/docker-entrypoint-initdb.d/structure.sql",
            "--volume",
            "$PWD/app-mysql/data:/var/lib/mysql"
        ])
    );
    assert_eq!(c.accessory("redis").unwrap().volume_args(), strs(&["--volume", "/var/lib/redis:/data"]));
    let c = config(&set(&deploy(), "accessories/redis/volumes", r#"[ "redis_data:/data" ]"#));
    assert_eq!(c.accessory("redis").unwrap().volume_args(), strs(&["--volume", "redis_data:/data"]));
}

#[test]
fn files_and_directories() {
    let dir = |raw: &Value| config(raw).accessory("mysql").unwrap().directories();
    let d = dir(&set(&deploy(), "accessories/mysql/directories", r#"[ "data:/var/lib/mysql" ]"#));
    assert_eq!(
        (d[0].key.as_str(), d[0].host_path.as_str(), d[0].container_path.as_str()),
        ("$PWD/app-mysql/data", "app-mysql/data", "/var/lib/mysql")
    );
    assert_eq!((d[0].options.clone(), d[0].mode.clone(), d[0].owner.clone()), (None, None, None));
    let d = dir(&set(&deploy(), "accessories/mysql/directories", r#"[ "/var/data/mysql:/var/lib/mysql" ]"#));
    assert_eq!((d[0].key.as_str(), d[0].host_path.as_str()), ("/var/data/mysql", "/var/data/mysql"));

    let raw = set(
        &set(&deploy(), "accessories/mysql/files", "[]"),
        "accessories/mysql/directories",
        r#"[ "data:/var/lib/mysql:z" ]"#,
    );
    let c = config(&raw);
    assert_eq!(c.accessory("mysql").unwrap().directories()[0].options.as_deref(), Some("z"));
    assert_eq!(
        c.accessory("mysql").unwrap().volume_args(),
        strs(&["--volume", "$PWD/app-mysql/data:/var/lib/mysql:z"])
    );

    let raw = set(
        &set(&deploy(), "accessories/mysql/files", r#"[ "config/mysql/my.cnf:/etc/mysql/my.cnf:ro,z" ]"#),
        "accessories/mysql/directories",
        "[]",
    );
    let c = config(&raw);
    let f = &c.accessory("mysql").unwrap().files()[0];
    assert_eq!(f.options.as_deref(), Some("ro,z"));
    assert_eq!(f.mode.as_deref(), Some("755"));
    assert_eq!(f.owner, None);
    assert_eq!(f.local, "config/mysql/my.cnf");
    assert_eq!(
        c.accessory("mysql").unwrap().volume_args(),
        strs(&["--volume", "$PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf:ro,z"])
    );

    let raw = set(
        &set(
            &deploy(),
            "accessories/mysql/files",
            r#"[ { local: config/mysql/my.cnf, remote: /etc/mysql/my.cnf, mode: "0640", owner: "1000:1000", options: Z } ]"#,
        ),
        "accessories/mysql/directories",
        "[]",
    );
    let c = config(&raw);
    let f = &c.accessory("mysql").unwrap().files()[0];
    assert_eq!(
        (f.mode.as_deref(), f.owner.as_deref(), f.options.as_deref()),
        (Some("0640"), Some("1000:1000"), Some("Z"))
    );
    assert_eq!(
        c.accessory("mysql").unwrap().volume_args(),
        strs(&["--volume", "$PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf:Z"])
    );

    let raw = set(
        &set(
            &deploy(),
            "accessories/mysql/files",
            r#"[ { local: config/mysql/my.cnf, remote: /etc/mysql/my.cnf, owner: "mysql:mysql" } ]"#,
        ),
        "accessories/mysql/directories",
        "[]",
    );
    let f = &config(&raw).accessory("mysql").unwrap().files()[0];
    assert_eq!((f.mode.as_deref(), f.owner.as_deref()), (Some("755"), Some("mysql:mysql")));

    let raw = set(
        &set(&deploy(), "accessories/mysql/files", "[]"),
        "accessories/mysql/directories",
        r#"[ { local: data, remote: /var/lib/mysql, mode: "0750", owner: "1000:1000", options: z } ]"#,
    );
    let c = config(&raw);
    let d = &c.accessory("mysql").unwrap().directories()[0];
    assert_eq!(
        (d.mode.as_deref(), d.owner.as_deref(), d.options.as_deref()),
        (Some("0750"), Some("1000:1000"), Some("z"))
    );
    assert_eq!(
        c.accessory("mysql").unwrap().volume_args(),
        strs(&["--volume", "$PWD/app-mysql/data:/var/lib/mysql:z"])
    );

    let raw = set(
        &deploy(),
        "accessories/mysql/files",
        r#"[ { local: test/fixtures/files/structure.sql.erb, remote: /docker-entrypoint-initdb.d/structure.sql } ]"#,
    );
    assert!(config(&raw).accessory("mysql").unwrap().files()[0].erb());
}

#[test]
fn options_and_restart_policy() {
    let c = config(&deploy());
    assert_eq!(c.accessory("redis").unwrap().option_args(), strs(&["--cpus", "\"4\"", "--memory", "\"2GB\""]));
    assert_eq!(c.accessory("redis").unwrap().restart_policy(), "unless-stopped");
    let c = config(&set(&deploy(), "accessories/redis/options/restart", "always"));
    assert_eq!(c.accessory("redis").unwrap().restart_policy(), "always");
    assert_eq!(c.accessory("redis").unwrap().option_args(), strs(&["--cpus", "\"4\"", "--memory", "\"2GB\""]));
    assert_eq!(
        error(&set(&deploy(), "accessories/mysql/options", "{ restart: false }")),
        "accessories/mysql/options/restart: should be a string. Use \"no\" to disable restarts"
    );
}

#[test]
fn network_args() {
    assert_eq!(config(&deploy()).accessory("mysql").unwrap().network_args(), strs(&["--network", "kamal"]));
    let c = config(&set(&deploy(), "accessories/mysql/network", "database"));
    assert_eq!(c.accessory("mysql").unwrap().network_args(), strs(&["--network", "database"]));
}

#[test]
fn proxy() {
    let c = config(&deploy());
    let m = c.accessory("monitoring").unwrap();
    assert!(m.running_proxy());
    assert_eq!(m.proxy().unwrap().hosts(), strs(&["monitoring.example.com"]));
    assert!(!c.accessory("mysql").unwrap().running_proxy());
    assert_eq!(c.proxy_hosts(), strs(&["1.1.1.1", "1.1.1.2"]));
}
