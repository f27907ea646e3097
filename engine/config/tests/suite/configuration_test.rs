//! Port of Kamal's test/configuration_test.rb.

use crate::common::*;
use serde_yaml::Value;
use wharf_config::{ErrorKind, HooksOutput};

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

fn deploy_with_roles() -> Value {
    merge(&deploy(), r#"servers: { web: [ "1.1.1.1", "1.1.1.2" ], workers: { hosts: [ "1.1.1.1", "1.1.1.3" ] } }"#)
}

#[test]
fn required_keys() {
    assert_eq!(error(&without(&deploy(), "service")), "Missing required configuration for service");
    assert_eq!(error(&without(&deploy(), "image")), "Missing required configuration for image");
    assert_eq!(error(&without(&deploy(), "registry")), "registry/username: is required");
    assert_eq!(error(&set(&deploy(), "registry", "{ password: secret }")), "registry/username: is required");
    assert_eq!(error(&set(&deploy(), "registry", "{ username: dhh }")), "registry/password: is required");
}

#[test]
fn image_with_local_registry() {
    let c = config(&without(&set(&deploy(), "registry", "{ server: 'localhost:5000' }"), "image"));
    assert_eq!(c.image().unwrap(), "app");
    let c = config(&set(&deploy(), "registry", "{ server: 'localhost:5000' }"));
    assert_eq!(c.image().unwrap(), "dhh/app");
    assert!(c.registry().local());
    assert_eq!(c.registry().local_port(), Some(5000));
    assert_eq!(c.repository(), "localhost:5000/dhh/app");
}

#[test]
fn service_name() {
    config(&set(&deploy(), "service", "hey-app1_primary"));
    config(&set(&deploy(), "service", "MyApp"));
    assert_eq!(
        error(&set(&deploy(), "service", "app.com")),
        "Service name can only include alphanumeric characters, hyphens, and underscores"
    );
    // an integer never matches Kamal's `=~`
    assert_eq!(
        error(&set(&deploy(), "service", "5")),
        "Service name can only include alphanumeric characters, hyphens, and underscores"
    );
}

#[test]
fn servers_required_unless_accessories() {
    assert_eq!(error(&without(&deploy(), "servers")), "No servers or accessories specified");
    let c =
        config(&merge(&without(&deploy(), "servers"), r#"accessories: { foo: { image: foo/bar, host: 1.1.1.1 } }"#));
    assert_eq!(c.all_hosts(), strs(&["1.1.1.1"]));
    assert!(c.roles().is_empty());
    assert_eq!(c.primary_host(), None);
}

#[test]
fn roles_and_hosts() {
    let c = config(&deploy());
    let r = config(&deploy_with_roles());
    assert_eq!(c.role_names(), strs(&["web"]));
    assert_eq!(r.role_names(), strs(&["web", "workers"]));
    assert_eq!(r.role("workers").unwrap().name(), "workers");
    assert!(c.role("missing").is_none());
    assert_eq!(c.all_hosts(), strs(&["1.1.1.1", "1.1.1.2"]));
    assert_eq!(r.all_hosts(), strs(&["1.1.1.1", "1.1.1.2", "1.1.1.3"]));
    assert_eq!(c.primary_host().unwrap(), "1.1.1.1");
    assert_eq!(r.primary_host().unwrap(), "1.1.1.1");
    assert_eq!(r.app_hosts(), strs(&["1.1.1.1", "1.1.1.2", "1.1.1.3"]));
}

#[test]
fn proxy_hosts() {
    assert_eq!(config(&deploy_with_roles()).proxy_hosts(), strs(&["1.1.1.1", "1.1.1.2"]));
    let c = config(&set(&deploy_with_roles(), "servers/workers/proxy", "true"));
    assert_eq!(c.proxy_hosts(), strs(&["1.1.1.1", "1.1.1.2", "1.1.1.3"]));
    assert_eq!(c.proxy_role_names(), strs(&["web", "workers"]));
}

#[test]
fn version() {
    let c = config(&deploy());
    assert_eq!(c.version(), "missing");
    c.set_version("arg-version");
    assert_eq!(c.version(), "arg-version");
    assert_eq!(c.absolute_image(), "dhh/app:arg-version");
    c.set_version("0123456789abcdef");
    assert_eq!(c.abbreviated_version(), "0123456");
    c.set_version("0123456789abcdef_uncommitted_1234");
    assert_eq!(c.abbreviated_version(), "0123456789abcdef_uncommitted_1234");
}

#[test]
fn repository_and_images() {
    let c = config(&deploy());
    assert_eq!(c.repository(), "dhh/app");
    assert_eq!(c.absolute_image(), "dhh/app:missing");
    assert_eq!(c.latest_image(), "dhh/app:latest");
    assert_eq!(c.service_with_version(), "app-missing");
    let c = config(&set(&deploy(), "registry/server", "ghcr.io"));
    assert_eq!(c.repository(), "ghcr.io/dhh/app");
    assert_eq!(c.absolute_image(), "ghcr.io/dhh/app:missing");
}

#[test]
fn hosts_required_for_all_roles() {
    assert_eq!(error(&merge(&deploy(), "servers: []")), "No servers specified for the web primary_role");
    assert_eq!(error(&merge(&deploy(), "servers: { web: [] }")), "No servers specified for the web primary_role");
    assert_eq!(error(&merge(&deploy(), "servers: { web: {} }")), "No servers specified for the web primary_role");
    assert_eq!(
        error(&merge(&deploy(), "servers: { web: { hosts: [] } }")),
        "No servers specified for the web primary_role"
    );
    assert_eq!(error(&merge(&deploy(), "servers: { web: { hosts: null } }")), "servers/web/hosts: should be an array");
    assert_eq!(
        error(&merge(&deploy(), "servers: { web: [ web ], workers: { hosts: [] } }")),
        "No servers specified for the workers role. You can ignore this with allow_empty_roles: true"
    );
}

#[test]
fn allow_empty_roles() {
    config(&merge(&deploy(), "servers: { web: [ web ], workers: { hosts: [] } }\nallow_empty_roles: true"));
    assert_eq!(
        error(&merge(&deploy(), "servers: { web: [], workers: { hosts: [] } }\nallow_empty_roles: true")),
        "No servers specified for the web primary_role"
    );
}

#[test]
fn volume_and_logging_args() {
    let c = config(&deploy());
    assert_eq!(c.volume_args(), strs(&["--volume", "/local/path:/container/path"]));
    assert_eq!(c.logging_args(), strs(&["--log-opt", "max-size=\"10m\""]));
    let c = config(&merge(&deploy(), r#"logging: { options: { max-size: 100m, max-file: 5 } }"#));
    assert_eq!(c.logging_args(), strs(&["--log-opt", "max-size=\"100m\"", "--log-opt", "max-file=\"5\""]));
    let c = config(&merge(&deploy(), r#"logging: { driver: local, options: { max-size: 100m, max-file: 5 } }"#));
    assert_eq!(
        c.logging_args(),
        strs(&["--log-driver", "\"local\"", "--log-opt", "max-size=\"100m\"", "--log-opt", "max-file=\"5\""])
    );
}

#[test]
fn minimum_version() {
    assert_eq!(config(&merge(&deploy(), "minimum_version: 0.0.1")).minimum_version().unwrap(), "0.0.1");
    assert_eq!(config(&merge(&deploy(), "minimum_version: 2.12.0")).minimum_version().unwrap(), "2.12.0");
    assert_eq!(
        error(&merge(&deploy(), "minimum_version: 10000.0.0")),
        "Current version is 2.12.0, minimum required is 10000.0.0"
    );
}

#[test]
fn directories_and_defaults() {
    let c = config(&deploy());
    assert_eq!(c.run_directory(), ".kamal");
    assert_eq!(c.apps_directory(), ".kamal/apps");
    assert_eq!(c.app_directory(), ".kamal/apps/app");
    assert_eq!(c.env_directory(), ".kamal/apps/app/env");
    assert_eq!(c.assets_directory(), ".kamal/apps/app/assets");
    assert_eq!(c.hooks_path(), ".kamal/hooks");
    assert_eq!(c.secrets_path(), ".kamal/secrets");
    assert_eq!(c.readiness_delay(), 7);
    assert_eq!(c.deploy_timeout(), 30);
    assert_eq!(c.drain_timeout(), 30);
    assert_eq!(c.stop_timeout(), None);
    assert_eq!(c.asset_path(), None);
    assert_eq!(config(&merge(&deploy(), "asset_path: foo")).asset_path().unwrap(), "foo");
}

#[test]
fn primary_role() {
    assert_eq!(config(&deploy()).primary_role().unwrap().name(), "web");
    let raw = deep_merge(
        &deploy_with_roles(),
        r#"{ servers: { alternate_web: { hosts: [ "1.1.1.4", "1.1.1.5" ] } }, primary_role: alternate_web }"#,
    );
    let c = config(&raw);
    assert_eq!(c.primary_role().unwrap().name(), "alternate_web");
    assert_eq!(c.primary_host().unwrap(), "1.1.1.4");
    assert!(c.role("alternate_web").unwrap().primary());
    assert!(c.role("alternate_web").unwrap().running_proxy());
    assert!(!c.role("web").unwrap().running_proxy());
    assert_eq!(error(&merge(&deploy(), "primary_role: bar")), "The primary_role bar isn't defined");
}

#[test]
fn retain_containers() {
    assert_eq!(config(&deploy()).retain_containers(), 5);
    assert_eq!(config(&merge(&deploy_with_roles(), "retain_containers: 2")).retain_containers(), 2);
    assert_eq!(error(&merge(&deploy_with_roles(), "retain_containers: 0")), "Must retain at least 1 container");
}

#[test]
fn proxy_ssl_errors() {
    assert_eq!(
        error(&set(&deploy_with_roles(), "servers/workers/proxy", "{ ssl: true }")),
        "servers/workers/proxy: Must set a host to enable automatic SSL"
    );
    assert_eq!(
        error(&set(&deploy_with_roles(), "servers/workers/proxy", "{ ssl: true, host: foo.example.com }")),
        "SSL is only supported on a single server unless you provide custom certificates, found 2 servers for role workers"
    );
    let raw = merge(
        &deploy_with_roles(),
        r#"servers:
  web: { hosts: [ "1.1.1.1" ], proxy: { ssl: true, host: foo.example.com } }
  workers: { hosts: [ "1.1.1.1" ], proxy: { ssl: true, host: foo.example.com } }"#,
    );
    assert_eq!(error(&raw), "Different roles can't share the same host for SSL: foo.example.com");
    let raw = merge(
        &deploy_with_roles(),
        r#"servers:
  web: { hosts: [ "1.1.1.1" ], proxy: { ssl: true, hosts: [ foo.example.com, bar.example.com ] } }
  workers: { hosts: [ "1.1.1.1" ], proxy: { ssl: true, hosts: [ www.example.com, foo.example.com ] } }"#,
    );
    assert_eq!(error(&raw), "Different roles can't share the same host for SSL: foo.example.com");
}

#[test]
fn proxy_host_and_hosts_after_merge() {
    // root `host` and role `hosts` merge into a proxy with both: validated as `proxy`
    let raw = merge(
        &deploy(),
        r#"proxy: { host: a.example.com }
servers: { web: { hosts: [ "1.1.1.1" ], proxy: { hosts: [ b.example.com ] } } }"#,
    );
    assert_eq!(error(&raw), "proxy: Specify one of 'host' or 'hosts', not both");
}

#[test]
fn hooks_output() {
    assert_eq!(config(&deploy()).hooks_output_for("pre-deploy"), None);
    let c = config(&merge(&deploy(), "hooks_output: :verbose"));
    assert_eq!(c.hooks_output_for("pre-deploy"), Some(HooksOutput::Verbose));
    assert_eq!(c.hooks_output_for("post-deploy"), Some(HooksOutput::Verbose));
    let c = config(&merge(&deploy(), "hooks_output:\n  pre-deploy: :verbose\n  post-deploy: :quiet"));
    assert_eq!(c.hooks_output_for("pre-deploy"), Some(HooksOutput::Verbose));
    assert_eq!(c.hooks_output_for("post-deploy"), Some(HooksOutput::Quiet));
    assert_eq!(c.hooks_output_for("pre-build"), None);
    assert_eq!(
        error(&merge(&deploy(), "hooks_output: :invalid")),
        "Invalid hooks_output 'invalid', must be one of: quiet, verbose"
    );
    assert_eq!(
        error(&merge(&deploy(), "hooks_output:\n  pre-deploy: :invalid")),
        "Invalid hooks_output 'invalid' for hook 'pre-deploy', must be one of: quiet, verbose"
    );
}

#[test]
fn destination_required() {
    let e = load_fixture("deploy_for_required_dest.yml", None).unwrap_err();
    assert_eq!(e.to_string(), "You must specify a destination");
    assert_eq!(e.kind(), ErrorKind::Argument);
    assert_eq!(e.ruby_class(), "ArgumentError");
    load_fixture("deploy_for_required_dest.yml", Some("world")).unwrap();
}

#[test]
fn extensions() {
    let c = load_fixture("deploy_with_extensions.yml", None).unwrap();
    assert!(c.role("web_tokyo").unwrap().running_proxy());
    assert!(c.role("web_chicago").unwrap().running_proxy());
    assert_eq!(c.primary_host().unwrap(), "1.1.1.3");
}

#[test]
fn traefik_hooks_raise_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("hooks")).unwrap();
    std::fs::write(dir.path().join("hooks/post-traefik-reboot"), "").unwrap();
    std::fs::write(dir.path().join("hooks/pre-traefik-reboot"), "").unwrap();
    let file = dir.path().join("deploy.yml");
    let yaml = format!(
        "service: app\nimage: dhh/app\nregistry: {{ username: dhh, password: secret }}\nbuilder: {{ arch: amd64 }}\nservers: [ 1.1.1.1 ]\nhooks_path: {}\n",
        dir.path().join("hooks").display()
    );
    std::fs::write(&file, yaml).unwrap();
    let mut opts = options(std::sync::Arc::new(wharf_config::NoSecrets));
    opts.config_file = file;
    let e = wharf_config::Configuration::load(opts).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Found pre-traefik-reboot, post-traefik-reboot, these should be renamed to (pre|post)-proxy-reboot"
    );
}
