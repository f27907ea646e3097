//! Port of Kamal's test/configuration/proxy_test.rb, proxy/boot_test.rb and proxy/run_test.rb,
//! plus the `kamal-proxy deploy` arguments.

use crate::common::*;
use serde_yaml::Value;
use wharf_config::ProxyRun;

fn deploy() -> Value {
    yaml("service: app\nimage: dhh/app\nregistry: { username: dhh, password: secret }\nbuilder: { arch: amd64 }\nservers: [ 1.1.1.1 ]\n")
}

fn with_proxy(p: &str) -> Value {
    merge(&deploy(), &format!("proxy: {p}"))
}

#[test]
fn ssl() {
    assert!(config(&with_proxy("{ ssl: true, host: example.com }")).proxy().ssl());
    let c = config(&with_proxy("{ ssl: true, host: 'example.com,anotherexample.com' }"));
    assert!(c.proxy().ssl());
    assert_eq!(c.proxy().hosts(), strs(&["example.com", "anotherexample.com"]));
    assert!(config(&with_proxy("{ ssl: true, hosts: [ example.com, anotherexample.com ] }")).proxy().ssl());
    assert_eq!(error(&with_proxy("{ ssl: true }")), "proxy: Must set a host to enable automatic SSL");
    assert_eq!(
        error(&with_proxy("{ ssl: true, host: example.com, hosts: [ anotherexample.com ] }")),
        "proxy: Specify one of 'host' or 'hosts', not both"
    );
    assert!(!config(&with_proxy("{ ssl: false }")).proxy().ssl());
    assert_eq!(error(&merge(&deploy(), "proxy: false")), "proxy: should be a hash");
}

#[test]
fn custom_certificates() {
    let raw = with_proxy("{ ssl: { certificate_pem: CERT_PEM, private_key_pem: KEY_PEM }, host: example.com }");
    let c = config_with_secrets(&raw, &[("CERT_PEM", "certificate"), ("KEY_PEM", "private_key")]);
    let p = c.proxy();
    assert_eq!(p.host_tls_cert().unwrap(), ".kamal/proxy/apps-config/app/tls/cert.pem");
    assert_eq!(p.host_tls_key().unwrap(), ".kamal/proxy/apps-config/app/tls/key.pem");
    assert_eq!(p.container_tls_cert().unwrap(), "/home/kamal-proxy/.apps-config/app/tls/cert.pem");
    assert_eq!(p.container_tls_key().unwrap(), "/home/kamal-proxy/.apps-config/app/tls/key.pem");
    assert_eq!(p.certificate_pem_content().unwrap().unwrap(), "certificate");
    assert_eq!(p.private_key_pem_content().unwrap().unwrap(), "private_key");
    let opts = p.deploy_options();
    let get = |k: &str| opts.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    assert_eq!(get("tls"), Some(Value::Bool(true)));
    assert_eq!(
        get("tls-certificate-path"),
        Some(Value::String("/home/kamal-proxy/.apps-config/app/tls/cert.pem".into()))
    );
    assert_eq!(
        get("tls-private-key-path"),
        Some(Value::String("/home/kamal-proxy/.apps-config/app/tls/key.pem".into()))
    );
    // the role's proxy puts them under the role name
    let role_proxy = c.role("web").unwrap().proxy().unwrap();
    assert_eq!(role_proxy.host_tls_cert().unwrap(), ".kamal/proxy/apps-config/app/tls/web/cert.pem");
    assert_eq!(
        error(&with_proxy("{ ssl: { certificate_pem: CERT_PEM }, host: example.com }")),
        "proxy: Missing private_key_pem setting (required when certificate_pem is present)"
    );
    assert_eq!(
        error(&with_proxy("{ ssl: { private_key_pem: KEY_PEM }, host: example.com }")),
        "proxy: Missing certificate_pem setting (required when private_key_pem is present)"
    );
}

#[test]
fn deploy_command_args_defaults() {
    let c = config(&deploy());
    let p = c.role("web").unwrap().proxy().unwrap();
    assert_eq!(
        p.deploy_command_args("app-web-123"),
        strs(&[
            "--target=\"app-web-123:80\"",
            "--deploy-timeout=\"30s\"",
            "--drain-timeout=\"30s\"",
            "--buffer-requests",
            "--buffer-responses",
            "--log-request-header=\"Cache-Control\"",
            "--log-request-header=\"Last-Modified\"",
            "--log-request-header=\"User-Agent\""
        ])
    );
}

#[test]
fn deploy_command_args_everything() {
    let raw = merge(
        &with_proxy(
            r#"
  hosts: [ app.example.com, www.example.com ]
  app_port: 3000
  ssl: true
  ssl_redirect: false
  forward_headers: true
  response_timeout: 10
  path_prefixes: [ /api, /oauth ]
  strip_path_prefix: false
  healthcheck: { interval: 3, path: /health, timeout: 4 }
  buffering: { requests: false, responses: true, max_request_body: 40_000_000, max_response_body: 0, memory: 2_000_000 }
  logging: { request_headers: [ X-Request-Id ], response_headers: [ X-Runtime ] }
"#,
        ),
        "deploy_timeout: 20\ndrain_timeout: 5\nerror_pages_path: public",
    );
    let c = config(&raw);
    c.set_version("abc");
    let p = c.role("web").unwrap().proxy().unwrap();
    assert_eq!(
        p.deploy_command_args("app-web-abc"),
        strs(&[
            "--target=\"app-web-abc:3000\"",
            "--host=\"app.example.com\"",
            "--host=\"www.example.com\"",
            "--tls",
            "--deploy-timeout=\"20s\"",
            "--drain-timeout=\"5s\"",
            "--health-check-interval=\"3s\"",
            "--health-check-timeout=\"4s\"",
            "--health-check-path=\"/health\"",
            "--target-timeout=\"10s\"",
            "--buffer-requests=\"false\"",
            "--buffer-responses",
            "--buffer-memory=\"2000000\"",
            "--max-request-body=\"40000000\"",
            "--max-response-body=\"0\"",
            "--path-prefix=\"/api\"",
            "--path-prefix=\"/oauth\"",
            "--strip-path-prefix=\"false\"",
            "--forward-headers",
            "--tls-redirect=\"false\"",
            "--log-request-header=\"X-Request-Id\"",
            "--log-response-header=\"X-Runtime\"",
            "--error-pages=\"/home/kamal-proxy/.apps-config/app/error_pages/abc\""
        ])
    );
    assert_eq!(
        p.stop_command_args(Some(30), Some("Down for maintenance")),
        strs(&["--drain-timeout=\"30s\"", "--message=\"Down for maintenance\""])
    );
}

#[test]
fn proxy_boot_directories() {
    let c = config(&deploy());
    let b = c.proxy_boot();
    assert_eq!(b.apps_directory(), ".kamal/proxy/apps-config");
    assert_eq!(b.apps_container_directory(), "/home/kamal-proxy/.apps-config");
    assert_eq!(b.app_directory(), ".kamal/proxy/apps-config/app");
    assert_eq!(b.app_container_directory(), "/home/kamal-proxy/.apps-config/app");
    assert_eq!(b.error_pages_directory(), ".kamal/proxy/apps-config/app/error_pages");
    assert_eq!(b.error_pages_container_directory(), "/home/kamal-proxy/.apps-config/app/error_pages");
    assert_eq!(b.tls_directory(), ".kamal/proxy/apps-config/app/tls");
    assert_eq!(b.tls_container_directory(), "/home/kamal-proxy/.apps-config/app/tls");
    assert_eq!(b.host_directory(), ".kamal/proxy");
    assert_eq!(b.options_file(), ".kamal/proxy/options");
    assert_eq!(b.image_default(), "basecamp/kamal-proxy");
    assert_eq!(b.default_boot_options(), strs(&["--publish 80:80 --publish 443:443", "--log-opt", "max-size=10m"]));
    assert_eq!(
        b.publish_args("8080", "8443", Some(&strs(&["0.0.0.0", "::1"]))).unwrap(),
        "--publish 0.0.0.0:8080:80 --publish 0.0.0.0:8443:443 --publish [::1]:8080:80 --publish [::1]:8443:443"
    );
    assert_eq!(
        b.publish_args("80", "443", Some(&strs(&["nope"]))).unwrap_err().to_string(),
        "Invalid publish IP address: nope"
    );
}

#[test]
fn proxy_run() {
    let c = config(&deploy());
    assert!(c.proxy_run("1.1.1.1").is_none());
    let raw = with_proxy(
        "{ run: { http_port: 8080, https_port: 8443, metrics_port: 9090, debug: true, log_max_size: 30m, bind_ips: [ 127.0.0.1 ], registry: 'registry:4443', repository: myrepo/kamal-proxy, version: v0.9.3, options: { memory: 512m, label: [ a=b ] } } }",
    );
    let c = config(&raw);
    let run = c.proxy_run("1.1.1.1").unwrap();
    assert_eq!(run.image(), "registry:4443/myrepo/kamal-proxy:v0.9.3");
    assert_eq!(run.run_command(), "kamal-proxy run --debug --metrics-port \"9090\"");
    assert_eq!(
        run.docker_options_args(),
        strs(&[
            "--volume",
            "$PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config",
            "--publish 127.0.0.1:8080:80 --publish 127.0.0.1:8443:443",
            "--log-opt",
            "max-size=30m",
            "--expose=9090",
            "--memory",
            "\"512m\"",
            "--label",
            "\"a=b\""
        ])
    );
    let c = config(&with_proxy("{ run: { debug: false } }"));
    let run = c.proxy_run("1.1.1.1").unwrap();
    assert_eq!(run.image(), "basecamp/kamal-proxy:v0.9.2");
    assert_eq!(run.run_command(), "kamal-proxy run");
    assert_eq!(run.publish_args().unwrap(), "--publish 80:80 --publish 443:443");
    let c = config(&with_proxy("{ run: { publish: false } }"));
    assert_eq!(c.proxy_run("1.1.1.1").unwrap().publish_args(), None);
}

#[test]
fn run_equality() {
    let c = config(&with_proxy("{ run: { log_max_size: 50m } }"));
    let a = ProxyRun::new(&c, yaml("{ log_max_size: 50m }"));
    let b = ProxyRun::new(&c, yaml("{ log_max_size: 50m }"));
    let d = ProxyRun::new(&c, yaml("{ log_max_size: 100m }"));
    assert_eq!(a, b);
    assert_ne!(a, d);
}

#[test]
fn no_conflict_when_global_run_is_inherited() {
    let raw = deep_merge(
        &deploy(),
        r#"
servers:
  web: { hosts: [ 1.1.1.1 ] }
  worker: { hosts: [ 1.1.1.1 ], cmd: bin/jobs, proxy: { hosts: [ worker.example.com ], app_port: 8080 } }
proxy:
  hosts: [ example.com ]
  run: { log_max_size: "", options: { log-driver: journald } }
"#,
    );
    let c = config(&raw);
    assert_eq!(c.proxy_run("1.1.1.1").unwrap().logging_args(), None);
}

#[test]
fn conflicting_runs() {
    let e = load_fixture("deploy_with_proxy_run_config_conflicts.yml", None).unwrap_err();
    assert_eq!(e.to_string(), "Conflicting proxy run configurations for host 1.1.1.2");
    let c = load_fixture("deploy_with_proxy_run_config.yml", None).unwrap();
    assert!(c.proxy_run("1.1.1.1").is_some());
}
