//! Port of Kamal's test/commands/auditor_test.rb. Kamal freezes the time and reads the performer
//! from git; here both are the [`Stamp`] given to `record`.

use crate::common::*;
use serde_yaml::Value;
use wharf_commands::{Auditor, Details, Stamp};

const BASE: &str = r#"{"service": "app", "image": "dhh/app", "registry": {"username": "dhh", "password": "secret"}, "builder": {"arch": "amd64"}, "servers": ["1.1.1.1"]}"#;

fn base() -> Value {
    yaml(BASE)
}

fn stamp() -> Stamp {
    Stamp::new("2024-05-01T12:00:00Z", "dhh@example.com")
}

/// `new_command(destination:, **details)` (version 123).
fn new_command<R>(destination: Option<&str>, details: Details, f: impl FnOnce(&Auditor) -> R) -> R {
    let c = config(&base(), destination, Some("123"), &[]);
    f(&Auditor::new(&c, details))
}

#[test]
fn record() {
    // Kamal: test "record"
    let (recorded_at, performer) = (stamp().recorded_at, stamp().performer);
    assert_eq!(
        new_command(None, Details::new(), |a| words(&a.record("app removed container", &stamp(), &Details::new()))),
        strs(&[
            "mkdir",
            "-p",
            ".kamal",
            "&&",
            "echo",
            &format!("\"[{recorded_at}] [{performer}] app removed container\""),
            ">>",
            ".kamal/app-audit.log"
        ])
    );
}

#[test]
fn record_with_destination() {
    // Kamal: test "record with destination"
    let (recorded_at, performer) = (stamp().recorded_at, stamp().performer);
    assert_eq!(
        new_command(Some("staging"), Details::new(), |a| words(&a.record(
            "app removed container",
            &stamp(),
            &Details::new()
        ))),
        strs(&[
            "mkdir",
            "-p",
            ".kamal",
            "&&",
            "echo",
            &format!("\"[{recorded_at}] [{performer}] [staging] app removed container\""),
            ">>",
            ".kamal/app-staging-audit.log"
        ])
    );
}

#[test]
fn record_with_command_details() {
    // Kamal: test "record with command details"
    let (recorded_at, performer) = (stamp().recorded_at, stamp().performer);
    assert_eq!(
        new_command(None, Details::new().with("role", "web"), |a| words(&a.record(
            "app removed container",
            &stamp(),
            &Details::new()
        ))),
        strs(&[
            "mkdir",
            "-p",
            ".kamal",
            "&&",
            "echo",
            &format!("\"[{recorded_at}] [{performer}] [web] app removed container\""),
            ">>",
            ".kamal/app-audit.log"
        ])
    );
}

#[test]
fn record_with_arg_details() {
    // Kamal: test "record with arg details"
    let (recorded_at, performer) = (stamp().recorded_at, stamp().performer);
    assert_eq!(
        new_command(None, Details::new(), |a| words(&a.record(
            "app removed container",
            &stamp(),
            &Details::new().with("detail", "value")
        ))),
        strs(&[
            "mkdir",
            "-p",
            ".kamal",
            "&&",
            "echo",
            &format!("\"[{recorded_at}] [{performer}] [value] app removed container\""),
            ">>",
            ".kamal/app-audit.log"
        ])
    );
}
