//! Port of Kamal's test/commands/lock_test.rb. The lock holder (`git config user.name`) and the
//! time are parameters of `acquire`.

use crate::common::*;
use serde_yaml::Value;
use wharf_commands::cmd::decode64;
use wharf_commands::Lock;

const BASE: &str = r#"{"service": "app", "image": "dhh/app", "registry": {"username": "dhh", "password": "secret"}, "servers": ["1.1.1.1"], "builder": {"arch": "amd64"}}"#;

fn base() -> Value {
    yaml(BASE)
}

/// `new_command` (version 123, destination production).
fn new_command<R>(f: impl FnOnce(&Lock) -> R) -> R {
    let c = config(&base(), Some("production"), Some("123"), &[]);
    f(&Lock::new(&c))
}

#[test]
fn status() {
    // Kamal: test "status"
    assert_eq!(
        new_command(|l| l.status().to_string()),
        "stat .kamal/lock-app-production > /dev/null && cat .kamal/lock-app-production/details | base64 -d"
    );
}

#[test]
fn acquire() {
    // Kamal: test "acquire"
    assert_match(
        r#"(?s)mkdir \.kamal/lock-app-production && echo ".*" > \.kamal/lock-app-production/details"#,
        &new_command(|l| l.acquire("Hello", "123", "DHH", "2024-05-01T12:00:00Z").to_string()),
    );
}

#[test]
fn acquire_encodes_non_ascii_lock_details_for_shell() {
    // Kamal: test "acquire encodes non-ASCII lock details for shell"
    let command = new_command(|l| l.acquire("Hello", "123", "Сергей Федоров", "2024-05-01T12:00:00Z").to_string());
    let re = regex::Regex::new(r#"(?s)echo "(.*)" > \.kamal/lock-app-production/details"#).unwrap();
    let encoded_details = re.captures(&command).unwrap().get(1).unwrap().as_str().to_string();

    assert!(command.is_ascii());
    assert!(String::from_utf8(decode64(&encoded_details)).unwrap().contains("Locked by: Сергей Федоров"));
}

#[test]
fn release() {
    // Kamal: test "release" (assert_match with a string: a substring match)
    assert!(new_command(|l| l.release().to_string())
        .contains("rm .kamal/lock-app-production/details && rm -r .kamal/lock-app-production"));
}
