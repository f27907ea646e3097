//! Port of Kamal's test/commands/builder_test.rb. The local docker is `amd64` (Kamal asks
//! `docker info`; here it is `LoadOptions::docker_arch`), so `local_arch` is amd64 and
//! `remote_arch` arm64.
#![allow(unused_variables)]

use crate::common::*;
use serde_yaml::Value;
use wharf_commands::{Builder, Error, GitClone};

const BASE: &str = r#"{"service":"app","image":"dhh/app","registry":{"username":"dhh","password":"secret"},"servers":["1.1.1.1"],"builder":{"arch":"amd64"}}"#;

fn base() -> Value {
    yaml(BASE)
}

/// `new_builder_command(additional_config)`: `@config.deep_merge(additional_config)`, version 123.
fn new_builder_command<R>(raw: &Value, additional: &str, secrets: &[(&str, &str)], f: impl FnOnce(&Builder) -> R) -> R {
    let c = config(&deep_merge(raw, additional), None, Some("123"), secrets);
    f(&Builder::new(&c))
}

fn push(b: &Builder) -> String {
    b.push("registry", false, false).unwrap().to_string()
}

fn build_options(b: &Builder) -> String {
    wharf_commands::Cmd::from_words(b.build_options().unwrap()).to_string()
}

#[test]
fn target_linux_amd64_locally_by_default() {
    // Kamal: test "target linux/amd64 locally by default"
    let raw = base();
    let e1 = r#"docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1"#;
    assert_eq!(new_builder_command(&raw, r#"{"builder": {"cache": {"type": "gha"}}}"#, &[], |b| b.name()), "local");
    assert_eq!(new_builder_command(&raw, r#"{"builder": {"cache": {"type": "gha"}}}"#, &[], push), e1);
}

#[test]
fn target_specified_arch_locally_by_default() {
    // Kamal: test "target specified arch locally by default"
    let raw = base();
    let e1 = r#"docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1"#;
    assert_eq!(new_builder_command(&raw, r#"{"builder": {"arch": ["amd64"]}}"#, &[], |b| b.name()), "local");
    assert_eq!(new_builder_command(&raw, r#"{"builder": {"arch": ["amd64"]}}"#, &[], push), e1);
}

#[test]
fn build_with_caching() {
    // Kamal: test "build with caching"
    let raw = base();
    let e1 = r#"docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1"#;
    assert_eq!(new_builder_command(&raw, r#"{"builder": {"cache": {"type": "gha"}}}"#, &[], |b| b.name()), "local");
    assert_eq!(new_builder_command(&raw, r#"{"builder": {"cache": {"type": "gha"}}}"#, &[], push), e1);
}

#[test]
fn hybrid_build_if_remote_is_set_and_building_multiarch() {
    // Kamal: test "hybrid build if remote is set and building multiarch"
    let raw = base();
    let e2 = r#"docker buildx build --output=type=registry --platform linux/amd64,linux/arm64 --builder kamal-hybrid-docker-container-ssh---app-127-0-0-1 -t dhh/app:123 -t dhh/app:latest --cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1"#;
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"builder": {"arch": ["amd64", "arm64"], "remote": "ssh://app@127.0.0.1", "cache": {"type": "gha"}}}"#,
            &[],
            |b| b.name()
        ),
        "hybrid"
    );
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"builder": {"arch": ["amd64", "arm64"], "remote": "ssh://app@127.0.0.1", "cache": {"type": "gha"}}}"#,
            &[],
            push
        ),
        e2
    );
}

#[test]
fn remote_build_if_remote_is_set_and_local_disabled() {
    // Kamal: test "remote build if remote is set and local disabled"
    let raw = base();
    let e2 = r#"docker buildx build --output=type=registry --platform linux/amd64,linux/arm64 --builder kamal-remote-ssh---app-127-0-0-1 -t dhh/app:123 -t dhh/app:latest --cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1"#;
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"builder": {"arch": ["amd64", "arm64"], "remote": "ssh://app@127.0.0.1", "cache": {"type": "gha"}, "local": false}}"#,
            &[],
            |b| b.name()
        ),
        "remote"
    );
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"builder": {"arch": ["amd64", "arm64"], "remote": "ssh://app@127.0.0.1", "cache": {"type": "gha"}, "local": false}}"#,
            &[],
            push
        ),
        e2
    );
}

#[test]
fn target_remote_when_remote_set_and_arch_is_non_local() {
    // Kamal: test "target remote when remote set and arch is non local"
    let raw = base();
    let e2 = r#"docker buildx build --output=type=registry --platform linux/arm64 --builder kamal-remote-ssh---app-host -t dhh/app:123 -t dhh/app:latest --cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1"#;
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"builder": {"arch": ["arm64"], "remote": "ssh://app@host", "cache": {"type": "gha"}}}"#,
            &[],
            |b| b.name()
        ),
        "remote"
    );
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"builder": {"arch": ["arm64"], "remote": "ssh://app@host", "cache": {"type": "gha"}}}"#,
            &[],
            push
        ),
        e2
    );
}

#[test]
fn target_local_when_remote_set_and_arch_is_local() {
    // Kamal: test "target local when remote set and arch is local"
    let raw = base();
    let e2 = r#"docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1"#;
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"builder": {"arch": ["amd64"], "remote": "ssh://app@host", "cache": {"type": "gha"}}}"#,
            &[],
            |b| b.name()
        ),
        "local"
    );
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"builder": {"arch": ["amd64"], "remote": "ssh://app@host", "cache": {"type": "gha"}}}"#,
            &[],
            push
        ),
        e2
    );
}

#[test]
fn target_pack_when_pack_is_set() {
    // Kamal: test "target pack when pack is set"
    let raw = base();
    let e3 = r#"pack build dhh/app --platform linux/amd64 --creation-time now --builder heroku/builder:24 --buildpack heroku/ruby --buildpack heroku/procfile --buildpack paketo-buildpacks/image-labels -t dhh/app:123 -t dhh/app:latest --env BP_IMAGE_LABELS=service=app --path . && docker push dhh/app:123 && docker push dhh/app:latest"#;
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"image": "dhh/app", "builder": {"arch": "amd64", "pack": {"builder": "heroku/builder:24", "buildpacks": ["heroku/ruby", "heroku/procfile"]}}}"#,
            &[],
            |b| b.name()
        ),
        "pack"
    );
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"image": "dhh/app", "builder": {"arch": "amd64", "pack": {"builder": "heroku/builder:24", "buildpacks": ["heroku/ruby", "heroku/procfile"]}}}"#,
            &[],
            push
        ),
        e3
    );
}

#[test]
fn pack_build_args_passed_as_env() {
    // Kamal: test "pack build args passed as env"
    let raw = base();
    let e3 = r#"pack build dhh/app --platform linux/amd64 --creation-time now --builder heroku/builder:24 --buildpack heroku/ruby --buildpack heroku/procfile --buildpack paketo-buildpacks/image-labels -t dhh/app:123 -t dhh/app:latest --env BP_IMAGE_LABELS=service=app --env a="1" --env b="2" --path . && docker push dhh/app:123 && docker push dhh/app:latest"#;
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"image": "dhh/app", "builder": {"args": {"a": 1, "b": 2}, "arch": "amd64", "pack": {"builder": "heroku/builder:24", "buildpacks": ["heroku/ruby", "heroku/procfile"]}}}"#,
            &[],
            push
        ),
        e3
    );
}

#[test]
fn pack_build_with_no_cache() {
    // Kamal: test "pack build with no cache"
    let raw = base();
    let e3 = r#"pack build dhh/app --platform linux/amd64 --creation-time now --builder heroku/builder:24 --buildpack heroku/ruby --buildpack heroku/procfile --buildpack paketo-buildpacks/image-labels -t dhh/app:123 -t dhh/app:latest --clear-cache --env BP_IMAGE_LABELS=service=app --env a="1" --env b="2" --path . && docker push dhh/app:123 && docker push dhh/app:latest"#;
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"image": "dhh/app", "builder": {"args": {"a": 1, "b": 2}, "arch": "amd64", "pack": {"builder": "heroku/builder:24", "buildpacks": ["heroku/ruby", "heroku/procfile"]}}}"#,
            &[],
            |b| b.push("registry", false, true).unwrap().to_string()
        ),
        e3
    );
}

#[test]
fn pack_build_secrets_as_env() {
    // Kamal: test "pack build secrets as env"
    let raw = base();
    let e4 = r#"pack build dhh/app --platform linux/amd64 --creation-time now --builder heroku/builder:24 --buildpack heroku/ruby --buildpack heroku/procfile --buildpack paketo-buildpacks/image-labels -t dhh/app:123 -t dhh/app:latest --env BP_IMAGE_LABELS=service=app --env token_a="foo" --env token_b="bar" --path . && docker push dhh/app:123 && docker push dhh/app:latest"#;
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"image": "dhh/app", "builder": {"secrets": ["token_a", "token_b"], "arch": "amd64", "pack": {"builder": "heroku/builder:24", "buildpacks": ["heroku/ruby", "heroku/procfile"]}}}"#,
            &[("token_a", "foo"), ("token_b", "bar")],
            push
        ),
        e4
    );
}

#[test]
fn cloud_builder() {
    // Kamal: test "cloud builder"
    let raw = base();
    let e3 = r#"docker buildx build --output=type=registry --platform linux/amd64 --builder cloud-docker-org-name-builder-name -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1"#;
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"builder": {"arch": ["amd64"], "driver": "cloud docker-org-name/builder-name"}}"#,
            &[],
            |b| b.name()
        ),
        "cloud"
    );
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"builder": {"arch": ["amd64"], "driver": "cloud docker-org-name/builder-name"}}"#,
            &[],
            push
        ),
        e3
    );
}

#[test]
fn build_args() {
    // Kamal: test "build args"
    let raw = base();
    let e1 = r#"--label service="app" --build-arg a="1" --build-arg b="2" --file Dockerfile"#;
    assert_eq!(new_builder_command(&raw, r#"{"builder": {"args": {"a": 1, "b": 2}}}"#, &[], build_options), e1);
}

#[test]
fn build_secrets() {
    // Kamal: test "build secrets"
    let raw = base();
    let e2 = r#"--label service="app" --secret id="token_a" --secret id="token_b" --file Dockerfile"#;
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"builder": {"secrets": ["token_a", "token_b"]}}"#,
            &[("token_a", "foo"), ("token_b", "bar")],
            build_options
        ),
        e2
    );
}

#[test]
fn build_dockerfile() {
    // Kamal: test "build dockerfile"
    let raw = base();
    let e1 = r#"--label service="app" --file Dockerfile.xyz"#;
    // Pathname#exist? stubbed to true: the Dockerfile is present.
    assert_eq!(
        new_builder_command(&raw, r#"{"builder": {"dockerfile": "Dockerfile.xyz"}}"#, &[], |b| {
            wharf_commands::Cmd::from_words(b.clone().with_dockerfile_present(true).build_options().unwrap())
                .to_string()
        }),
        e1
    );
}

#[test]
fn missing_dockerfile() {
    // Kamal: test "missing dockerfile"
    let raw = base();
    // Pathname#exist? stubbed to false: BuilderError.
    let err = new_builder_command(&raw, r#"{"builder": {"dockerfile": "Dockerfile.xyz"}}"#, &[], |b| {
        b.clone().with_dockerfile_present(false).build_options().unwrap_err()
    });
    assert!(matches!(&err, Error::Builder(m) if m == "Missing Dockerfile.xyz"), "{err}");
}

#[test]
fn build_target() {
    // Kamal: test "build target"
    let raw = base();
    let e1 = r#"--label service="app" --file Dockerfile --target prod"#;
    assert_eq!(new_builder_command(&raw, r#"{"builder": {"target": "prod"}}"#, &[], build_options), e1);
}

#[test]
fn build_context() {
    // Kamal: test "build context"
    let raw = base();
    let e1 = r#"docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile .. 2>&1"#;
    assert_eq!(new_builder_command(&raw, r#"{"builder": {"context": ".."}}"#, &[], push), e1);
}

#[test]
fn push_with_build_args() {
    // Kamal: test "push with build args"
    let raw = base();
    let e1 = r#"docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --build-arg a="1" --build-arg b="2" --file Dockerfile . 2>&1"#;
    assert_eq!(new_builder_command(&raw, r#"{"builder": {"args": {"a": 1, "b": 2}}}"#, &[], push), e1);
}

#[test]
fn push_with_build_secrets() {
    // Kamal: test "push with build secrets"
    let raw = base();
    let e1 = r#"docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --secret id="a" --secret id="b" --file Dockerfile . 2>&1"#;
    assert_eq!(
        new_builder_command(&raw, r#"{"builder": {"secrets": ["a", "b"]}}"#, &[("a", "foo"), ("b", "bar")], push),
        e1
    );
}

#[test]
fn build_with_ssh_agent_socket() {
    // Kamal: test "build with ssh agent socket"
    let raw = base();
    let e2 = r#"--label service="app" --file Dockerfile --ssh default=$SSH_AUTH_SOCK"#;
    assert_eq!(new_builder_command(&raw, r#"{"builder": {"ssh": "default=$SSH_AUTH_SOCK"}}"#, &[], build_options), e2);
}

#[test]
fn validate_image() {
    // Kamal: test "validate image"
    let raw = base();
    let e1 = r#"docker inspect -f '{{ .Config.Labels.service }}' dhh/app:123 | grep -x app || (echo "Image dhh/app:123 is missing the 'service' label" && exit 1)"#;
    assert_eq!(new_builder_command(&raw, r#"{}"#, &[], |b| b.validate_image().to_string()), e1);
}

#[test]
fn context_build() {
    // Kamal: test "context build"
    let raw = base();
    let e1 = r#"docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile ./foo 2>&1"#;
    assert_eq!(new_builder_command(&raw, r#"{"builder": {"context": "./foo"}}"#, &[], push), e1);
}

#[test]
fn push_with_provenance() {
    // Kamal: test "push with provenance"
    let raw = base();
    let e1 = r#"docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile --provenance mode=max . 2>&1"#;
    assert_eq!(new_builder_command(&raw, r#"{"builder": {"provenance": "mode=max"}}"#, &[], push), e1);
}

#[test]
fn push_with_provenance_false() {
    // Kamal: test "push with provenance false"
    let raw = base();
    let e1 = r#"docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile --provenance false . 2>&1"#;
    assert_eq!(new_builder_command(&raw, r#"{"builder": {"provenance": false}}"#, &[], push), e1);
}

#[test]
fn push_with_sbom() {
    // Kamal: test "push with sbom"
    let raw = base();
    let e1 = r#"docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile --sbom true . 2>&1"#;
    assert_eq!(new_builder_command(&raw, r#"{"builder": {"sbom": true}}"#, &[], push), e1);
}

#[test]
fn push_with_sbom_false() {
    // Kamal: test "push with sbom false"
    let raw = base();
    let e1 = r#"docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile --sbom false . 2>&1"#;
    assert_eq!(new_builder_command(&raw, r#"{"builder": {"sbom": false}}"#, &[], push), e1);
}

#[test]
fn mirror_count() {
    // Kamal: test "mirror count"
    let raw = base();
    let e1 = r#"docker info --format '{{index .RegistryConfig.Mirrors 0}}'"#;
    assert_eq!(new_builder_command(&raw, r#"{}"#, &[], |b| b.first_mirror().to_string()), e1);
}

#[test]
fn push_with_no_cache() {
    // Kamal: test "push with no cache"
    let raw = base();
    let e1 = r#"docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile --no-cache . 2>&1"#;
    assert_eq!(new_builder_command(&raw, r#"{}"#, &[], |b| b.push("registry", false, true).unwrap().to_string()), e1);
}

#[test]
fn clone_path_with_spaces() {
    // Kamal: test "clone path with spaces"
    let raw = base();
    let e1 = r#"/absolute/path with spaces"#;
    let r2 = r#"path\\ with\\ space"#;
    let r3 = r#"path with spaces"#;
    let r4 = r#"path\\ with\\ space"#;
    let r5 = r#"path with spaces"#;
    // Kamal::Git.root stubbed to "/absolute/path with spaces".
    let c = config(&raw, None, Some("123"), &[]);
    let command = Builder::new(&c);
    let git = GitClone::new(&c, e1, "0123abc", "/tmp", "/home/dev/project");
    let clone_command = command.clone_repo(&git).to_string();
    let clone_reset_commands: Vec<String> = command.clone_reset_steps(&git).iter().map(|a| a.to_string()).collect();
    assert_match(r2, &clone_command);
    assert_no_match(r3, &clone_command);
    assert!(!clone_reset_commands.is_empty());
    for command in &clone_reset_commands {
        assert_match(r4, command);
        assert_no_match(r5, command);
    }
}

#[test]
fn clone_reset_runs_git_gc_auto_to_bound_pack_growth() {
    // Kamal: test "clone reset runs git gc --auto to bound pack growth"
    let raw = base();
    let e1 = r#" gc --auto --quiet"#;
    let c = config(&raw, None, Some("123"), &[]);
    let command = Builder::new(&c);
    let git = GitClone::new(&c, "/home/dev/project", "0123abc", "/tmp", "/home/dev/project");
    let clone_reset_commands: Vec<String> = command.clone_reset_steps(&git).iter().map(|a| a.to_string()).collect();
    assert!(
        clone_reset_commands.iter().any(|c| c.ends_with(e1)),
        "expected clone_reset_steps to run git gc --auto, got: {clone_reset_commands:?}"
    );
}

#[test]
fn local_builder_with_local_registry_includes_network_host_driver_option() {
    // Kamal: test "local builder with local registry includes network host driver option"
    let raw = base();
    let e1 = r#"docker buildx create --name kamal-local-registry-docker-container --driver=docker-container --driver-opt network=host"#;
    assert_eq!(new_builder_command(&raw, r#"{"registry": {"server": "localhost:5000"}}"#, &[], |b| b.name()), "local");
    assert_eq!(
        new_builder_command(&raw, r#"{"registry": {"server": "localhost:5000"}}"#, &[], |b| b
            .create()
            .unwrap()
            .to_string()),
        e1
    );
}

#[test]
fn remote_builder_with_local_registry() {
    // Kamal: test "remote builder with local registry"
    let raw = base();
    let e2 = r#"docker context create kamal-remote-ssh---app-1-1-1-5-local-registry-context --description 'kamal-remote-ssh---app-1-1-1-5-local-registry host' --docker 'host=ssh://app@1.1.1.5' ; docker buildx create --name kamal-remote-ssh---app-1-1-1-5-local-registry --driver-opt network=host kamal-remote-ssh---app-1-1-1-5-local-registry-context"#;
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"registry": {"server": "localhost:5000"}, "builder": {"arch": "arm64", "remote": "ssh://app@1.1.1.5"}}"#,
            &[],
            |b| b.name()
        ),
        "remote"
    );
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"registry": {"server": "localhost:5000"}, "builder": {"arch": "arm64", "remote": "ssh://app@1.1.1.5"}}"#,
            &[],
            |b| b.create().unwrap().to_string()
        ),
        e2
    );
}

#[test]
fn hybrid_builder_with_local_registry() {
    // Kamal: test "hybrid builder with local registry"
    let raw = base();
    let e2 = r#"docker buildx create --platform linux/amd64 --name kamal-hybrid-docker-container-ssh---app-1-1-1-5-local-registry --driver=docker-container --driver-opt network=host && docker context create kamal-hybrid-docker-container-ssh---app-1-1-1-5-local-registry-context --description 'kamal-hybrid-docker-container-ssh---app-1-1-1-5-local-registry host' --docker 'host=ssh://app@1.1.1.5' && docker buildx create --platform linux/arm64 --append --name kamal-hybrid-docker-container-ssh---app-1-1-1-5-local-registry --driver-opt network=host kamal-hybrid-docker-container-ssh---app-1-1-1-5-local-registry-context"#;
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"registry": {"server": "localhost:5000"}, "builder": {"arch": ["amd64", "arm64"], "remote": "ssh://app@1.1.1.5"}}"#,
            &[],
            |b| b.name()
        ),
        "hybrid"
    );
    assert_eq!(
        new_builder_command(
            &raw,
            r#"{"registry": {"server": "localhost:5000"}, "builder": {"arch": ["amd64", "arm64"], "remote": "ssh://app@1.1.1.5"}}"#,
            &[],
            |b| b.create().unwrap().to_string()
        ),
        e2
    );
}
