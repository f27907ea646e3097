//! Port of Kamal's test/commands/server_test.rb.
#![allow(unused_variables)]

use crate::common::*;
use serde_yaml::Value;
use wharf_commands::Server;

const BASE: &str = r#"{"service":"app","image":"dhh/app","registry":{"username":"dhh","password":"secret"},"servers":["1.1.1.1"],"builder":{"arch":"amd64"}}"#;

fn base() -> Value {
    yaml(BASE)
}

fn new_command<R>(raw: &Value, f: impl FnOnce(&Server) -> R) -> R {
    let c = config(raw, None, None, &[]);
    f(&Server::new(&c))
}

#[test]
fn ensure_run_directory() {
    // Kamal: test "ensure run directory"
    let raw = base();
    let e1 = r#"mkdir -p .kamal"#;
    assert_eq!(new_command(&raw, |s| s.ensure_run_directory().to_string()), e1);
}
