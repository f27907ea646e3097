//! Loading files: ERB, destinations (deep merge, `KAMAL_DESTINATION`), missing files, YAML
//! errors, aliases, every Kamal fixture, and what `kamal config` prints.

use crate::common::*;
use std::collections::HashMap;
use std::sync::Arc;
use wharf_config::{summary, Configuration, ErrorKind, LoadOptions, NoSecrets};

fn load_text(
    base: &str,
    dest: Option<(&str, &str)>,
    env: &[(&str, &str)],
) -> Result<Configuration, wharf_config::ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().join("config");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(config_dir.join("deploy.yml"), base).unwrap();
    if let Some((name, text)) = dest {
        std::fs::write(config_dir.join(format!("deploy.{name}.yml")), text).unwrap();
    }
    let opts = LoadOptions {
        config_file: config_dir.join("deploy.yml"),
        destination: dest.map(|(n, _)| n.to_string()),
        version: Some("999".into()),
        env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        secrets: Arc::new(NoSecrets),
        docker_arch: Some("amd64".into()),
        ..Default::default()
    };
    Configuration::load(opts)
}

const BASE: &str =
    "service: app\nimage: dhh/app\nregistry:\n  username: user\n  password: pw\nbuilder:\n  arch: amd64\n";

#[test]
fn erb_evaluation() {
    let c = load_fixture("deploy.erb.yml", None).unwrap();
    assert_eq!(c.registry().username().unwrap().unwrap(), "my-user");
    assert_eq!(c.registry().password().unwrap().unwrap(), "my-password");
}

#[test]
fn erb_env_lookups_and_trimming() {
    let text = format!(
        "{BASE}servers:\n  - \"1.1.1.1\"\n<% if ENV[\"EXTRA\"] == \"yes\" -%>\n  - \"1.1.1.2\"\n<% end -%>\nenv:\n  clear:\n    HOST: <%= ENV.fetch(\"APP_HOST\", \"localhost\") %>\n    DEST: <%= ENV[\"KAMAL_DESTINATION\"] || \"none\" %>\n"
    );
    let c = load_text(&text, None, &[("EXTRA", "yes")]).unwrap();
    assert_eq!(c.all_hosts(), strs(&["1.1.1.1", "1.1.1.2"]));
    assert_eq!(c.env().clear_value("HOST").unwrap(), "localhost");
    assert_eq!(c.env().clear_value("DEST").unwrap(), "none");
    let c = load_text(
        &text,
        Some(("world", "env:\n  clear:\n    W: <%= ENV['KAMAL_DESTINATION'] %>\n")),
        &[("APP_HOST", "a.example.com"), ("KAMAL_DESTINATION", "stale")],
    )
    .unwrap();
    assert_eq!(c.all_hosts(), strs(&["1.1.1.1"]));
    assert_eq!(c.env().clear_value("HOST").unwrap(), "a.example.com");
    assert_eq!(c.env().clear_value("DEST").unwrap(), "world");
    assert_eq!(c.env().clear_value("W").unwrap(), "world");
}

#[test]
fn erb_fetch_missing_is_key_error() {
    let e = load_text(&format!("{BASE}servers: [ <%= ENV.fetch(\"HOST\") %> ]\n"), None, &[]).unwrap_err();
    assert_eq!(e.to_string(), "key not found: \"HOST\"");
    assert_eq!(e.ruby_class(), "KeyError");
}

#[test]
fn erb_commands_fail_as_in_ruby() {
    // a command without shell metacharacters is executed directly, as Ruby does
    let e =
        load_text(&format!("{BASE}servers: [ 1.1.1.1 ]\nlabels:\n  x: <%= %x(no-such-command-xyz) %>\n"), None, &[])
            .unwrap_err();
    assert_eq!(
        (e.ruby_class(), e.to_string().as_str()),
        ("Errno::ENOENT", "No such file or directory - no-such-command-xyz")
    );
}

#[test]
fn erb_beyond_the_evaluator_names_file_line_and_construct() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deploy.yml");
    std::fs::write(&file, format!("{BASE}servers: [ 1.1.1.1 ]\nlabels:\n  x: <%= \"abc\".unpack1(\"a*\") %>\n"))
        .unwrap();
    let load = |env: &[(&str, &str)]| {
        let opts = LoadOptions {
            config_file: file.clone(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..Default::default()
        };
        Configuration::load(opts).unwrap_err()
    };
    let e = load(&[("WHARF_RUBY", "never"), ("PATH", "/usr/bin:/bin")]);
    assert_eq!(
        e.to_string(),
        format!(
            "{}:10: the built-in Ruby evaluator does not support String#unpack1; WHARF_RUBY=never keeps Wharf from rendering it with a system Ruby",
            file.display()
        )
    );
    assert_eq!((e.kind(), e.ruby_class()), (ErrorKind::Erb, "Wharf::UnsupportedERB"));
    let e = load(&[("PATH", dir.path().to_str().unwrap())]);
    assert!(
        e.to_string().ends_with(
            "; Kamal renders it with Ruby: install Ruby (a `ruby` on PATH) and Wharf renders this file with it"
        ),
        "{e}"
    );
}

#[test]
fn load_str_renders_validates_and_sandboxes() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let options = |sandbox_erb| LoadOptions {
        env: [("WHARF_RUBY".to_string(), "always".to_string()), ("PATH".to_string(), "/usr/bin:/bin".to_string())]
            .into_iter()
            .collect(),
        cwd: Some(dir.path().to_path_buf()),
        docker_arch: Some("amd64".into()),
        sandbox_erb,
        ..Default::default()
    };
    // the text is loaded as the file would be
    let text = format!("{BASE}servers: [ 1.1.1.1 ]\nlabels:\n  x: <%= 1 + 2 %>\n");
    let c = Configuration::load_str(&text, "config/deploy.yml", options(true)).unwrap();
    assert_eq!(c.all_hosts(), ["1.1.1.1"]);
    // sandboxed: no command runs (backticks, system, sleep), no system Ruby despite WHARF_RUBY=always
    for erb in [
        format!("<%= `touch {}` %>", marker.display()),
        format!("<%= system(\"touch {}\") %>", marker.display()),
        "<%= sleep 60 %>".to_string(),
        "<%= \"abc\".unpack1(\"a*\") %>".to_string(),
        "<% loop do end %>".to_string(),
    ] {
        let text = format!("{BASE}servers: [ 1.1.1.1 ]\nlabels:\n  x: {erb}\n");
        let e = Configuration::load_str(&text, "config/deploy.yml", options(true)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Erb, "{erb}: {e}");
        assert!(e.to_string().contains("WHARF_RUBY=never keeps Wharf"), "{erb}: {e}");
    }
    assert!(!marker.exists());
    // ENV written by the template stays in the configuration's changes, not the process
    let text = format!("{BASE}servers: [ 1.1.1.1 ]\n<% ENV[\"WHARF_FUZZ_SET\"] = \"1\" %>\n");
    let c = Configuration::load_str(&text, "config/deploy.yml", options(true)).unwrap();
    assert_eq!(c.erb_env_changes(), [("WHARF_FUZZ_SET".to_string(), Some("1".to_string()))]);
    assert!(std::env::var_os("WHARF_FUZZ_SET").is_none());
}

#[test]
fn destination_merge() {
    let c = load_fixture("deploy_for_dest.yml", Some("world")).unwrap();
    assert_eq!(c.all_hosts()[0], "1.1.1.1");
    assert_eq!(c.destination(), Some("world"));
    assert_eq!(c.repository(), "registry.digitalocean.com/dhh/app");
    assert_eq!(c.absolute_image(), "registry.digitalocean.com/dhh/app:999");
    let c = load_fixture("deploy_for_dest.yml", Some("mars")).unwrap();
    assert_eq!(c.all_hosts()[0], "1.1.1.3");
    // hashes merge recursively, other values are replaced
    let c = load_text(
        &format!("{BASE}servers: [ 1.1.1.1, 1.1.1.2 ]\nenv:\n  clear:\n    A: a\n    B: b\nssh:\n  user: app\n"),
        Some(("staging", "servers: [ 2.2.2.2 ]\nenv:\n  clear:\n    B: bb\nssh:\n  port: 2222\n")),
        &[],
    )
    .unwrap();
    assert_eq!(c.all_hosts(), strs(&["2.2.2.2"]));
    assert_eq!(c.env().clear_value("A").unwrap(), "a");
    assert_eq!(c.env().clear_value("B").unwrap(), "bb");
    assert_eq!((c.ssh().user(), c.ssh().port()), ("app".to_string(), 2222));
    assert_eq!(c.service_and_destination(), "app-staging");
    assert_eq!(c.app_directory(), ".kamal/apps/app-staging");
}

#[test]
fn missing_files() {
    let e = load_fixture("deploy_for_dest.yml", Some("missing")).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("Configuration file not found in {}", fixture("deploy_for_dest.missing.yml").display())
    );
    assert_eq!(e.ruby_class(), "RuntimeError");
    let e = load_fixture("nope.yml", None).unwrap_err();
    assert_eq!(e.to_string(), format!("Configuration file not found in {}", fixture("nope.yml").display()));
}

#[test]
fn yaml_syntax_error() {
    let e = load_text(&format!("{BASE}servers:\n  - a\n b: c\n"), None, &[]).unwrap_err();
    assert_eq!(e.ruby_class(), "Psych::SyntaxError");
    assert!(e.to_string().starts_with("(<unknown>): "), "{e}");
}

#[test]
fn yaml_anchors_and_merge_keys() {
    let text = format!(
        "{BASE}x-hosts: &hosts\n  - 1.1.1.1\n  - 1.1.1.2\nx-web: &web\n  cmd: bin/web\n  options:\n    memory: 1g\nservers:\n  web:\n    <<: *web\n    hosts: *hosts\n  jobs:\n    <<: *web\n    cmd: bin/jobs\n    hosts: [ 1.1.1.3 ]\n"
    );
    let c = load_text(&text, None, &[]).unwrap();
    assert_eq!(c.role("web").unwrap().hosts(), strs(&["1.1.1.1", "1.1.1.2"]));
    assert_eq!(c.role("web").unwrap().cmd().unwrap(), "bin/web");
    assert_eq!(c.role("jobs").unwrap().cmd().unwrap(), "bin/jobs");
    assert_eq!(c.role("jobs").unwrap().option_args(), strs(&["--memory", "\"1g\""]));
}

#[test]
fn aliases() {
    let c = load_fixture("deploy_with_aliases.yml", None).unwrap();
    let names: Vec<&str> = c.aliases().iter().map(|a| a.name()).collect();
    assert_eq!(names, ["info", "console", "exec", "rails", "primary_details", "deploy_secondary"]);
    assert_eq!(c.alias("console").unwrap().command(), "app exec --reuse -p -r console \"bin/console\"");
    assert_eq!(c.alias("info").unwrap().command(), "details");
    assert!(c.alias("nope").is_none());
}

#[test]
fn every_kamal_fixture() {
    let invalid = [
        ("deploy_for_dest.yml", "No servers or accessories specified"),
        ("deploy_for_required_dest.yml", "You must specify a destination"),
        ("deploy_with_proxy_run_config_conflicts.yml", "Conflicting proxy run configurations for host 1.1.1.2"),
    ];
    let dir = std::fs::read_dir(fixture("")).unwrap();
    let mut names: Vec<String> =
        dir.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n.ends_with(".yml")).collect();
    names.sort();
    let mut checked = 0;
    let mut refused = vec![];
    for name in names {
        // destination files are merged over their base
        let parts: Vec<&str> = name.trim_end_matches(".yml").split('.').collect();
        let result = if parts.len() == 2 {
            load_fixture(&format!("{}.yml", parts[0]), Some(parts[1]))
        } else {
            load_fixture(&name, None)
        };
        let text = std::fs::read_to_string(fixture(&name)).unwrap();
        if text.contains("Kamal::Utils.docker_arch") {
            // Kamal's own tests compute the arch with `docker info`: whatever it answers, the
            // config is valid
            result.unwrap_or_else(|e| panic!("{name}: {e}"));
            checked += 1;
            continue;
        }
        match invalid.iter().find(|(n, _)| *n == name) {
            Some((_, message)) => {
                assert_eq!(result.unwrap_err().to_string(), *message, "{name}");
                refused.push(name.clone());
            }
            None => {
                result.unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
        checked += 1;
    }
    assert!(checked > 40);
    assert_eq!(refused, invalid.map(|(n, _)| n), "every invalid fixture was loaded");
}

#[test]
fn kamal_config_output() {
    let c = load_fixture("deploy_simple.yml", None).unwrap();
    assert_eq!(
        summary::config_yaml(&c).unwrap(),
        r#"---
:roles:
- web
:hosts:
- 1.1.1.1
- 1.1.1.2
:primary_host: 1.1.1.1
:version: '999'
:repository: dhh/app
:absolute_image: dhh/app:999
:service_with_version: app-999
:volume_args: []
:ssh_options:
  :user: root
  :port: 22
  :keepalive: true
  :keepalive_interval: 30
  :log_level: :fatal
:sshkit: {}
:builder:
  arch: amd64
:logging:
- "--log-opt"
- max-size="10m"
"#
    );
}

#[test]
fn kamal_config_output_with_roles_accessories_and_volumes() {
    let c = load_fixture("deploy_with_accessories.yml", None).unwrap();
    let out = summary::config_yaml(&c).unwrap();
    assert!(
        out.starts_with("---\n:roles:\n- web\n- workers\n:hosts:\n- 1.1.1.1\n- 1.1.1.2\n- 1.1.1.3\n- 1.1.1.4\n"),
        "{out}"
    );
    assert!(
        out.contains(":accessories:\n  mysql:\n    image: mysql:5.7\n    host: 1.1.1.3\n    port: 3306\n    env:\n      clear:\n        MYSQL_ROOT_HOST: \"%\"\n      secret:\n      - MYSQL_ROOT_PASSWORD\n    files:\n    - test/fixtures/files/my.cnf:/etc/mysql/my.cnf\n"),
        "{out}"
    );
    let text = format!("{BASE}servers: [ 1.1.1.1 ]\nvolumes: [ \"/local/path:/container/path\" ]\nssh:\n  user: app\n  proxy: 1.2.3.4\n");
    let c = load_text(&text, Some(("world", "ssh:\n  log_level: debug\n")), &[]).unwrap();
    let out = summary::config_yaml(&c).unwrap();
    assert!(
        out.contains(":volume_args:\n- \"--volume\"\n- \"/local/path:/container/path\"\n:ssh_options:\n  :user: app\n  :port: 22\n  :proxy: !ruby/object:Net::SSH::Proxy::Jump\n    jump_proxies: root@1.2.3.4\n  :keepalive: true\n  :keepalive_interval: 30\n  :log_level: debug\n"),
        "{out}"
    );
}

#[test]
fn version_from_env() {
    let mut opts = options(Arc::new(NoSecrets));
    opts.env = HashMap::from([("VERSION".to_string(), "env-version".to_string())]);
    let raw = yaml(&format!("{BASE}servers: [ 1.1.1.1 ]\n"));
    let c = Configuration::new(raw.clone(), &opts).unwrap();
    assert_eq!(c.version(), "env-version");
    opts.version = Some("arg-version".into());
    assert_eq!(Configuration::new(raw, &opts).unwrap().version(), "arg-version");
}
