//! Port of Kamal's test/commands/hook_test.rb. Kamal freezes the time and reads the performer
//! from git; here both are the [`Stamp`] given to `env`.

use crate::common::*;
use serde_yaml::Value;
use std::collections::HashMap;
use wharf_commands::{Details, Hook, Stamp};

const BASE: &str = r#"{"service": "app", "image": "dhh/app", "registry": {"username": "dhh", "password": "secret"}, "servers": ["1.1.1.1"], "builder": {"arch": "amd64"}}"#;

fn base() -> Value {
    yaml(BASE)
}

fn stamp() -> Stamp {
    Stamp::new("2024-05-01T12:00:00Z", "dhh@example.com")
}

/// `new_command(**extra_config)` (version 123).
fn new_command<R>(extra_config: &str, f: impl FnOnce(&Hook) -> R) -> R {
    let c = config(&merge(&base(), extra_config), None, Some("123"), &[]);
    f(&Hook::new(&c))
}

fn map(pairs: Vec<(String, String)>) -> HashMap<String, String> {
    pairs.into_iter().collect()
}

fn expected(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn run() {
    // Kamal: test "run"
    assert_eq!(new_command("{}", |h| words(&h.run("foo"))), strs(&[".kamal/hooks/foo"]));
}

#[test]
fn env() {
    // Kamal: test "env"
    let (recorded_at, performer) = (stamp().recorded_at, stamp().performer);
    assert_eq!(
        new_command("{}", |h| map(h.env(&stamp(), None, &Details::new()))),
        expected(&[
            ("KAMAL_RECORDED_AT", &recorded_at),
            ("KAMAL_PERFORMER", &performer),
            ("KAMAL_VERSION", "123"),
            ("KAMAL_SERVICE_VERSION", "app@123"),
            ("KAMAL_SERVICE", "app"),
        ])
    );
}

#[test]
fn run_with_custom_hooks_path() {
    // Kamal: test "run with custom hooks_path"
    assert_eq!(
        new_command(r#"{"hooks_path": "custom/hooks/path"}"#, |h| words(&h.run("foo"))),
        strs(&["custom/hooks/path/foo"])
    );
}

#[test]
fn env_with_secrets() {
    // Kamal: test "env with secrets" (with_test_secrets("secrets" => "DB_PASSWORD=secret"); the
    // caller passes `config.secrets.to_h`)
    let (recorded_at, performer) = (stamp().recorded_at, stamp().performer);
    let secrets = vec![("DB_PASSWORD".to_string(), "secret".to_string())];
    assert_eq!(
        new_command("{}", |h| map(h.env(&stamp(), Some(&secrets), &Details::new()))),
        expected(&[
            ("KAMAL_RECORDED_AT", &recorded_at),
            ("KAMAL_PERFORMER", &performer),
            ("KAMAL_VERSION", "123"),
            ("KAMAL_SERVICE_VERSION", "app@123"),
            ("KAMAL_SERVICE", "app"),
            ("DB_PASSWORD", "secret"),
        ])
    );
}

#[test]
fn env_with_run_hook_details() {
    // What Kamal::Cli::Base#run_hook passes: hosts, roles, lock, command, subcommand, then the
    // hook's own details, in that order.
    let details = Hook::run_details(&strs(&["1.1.1.1", "1.1.1.2"]), None, true, "app", Some("boot"))
        .merge(&Details::new().with("runtime", "5"));
    assert_eq!(
        new_command("{}", |h| h.env(&stamp(), None, &details)),
        vec![
            ("KAMAL_RECORDED_AT".to_string(), stamp().recorded_at),
            ("KAMAL_PERFORMER".to_string(), stamp().performer),
            ("KAMAL_VERSION".to_string(), "123".to_string()),
            ("KAMAL_SERVICE_VERSION".to_string(), "app@123".to_string()),
            ("KAMAL_SERVICE".to_string(), "app".to_string()),
            ("KAMAL_HOSTS".to_string(), "1.1.1.1,1.1.1.2".to_string()),
            ("KAMAL_LOCK".to_string(), "true".to_string()),
            ("KAMAL_COMMAND".to_string(), "app".to_string()),
            ("KAMAL_SUBCOMMAND".to_string(), "boot".to_string()),
            ("KAMAL_RUNTIME".to_string(), "5".to_string()),
        ]
    );
}
