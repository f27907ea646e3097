//! The built-in `docker` builder plugin against a fake `docker` that records every call: with
//! buildx, one `docker buildx build` whose arguments are Kamal's, in Kamal's order; without it,
//! `docker build` with the legacy builder (`DOCKER_BUILDKIT=0`) and a `docker push` per tag;
//! what needs buildx refused without it before anything runs; a failing build's output in the
//! error. (The real docker path is covered by every deploy in engine/cli/tests.)

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use wharf_plugin_host::{BuildRequest, CallOptions, Grant, HostConfig, Manifest, PluginHost};

/// A fake docker in `dir/bin`: appends `DOCKER_BUILDKIT=<v> <args>` to `dir/calls`; `buildx
/// version` succeeds only when `buildx` is true; `build`/`buildx build` fail when the
/// Dockerfile holds `FAIL`.
fn fake_docker(dir: &Path, buildx: bool) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        r#"#!/bin/sh
echo "DOCKER_BUILDKIT=${{DOCKER_BUILDKIT-unset}} $*" >> {calls}
case "$1 $2" in
  "buildx version") {buildx} ;;
  "image inspect") echo sha256:0123abcd ;;
  "push "*) echo "latest: digest: sha256:feedface size: 528" ;;
esac
for a in "$@"; do case "$a" in */Dockerfile) if grep -q FAIL "$a"; then echo "step 2/3 failed: no such file" >&2; exit 1; fi ;; esac; done
exit 0
"#,
        calls = dir.join("calls").display(),
        buildx = if buildx { "exit 0" } else { "echo 'unknown command: docker buildx' >&2; exit 1" },
    );
    std::fs::write(bin.join("docker"), script).unwrap();
    std::fs::set_permissions(bin.join("docker"), std::fs::Permissions::from_mode(0o755)).unwrap();
    format!("{}:/usr/bin:/bin", bin.display())
}

fn request(dir: &Path) -> BuildRequest {
    std::fs::create_dir_all(dir.join("app")).unwrap();
    std::fs::write(dir.join("app/Dockerfile"), "FROM scratch\n").unwrap();
    BuildRequest {
        context_dir: dir.join("app").display().to_string(),
        dockerfile: dir.join("app/Dockerfile").display().to_string(),
        tags: vec!["reg.example/app:abc".into(), "reg.example/app:latest".into()],
        build_args: vec![("RUBY_VERSION".into(), "3.3".into())],
        labels: vec![("service".into(), "app".into())],
        push: true,
        ..Default::default()
    }
}

async fn build(dir: &Path, path: &str, req: &BuildRequest) -> Result<Vec<String>, String> {
    let b = wharf_builtin_plugins::find("docker").expect("the built-in docker builder");
    let host = PluginHost::new(HostConfig { cache_dir: None, ..HostConfig::default() }).unwrap();
    let manifest = Manifest::from_toml(b.manifest, "docker").unwrap();
    let plugin = host.load(manifest.clone(), b.wasm).unwrap();
    let grant = Grant::new()
        .program("docker", [wharf_plugin_host::ANY_ARGUMENTS])
        .env("PATH", path)
        .workdir(dir)
        .vars(manifest.capabilities.env.iter().cloned());
    let result = plugin.build(req, &grant, &CallOptions::new()).await.map_err(|e| e.to_string());
    let calls = std::fs::read_to_string(dir.join("calls")).unwrap_or_default();
    result.map(|_| calls.lines().map(str::to_string).collect())
}

#[tokio::test]
async fn with_buildx_one_buildx_build_with_kamals_options_in_kamals_order() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = fake_docker(dir, true);
    let mut req = request(dir);
    req.platforms = vec!["linux/amd64".into(), "linux/arm64".into()];
    req.builder = Some("kamal-local-docker-container".into());
    req.cache_from = Some("type=gha".into());
    req.cache_to = Some("type=gha,mode=max".into());
    req.secrets = vec!["GITHUB_TOKEN".into()];
    req.target = Some("production".into());
    req.ssh = Some("default".into());
    req.provenance = Some("false".into());
    req.no_cache = true;
    let calls = build(dir, &path, &req).await.unwrap();
    let (ctx, file) = (&req.context_dir, &req.dockerfile);
    assert_eq!(
        calls,
        [
            "DOCKER_BUILDKIT=unset buildx version".to_string(),
            format!(
                "DOCKER_BUILDKIT=unset buildx build --output=type=registry --platform linux/amd64,linux/arm64 \
                 --builder kamal-local-docker-container -t reg.example/app:abc -t reg.example/app:latest \
                 --cache-to type=gha,mode=max --cache-from type=gha --label service=app --build-arg RUBY_VERSION=3.3 \
                 --secret id=GITHUB_TOKEN --file {file} --target production --ssh default --provenance false \
                 --no-cache {ctx}"
            ),
        ]
    );
}

#[tokio::test]
async fn without_buildx_docker_build_then_a_push_per_tag() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = fake_docker(dir, false);
    let req = request(dir);
    let calls = build(dir, &path, &req).await.unwrap();
    let (ctx, file) = (&req.context_dir, &req.dockerfile);
    assert_eq!(
        calls,
        [
            "DOCKER_BUILDKIT=unset buildx version".to_string(),
            format!(
                "DOCKER_BUILDKIT=0 build -t reg.example/app:abc -t reg.example/app:latest --label service=app \
                 --build-arg RUBY_VERSION=3.3 --file {file} {ctx}"
            ),
            "DOCKER_BUILDKIT=unset image inspect --format {{.Id}} reg.example/app:abc".to_string(),
            "DOCKER_BUILDKIT=unset push reg.example/app:abc".to_string(),
            "DOCKER_BUILDKIT=unset push reg.example/app:latest".to_string(),
        ]
    );

    // What only buildx can do is refused before anything is built.
    std::fs::remove_file(dir.join("calls")).unwrap();
    let mut req2 = request(dir);
    req2.secrets = vec!["GITHUB_TOKEN".into()];
    req2.platforms = vec!["linux/amd64".into(), "linux/arm64".into()];
    let err = build(dir, &path, &req2).await.unwrap_err();
    assert_eq!(
        err,
        "plugin docker failed: docker buildx is not installed, and builder.arch (several platforms), builder.secrets need it"
    );
    let calls = std::fs::read_to_string(dir.join("calls")).unwrap();
    assert_eq!(calls.lines().count(), 1, "only `buildx version` ran: {calls}");

    // A failing build: its output in the error.
    let req3 = request(dir);
    std::fs::write(dir.join("app/Dockerfile"), "FAIL\n").unwrap();
    let err = build(dir, &path, &req3).await.unwrap_err();
    assert!(err.starts_with("plugin docker failed: docker build failed (exit 1):"), "{err}");
    assert!(err.contains("step 2/3 failed: no such file"), "{err}");
}
