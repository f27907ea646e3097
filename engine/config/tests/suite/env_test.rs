//! Port of Kamal's test/configuration/env_test.rb and env/tags_test.rb.

use crate::common::*;
use serde_yaml::Value;
use std::sync::Arc;
use wharf_config::{Env, MapSecrets};

fn env(config: &str, secrets: &[(&str, &str)]) -> Env {
    Env::new(&yaml(config), Arc::new(MapSecrets::new(secrets.iter().map(|(k, v)| (k.to_string(), v.to_string())))))
}

#[test]
fn simple_clear_and_secret() {
    let e = env("{ foo: bar, baz: haz }", &[]);
    assert_eq!(e.clear_args(), strs(&["--env", "foo=\"bar\"", "--env", "baz=\"haz\""]));
    assert_eq!(e.secrets_io().unwrap(), "\n");
    let e = env("{ clear: { foo: bar, baz: haz } }", &[]);
    assert_eq!(e.clear_args(), strs(&["--env", "foo=\"bar\"", "--env", "baz=\"haz\""]));
    let e = env("{ secret: [ PASSWORD ] }", &[("PASSWORD", "hello")]);
    assert!(e.clear_args().is_empty());
    assert_eq!(e.secrets_io().unwrap(), "PASSWORD=hello\n");
    let e = env("{ secret: [ PASSWORD ], clear: { foo: bar, baz: haz } }", &[("PASSWORD", "hello")]);
    assert_eq!(e.clear_args(), strs(&["--env", "foo=\"bar\"", "--env", "baz=\"haz\""]));
    assert_eq!(e.secrets_io().unwrap(), "PASSWORD=hello\n");
    let e = env("{ secret: [ 'PASSWORD:ALIASED_PASSWORD' ], clear: {} }", &[("ALIASED_PASSWORD", "hello")]);
    assert_eq!(e.secrets_io().unwrap(), "PASSWORD=hello\n");
}

#[test]
fn missing_secret() {
    let e = env("{ secret: [ PASSWORD ] }", &[]);
    assert_eq!(e.secrets_io().unwrap_err().to_string(), "Secret 'PASSWORD' not found in .kamal/secrets");
}

#[test]
fn escaping() {
    let e =
        env(r#"{ A: "a \"quoted\" $HOME ${HOME} `cmd`", N: 4, B: false, E: "" }"#, &[("S", "multi\nline #{x} \"q\"")]);
    assert_eq!(
        e.clear_args(),
        strs(&[
            "--env",
            r#"A="a \"quoted\" \$HOME ${HOME} \`cmd\`""#,
            "--env",
            "N=\"4\"",
            "--env",
            "B=false",
            "--env",
            "E"
        ])
    );
    let e = env("{ secret: [ S ] }", &[("S", "multi\nline #{x} \"q\"")]);
    assert_eq!(e.secrets_io().unwrap(), "S=multi\\nline #{x} \"q\"\n");
}

fn tags_deploy() -> Value {
    yaml(
        r#"
service: app
image: dhh/app
registry: { username: dhh, password: secret }
servers: [ { "1.1.1.1": odd }, { "1.1.1.2": even }, { "1.1.1.3": [ odd, three ] } ]
builder: { arch: amd64 }
env:
  clear: { REDIS_URL: "redis://x/y", THREE: "false" }
  tags:
    odd: { TYPE: odd }
    even: { TYPE: even }
    three: { THREE: "true" }
"#,
    )
}

#[test]
fn tags() {
    let c = config(&tags_deploy());
    assert_eq!(c.env_tags().iter().map(|t| t.name().to_string()).collect::<Vec<_>>(), strs(&["odd", "even", "three"]));
    assert_eq!(c.env_tag("odd").unwrap().env().clear_value("TYPE").unwrap(), "odd");
    assert_eq!(c.env_tag("even").unwrap().env().clear_value("TYPE").unwrap(), "even");
    assert_eq!(c.env_tag("three").unwrap().env().clear_value("THREE").unwrap(), "true");
    let web = c.role("web").unwrap();
    assert_eq!(web.env("1.1.1.1").clear_value("THREE").unwrap(), "false");
    assert_eq!(web.env("1.1.1.3").clear_value("THREE").unwrap(), "true");
    assert_eq!(web.env("1.1.1.3").clear_value("TYPE").unwrap(), "odd");
    assert_eq!(web.tags("1.1.1.3"), strs(&["odd", "three"]));
}

#[test]
fn tags_with_roles() {
    let raw = merge(
        &tags_deploy(),
        r#"
servers:
  web: [ { "1.1.1.1": odd }, "1.1.1.2" ]
  workers:
    hosts: [ { "1.1.1.3": [ odd, oddjob ] }, "1.1.1.4" ]
    cmd: bin/jobs
    env: { REDIS_URL: "redis://a/b", WEB_CONCURRENCY: 4 }
env:
  tags:
    odd: { TYPE: odd }
    oddjob: { TYPE: oddjob }
"#,
    );
    let c = config(&raw);
    assert_eq!(c.env_tags().iter().map(|t| t.name().to_string()).collect::<Vec<_>>(), strs(&["odd", "oddjob"]));
    let w = c.role("workers").unwrap();
    assert_eq!(w.env("1.1.1.3").clear_value("TYPE").unwrap(), "oddjob");
    assert_eq!(
        w.env_args("1.1.1.3"),
        strs(&[
            "--env",
            "REDIS_URL=\"redis://a/b\"",
            "--env",
            "WEB_CONCURRENCY=\"4\"",
            "--env",
            "TYPE=\"oddjob\"",
            "--env-file",
            ".kamal/apps/app/env/roles/workers.env"
        ])
    );
    assert_eq!(w.env("1.1.1.4").clear_value("TYPE"), None);
}

#[test]
fn later_tag_wins_and_tag_secrets() {
    let base =
        "service: app\nimage: dhh/app\nregistry: { username: dhh, password: secret }\nbuilder: { arch: amd64 }\n";
    let c = config(&yaml(&format!(
        "{base}servers: [ {{ \"1.1.1.1\": [ first, second ] }} ]\nenv: {{ tags: {{ first: {{ TYPE: first }}, second: {{ TYPE: second }} }} }}\n"
    )));
    assert_eq!(c.role("web").unwrap().env("1.1.1.1").clear_value("TYPE").unwrap(), "second");

    let raw = yaml(&format!(
        "{base}servers: [ {{ \"1.1.1.1\": secrets }} ]\nenv: {{ tags: {{ secrets: {{ secret: [ PASSWORD ] }} }} }}\n"
    ));
    let c = config_with_secrets(&raw, &[("PASSWORD", "hello")]);
    assert_eq!(c.role("web").unwrap().env("1.1.1.1").secrets_io().unwrap(), "PASSWORD=hello\n");

    let raw = yaml(&format!("{base}servers: [ {{ \"1.1.1.1\": secrets }} ]\nenv: {{ tags: {{ secrets: {{ secret: [ 'PASSWORD:ALIASED_PASSWORD' ] }} }} }}\n"));
    let c = config_with_secrets(&raw, &[("PASSWORD", "hello"), ("ALIASED_PASSWORD", "aliased_hello")]);
    assert_eq!(c.role("web").unwrap().env("1.1.1.1").secrets_io().unwrap(), "PASSWORD=aliased_hello\n");

    let raw = yaml(&format!(
        "{base}servers: [ {{ \"1.1.1.1\": clearly }} ]\nenv: {{ tags: {{ clearly: {{ clear: {{ FOO: bar }} }} }} }}\n"
    ));
    assert_eq!(config(&raw).role("web").unwrap().env("1.1.1.1").clear_value("FOO").unwrap(), "bar");
}

#[test]
fn env_tags_fixture() {
    let c = load_fixture("deploy_with_env_tags.yml", None).unwrap();
    let web = c.role("web").unwrap();
    assert_eq!(
        web.env_args("1.1.1.1"),
        strs(&[
            "--env",
            "TEST=\"root\"",
            "--env",
            "EXPERIMENT=\"disabled\"",
            "--env",
            "SITE=\"site1\"",
            "--env-file",
            ".kamal/apps/app/env/roles/web.env"
        ])
    );
    assert_eq!(
        web.env_args("1.1.1.2"),
        strs(&[
            "--env",
            "TEST=\"root\"",
            "--env",
            "EXPERIMENT=\"disabled\"",
            "--env-file",
            ".kamal/apps/app/env/roles/web.env"
        ])
    );
    // `[ site1 experimental ]` is one tag, "site1 experimental", which has no env
    assert_eq!(web.tags("1.1.1.2"), strs(&["site1 experimental"]));
    let workers = c.role("workers").unwrap();
    assert_eq!(workers.env("1.2.1.3").clear_value("SITE").unwrap(), "site2");
}
