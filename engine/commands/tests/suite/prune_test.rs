//! Port of Kamal's test/commands/prune_test.rb.
#![allow(unused_variables)]

use crate::common::*;
use serde_yaml::Value;
use wharf_commands::Prune;

const BASE: &str = r#"{"service":"app","image":"dhh/app","registry":{"username":"dhh","password":"secret"},"servers":["1.1.1.1"],"builder":{"arch":"amd64"}}"#;

fn base() -> Value {
    yaml(BASE)
}

fn new_command<R>(raw: &Value, f: impl FnOnce(&Prune) -> R) -> R {
    let c = config(raw, None, Some("123"), &[]);
    f(&Prune::new(&c))
}

#[test]
fn dangling_images() {
    // Kamal: test "dangling images"
    let raw = base();
    let e1 = r#"docker image prune --force --filter label=service=app"#;
    assert_eq!(new_command(&raw, |p| p.dangling_images().to_string()), e1);
}

#[test]
fn tagged_images() {
    // Kamal: test "tagged images"
    let raw = base();
    let e1 = r#"docker image ls --filter label=service=app --format '{{.ID}} {{.Repository}}:{{.Tag}}' | grep -v -w "$(docker container ls -a --format '{{.Image}}\|' --filter label=service=app | tr -d '\n')dhh/app:latest\|dhh/app:<none>" | while read image tag; do docker rmi $tag; done"#;
    assert_eq!(new_command(&raw, |p| p.tagged_images().to_string()), e1);
}

#[test]
fn app_containers() {
    // Kamal: test "app containers"
    let raw = base();
    let e1 = r#"docker ps -q -a --filter label=service=app --filter status=created --filter status=exited --filter status=dead | tail -n +6 | while read container_id; do docker rm $container_id; done"#;
    let e2 = r#"docker ps -q -a --filter label=service=app --filter status=created --filter status=exited --filter status=dead | tail -n +4 | while read container_id; do docker rm $container_id; done"#;
    assert_eq!(new_command(&raw, |p| p.app_containers(5).to_string()), e1);
    assert_eq!(new_command(&raw, |p| p.app_containers(3).to_string()), e2);
}
