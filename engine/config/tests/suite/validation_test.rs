//! Port of Kamal's test/configuration/validation_test.rb, plus the special validators' other
//! messages.

use crate::common::*;

fn valid() -> serde_yaml::Value {
    yaml(
        r#"
service: app
image: app
builder: { arch: amd64 }
registry: { username: user, password: secret }
servers: [ "1.1.1.1" ]
"#,
    )
}

#[track_caller]
fn assert_error(message: &str, invalid: &str) {
    assert_eq!(error(&merge(&valid(), invalid)), message, "for {invalid}");
}

#[test]
fn unknown_root_key() {
    assert_error("unknown key: unknown", "unknown: value");
    assert_error("unknown keys: unknown, unknown2", "unknown: value\nunknown2: value");
}

#[test]
fn extensions_only_at_the_root() {
    config(&merge(&valid(), "x-anything: { whatever: [1] }"));
    assert_error("builder: unknown key: x-foo", "builder: { arch: amd64, x-foo: bar }");
}

#[test]
fn wrong_root_types() {
    for key in [
        "service",
        "image",
        "asset_path",
        "hooks_path",
        "secrets_path",
        "primary_role",
        "minimum_version",
        "run_directory",
    ] {
        assert_error(&format!("{key}: should be a string"), &format!("{key}: []"));
    }
    for key in ["require_destination", "allow_empty_roles"] {
        assert_error(&format!("{key}: should be a boolean"), &format!("{key}: foo"));
    }
    for key in ["deploy_timeout", "drain_timeout", "retain_containers", "readiness_delay"] {
        assert_error(&format!("{key}: should be an integer"), &format!("{key}: foo"));
    }
    assert_error("volumes: should be an array", "volumes: foo");
    assert_error("servers: should be an array or a hash", "servers: foo");
    for key in ["labels", "registry", "accessories", "env", "ssh", "sshkit", "builder", "proxy", "boot", "logging"] {
        assert_error(&format!("{key}: should be a hash"), &format!("{key}: []"));
    }
}

#[test]
fn strings_accept_numbers_and_booleans() {
    config(&merge(&valid(), "asset_path: 1\nprimary_role: web\nminimum_version: 1.0"));
    config(&merge(&valid(), "ssh: { port: 2222, user: true }"));
}

#[test]
fn yaml_1_1_scalars() {
    // `yes` is a boolean for Psych, as `no` is
    config(&merge(&valid(), "require_destination: no\nallow_empty_roles: yes\nservers: [ 1.1.1.1 ]"));
    assert_error(
        "servers/web/options/restart: should be a string. Use \"no\" to disable restarts",
        "servers: { web: { hosts: [ 1.1.1.1 ], options: { restart: no } } }",
    );
}

#[test]
fn servers() {
    assert_error("servers: should be an array or a hash", "servers: foo");
    assert_error("servers/0: should be a string or a hash", "servers: [ [] ]");
    assert_error("servers/0: multiple hosts found", "servers: [ { a: b, c: d } ]");
    assert_error("servers/0/foo: should be a string or an array", "servers: [ { foo: {} } ]");
    assert_error("servers/0/foo/0: should be a string", "servers: [ { foo: [ [] ] } ]");
}

#[test]
fn roles() {
    assert_error("servers/web: should be an array or a hash", "servers: { web: foo }");
    assert_error("servers/web/hosts: should be an array", "servers: { web: { hosts: '' } }");
    assert_error("servers/web/hosts/0: should be a string or a hash", "servers: { web: { hosts: [ [] ] } }");
    assert_error("servers/web/options: should be a hash", "servers: { web: { options: '' } }");
    assert_error("servers/web/logging/options: should be a hash", "servers: { web: { logging: { options: '' } } }");
    assert_error("servers/web/logging/driver: should be a string", "servers: { web: { logging: { driver: [] } } }");
    assert_error(
        "servers/web/labels/service: invalid label. destination, role, and service are reserved labels",
        "servers: { web: { labels: { service: foo } } }",
    );
    assert_error("servers/web/labels: should be a hash", "servers: { web: { labels: [] } }");
    assert_error("servers/web/env: should be a hash", "servers: { web: { env: [] } }");
    assert_error(
        "servers/web/env: tags are only allowed in the root env",
        "servers: { web: { hosts: [ 1.1.1.1 ], env: { tags: {} } } }",
    );
    assert_error("servers/web: unknown key: foo", "servers: { web: { hosts: [ 1.1.1.1 ], foo: bar } }");
    assert_error(
        "servers/web/options/restart: should be no, always, unless-stopped, on-failure, or on-failure:N",
        "servers: { web: { hosts: [ 1.1.1.1 ], options: { restart: sometimes } } }",
    );
    config(&merge(&valid(), "servers: { web: { hosts: [ 1.1.1.1 ], options: { restart: 'on-failure:3' } } }"));
}

#[test]
fn registry() {
    assert_error("registry/username: is required", "registry: {}");
    assert_error("registry/password: is required", "registry: { username: foo }");
    assert_error(
        "registry/password: should be a string or an array with one string (for secret lookup)",
        "registry: { username: foo, password: [ SECRET1, SECRET2 ] }",
    );
    assert_error("registry/server: should be a string", "registry: { username: foo, password: bar, server: [] }");
    assert_error("registry: unknown key: foo", "registry: { username: foo, password: bar, foo: 1 }");
    // a local registry needs no credentials
    config(&merge(&valid(), "registry: { server: 'localhost:5000' }"));
}

#[test]
fn accessories() {
    assert_error("accessories/accessory1: should be a hash", "accessories: { accessory1: [] }");
    assert_error("accessories/accessory1: unknown key: unknown", "accessories: { accessory1: { unknown: baz } }");
    assert_error("accessories/accessory1/options: should be a hash", "accessories: { accessory1: { options: [] } }");
    assert_error(
        "accessories/accessory1/labels/destination: invalid label. destination, role, and service are reserved labels",
        "accessories: { accessory1: { host: host, labels: { destination: foo } } }",
    );
    assert_error("accessories/accessory1/host: should be a string", "accessories: { accessory1: { host: [] } }");
    assert_error("accessories/accessory1/env: should be a hash", "accessories: { accessory1: { env: [] } }");
    assert_error(
        "accessories/accessory1/env: tags are only allowed in the root env",
        "accessories: { accessory1: { host: host, env: { tags: {} } } }",
    );
    assert_error(
        "accessories/accessory1: specify one of `host`, `hosts`, `role`, `roles`, `tag` or `tags`",
        "accessories: { accessory1: { image: x } }",
    );
    assert_error(
        "accessories/db: unknown roles workers, jobs",
        "accessories: { db: { image: x, roles: [ web, workers, jobs ] } }",
    );
    assert_error("accessories/db: unknown role workers", "accessories: { db: { image: x, role: workers } }");
    assert_error(
        "accessories/db/files/0: should be a string or a hash",
        "accessories: { db: { image: x, host: h, files: [ [] ] } }",
    );
    assert_error(
        "accessories/db/files/0/mode: should be a string",
        "accessories: { db: { image: x, host: h, files: [ { local: a, remote: b, mode: [] } ] } }",
    );
    assert_error(
        "accessories/db/registry/password: is required",
        "accessories: { db: { image: x, host: h, registry: { server: ghcr.io, username: u } } }",
    );
    assert_error("accessories/db/proxy: should be a hash", "accessories: { db: { image: x, host: h, proxy: true } }");
}

#[test]
fn env() {
    assert_error("env: should be a hash", "env: []");
    assert_error("env/FOO: should be a string", "env: { FOO: [] }");
    assert_error("env/clear/FOO: should be a string", "env: { clear: { FOO: [] } }");
    assert_error("env/secret: should be an array", "env: { secret: { FOO: [] } }");
    assert_error("env/secret/0: should be a string", "env: { secret: [ [] ] }");
    assert_error("env/tags: should be a hash", "env: { tags: [] }");
    assert_error("env/tags/tag1: should be a hash", "env: { tags: { tag1: foo } }");
    assert_error("env/tags/tag1/FOO: should be a string", "env: { tags: { tag1: { FOO: [] } } }");
    assert_error("env/tags/tag1/clear/FOO: should be a string", "env: { tags: { tag1: { clear: { FOO: [] } } } }");
    assert_error("env/tags/tag1/secret: should be an array", "env: { tags: { tag1: { secret: {} } } }");
    assert_error("env/tags/tag1/secret/0: should be a string", "env: { tags: { tag1: { secret: [ [] ] } } }");
    assert_error("env/tags/tag1: tags are only allowed in the root env", "env: { tags: { tag1: { tags: {} } } }");
    assert_error("env: unknown key: FOO", "env: { clear: { A: b }, FOO: bar }");
}

#[test]
fn ssh() {
    assert_error("ssh: unknown key: foo", "ssh: { foo: bar }");
    assert_error("ssh/user: should be a string", "ssh: { user: [] }");
    assert_error("ssh/config: should be a boolean or a string or an array", "ssh: { config: 1 }");
    assert_error("ssh/keys: should be an array", "ssh: { keys: foo }");
}

#[test]
fn sshkit() {
    assert_error("sshkit: unknown key: foo", "sshkit: { foo: bar }");
    assert_error("sshkit/max_concurrent_starts: should be an integer", "sshkit: { max_concurrent_starts: foo }");
    assert_error("sshkit/dns_retries: should be an integer", "sshkit: { dns_retries: foo }");
}

#[test]
fn builder() {
    assert_error("builder: unknown key: foo", "builder: { foo: bar }");
    assert_error("builder/remote: should be a string", "builder: { remote: { foo: bar } }");
    assert_error("builder/arch: should be an array or a string", "builder: { arch: {} }");
    assert_error("builder/args: should be a hash", "builder: { args: [ foo ] }");
    assert_error("builder/cache/options: should be a string", "builder: { cache: { options: [] } }");
    assert_error(
        "builder: buildpacks only support building for one arch",
        "builder: { arch: [ amd64, arm64 ], pack: { builder: 'heroku/builder:24' } }",
    );
    assert_error("builder: Builder arch not set", "builder: {}");
    assert_error("builder: should be a hash", "builder: null");
    assert_error("builder: Invalid cache type: invalid", "builder: { arch: amd64, cache: { type: invalid } }");
    assert_error("builder: Cannot disable local builds, no remote is set", "builder: { arch: amd64, local: false }");
    assert_error("builder/sbom: should be a boolean", "builder: { arch: amd64, sbom: 'true' }");
}

#[test]
fn local_registry_with_remote_builder_requires_ssh_url() {
    assert_error(
        "Local registry with remote builder requires an SSH URL (e.g., ssh://user@host)",
        "registry: { server: 'localhost:5000' }\nbuilder: { arch: arm64, remote: 'docker-container://remote-builder' }",
    );
    config(&merge(
        &valid(),
        "registry: { server: 'localhost:5000' }\nbuilder: { arch: arm64, remote: 'ssh://user@host' }",
    ));
}

#[test]
fn proxy() {
    assert_error("proxy: unknown key: foo", "proxy: { foo: bar }");
    assert_error("proxy: Must set a host to enable automatic SSL", "proxy: { ssl: true }");
    assert_error("proxy: Specify one of 'host' or 'hosts', not both", "proxy: { host: a.com, hosts: [ b.com ] }");
    assert_error("proxy/ssl: should be a boolean or a hash", "proxy: { host: a.com, ssl: foo }");
    assert_error(
        "proxy: Missing private_key_pem setting (required when certificate_pem is present)",
        "proxy: { host: a.com, ssl: { certificate_pem: CERT } }",
    );
    assert_error(
        "proxy: Missing certificate_pem setting (required when private_key_pem is present)",
        "proxy: { host: a.com, ssl: { private_key_pem: KEY } }",
    );
    assert_error(
        "proxy: Cannot set http_port, https_port or bind_ips when publish is false",
        "proxy: { run: { publish: false, http_port: 8080 } }",
    );
    assert_error("proxy/app_port: should be an integer", "proxy: { app_port: '3000' }");
    assert_error("proxy/run/options: should be a hash", "proxy: { run: { options: [] } }");
    assert_error("proxy/healthcheck: unknown key: foo", "proxy: { healthcheck: { foo: 1 } }");
    assert_error("servers/web/proxy: should be a hash", "servers: { web: { hosts: [ 1.1.1.1 ], proxy: [] } }");
}

#[test]
fn aliases() {
    assert_error(
        "aliases/deploy: Alias 'deploy' conflicts with a built-in command.",
        "aliases: { deploy: app details }",
    );
    assert_error(
        "aliases/Deploy: Invalid alias name: 'Deploy'. Must only contain lowercase letters, alphanumeric, hyphens and underscores.",
        "aliases: { Deploy: app details }",
    );
    assert_error("aliases/foo: should be a string", "aliases: { foo: [] }");
}

#[test]
fn other_sections() {
    assert_error("boot/wait: should be an integer", "boot: { wait: soon }");
    assert_error("boot: unknown key: foo", "boot: { foo: 1 }");
    assert_error("output/otel: unknown key: foo", "output: { otel: { foo: 1 } }");
    assert_error("hooks_output: should be a string or a symbol", "hooks_output: []");
    let e = try_config(&merge(&valid(), "output: { otel: {} }")).unwrap_err();
    assert_eq!((e.to_string().as_str(), e.ruby_class()), ("OTel endpoint is required", "ArgumentError"));
    assert_eq!(error(&merge(&valid(), "output: { file: {} }")), "file path is required");
    assert_error("logging: unknown key: foo", "logging: { foo: bar }");
}
