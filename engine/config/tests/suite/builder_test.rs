//! Port of Kamal's test/configuration/builder_test.rb.

use crate::common::*;
use serde_yaml::Value;

fn deploy() -> Value {
    yaml("service: app\nimage: dhh/app\nregistry: { username: dhh, password: secret }\nbuilder: { arch: amd64 }\nservers: [ 1.1.1.1 ]\n")
}

fn with_builder(b: &str) -> wharf_config::Configuration {
    config(&merge(&deploy(), &format!("builder: {b}")))
}

#[test]
fn defaults() {
    let c = config(&deploy());
    let b = c.builder();
    assert!(b.is_local());
    assert!(!b.is_remote());
    assert!(!b.is_pack());
    assert!(!b.is_cloud());
    assert_eq!(b.remote(), None);
    assert!(!b.is_cached());
    assert_eq!(b.cache_from(), None);
    assert_eq!(b.cache_to(), None);
    assert!(b.args().is_empty());
    assert!(b.secrets().unwrap().is_empty());
    assert_eq!(b.dockerfile(), "Dockerfile");
    assert_eq!(b.context(), ".");
    assert_eq!(b.ssh(), None);
    assert_eq!(b.provenance(), None);
    assert_eq!(b.sbom(), None);
    assert_eq!(b.driver(), "docker-container");
    assert_eq!(b.target(), None);
    assert!(b.git_clone(true));
    assert!(!b.git_clone(false));
}

#[test]
fn pack() {
    assert!(with_builder("{ arch: arm64, pack: { builder: 'heroku/builder:24' } }").builder().is_pack());
    let c = with_builder(
        "{ arch: amd64, pack: { builder: 'heroku/builder:24', buildpacks: [ heroku/ruby, heroku/procfile ] } }",
    );
    assert_eq!(c.builder().pack_builder().unwrap(), "heroku/builder:24");
    assert_eq!(c.builder().pack_buildpacks().unwrap(), strs(&["heroku/ruby", "heroku/procfile"]));
}

#[test]
fn local_and_remote() {
    let c = with_builder("{ arch: [ amd64, arm64 ], remote: 'ssh://root@192.168.0.1' }");
    assert!(c.builder().is_local());
    assert!(c.builder().is_remote());
    assert_eq!(c.builder().arches(), strs(&["amd64", "arm64"]));
    assert_eq!(c.builder().local_arches(), strs(&["amd64"]));
    assert_eq!(c.builder().remote_arches(), strs(&["arm64"]));
    assert_eq!(c.builder().remote().unwrap(), "ssh://root@192.168.0.1");

    let c = with_builder("{ arch: [ amd64, arm64 ], remote: 'ssh://root@192.168.0.1', local: false }");
    assert!(c.builder().local_arches().is_empty());
    assert_eq!(c.builder().remote_arches(), strs(&["amd64", "arm64"]));
    assert!(!c.builder().is_local());
}

#[test]
fn caches() {
    let c = with_builder("{ arch: amd64, cache: { type: gha, options: 'mode=max,scope=test' } }");
    assert_eq!(c.builder().cache_from().unwrap(), "type=gha,scope=test");
    assert_eq!(c.builder().cache_to().unwrap(), "type=gha,mode=max,scope=test");
    let c = with_builder(
        "{ arch: amd64, cache: { type: registry, options: 'mode=max,image-manifest=true,oci-mediatypes=true' } }",
    );
    assert_eq!(c.builder().cache_from().unwrap(), "type=registry,ref=dhh/app-build-cache");
    assert_eq!(
        c.builder().cache_to().unwrap(),
        "type=registry,ref=dhh/app-build-cache,mode=max,image-manifest=true,oci-mediatypes=true"
    );
    let c = config(&merge(
        &set(&deploy(), "registry/server", "registry.example.com"),
        "builder: { arch: amd64, cache: { type: registry, options: 'mode=max,image-manifest=true,oci-mediatypes=true' } }",
    ));
    assert_eq!(c.builder().cache_from().unwrap(), "type=registry,ref=registry.example.com/dhh/app-build-cache");
    assert_eq!(
        c.builder().cache_to().unwrap(),
        "type=registry,ref=registry.example.com/dhh/app-build-cache,mode=max,image-manifest=true,oci-mediatypes=true"
    );
    let c = with_builder("{ arch: amd64, cache: { type: registry, image: kamal, options: 'mode=max' } }");
    assert_eq!(c.builder().cache_from().unwrap(), "type=registry,ref=kamal");
    assert_eq!(c.builder().cache_to().unwrap(), "type=registry,ref=kamal,mode=max");
    assert_eq!(
        error(&merge(&deploy(), "builder: { arch: amd64, cache: { type: invalid } }")),
        "builder: Invalid cache type: invalid"
    );
}

#[test]
fn settings() {
    let c = with_builder("{ arch: amd64, args: { key: value }, dockerfile: Dockerfile.dev, context: '..', ssh: 'default=$SSH_AUTH_SOCK', provenance: mode=max, sbom: true, target: production, driver: 'cloud org/builder' }");
    let b = c.builder();
    assert_eq!(b.args().get("key").unwrap().as_str().unwrap(), "value");
    assert_eq!(b.dockerfile(), "Dockerfile.dev");
    assert_eq!(b.context(), "..");
    assert!(!b.git_clone(true));
    assert_eq!(b.ssh().unwrap(), "default=$SSH_AUTH_SOCK");
    assert_eq!(b.provenance().unwrap(), Value::String("mode=max".into()));
    assert_eq!(b.sbom().unwrap(), Value::Bool(true));
    assert_eq!(b.target().unwrap(), "production");
    assert!(b.is_cloud());
}

#[test]
fn secrets() {
    let c = config_with_secrets(
        &merge(&deploy(), "builder: { arch: amd64, secrets: [ GITHUB_TOKEN ] }"),
        &[("GITHUB_TOKEN", "secret123")],
    );
    assert_eq!(c.builder().secrets().unwrap(), vec![("GITHUB_TOKEN".to_string(), "secret123".to_string())]);
}

#[test]
fn local_disabled_without_remote() {
    assert_eq!(
        error(&set(&deploy(), "builder/local", "false")),
        "builder: Cannot disable local builds, no remote is set"
    );
}
