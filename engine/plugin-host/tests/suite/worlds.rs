//! The `secrets-adapter` and `builder` worlds, end to end, with well-behaved fixture plugins
//! (tests/fixtures/guests) and programs the user grants.

use std::os::unix::fs::PermissionsExt;

use crate::common::{manifest, wasm, Logs};
use wharf_plugin_host::{BuildRequest, CallOptions, Grant, HostConfig, Plugin, PluginError, PluginHost};

fn load(name: &str) -> Plugin {
    let host = PluginHost::new(HostConfig { cache_dir: None, ..HostConfig::default() }).unwrap();
    host.load(manifest(&format!("engine/plugin-host/tests/fixtures/guests/{name}")), &wasm(name)).unwrap()
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn a_secrets_adapter_fetches_and_its_log_masks_what_it_returned() {
    let plugin = load("env-secrets");
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    // The user grants printenv, and the environment programs get.
    let grant =
        Grant::new().program("printenv", ["**"]).env("DB_PASSWORD", "pa55-w0rd-xyz").env("API_KEY", "k3y-123456");
    let got = plugin
        .fetch_secrets(Some("acme"), Some("prod"), &names(&["DB_PASSWORD", "API_KEY"]), &grant, &opts)
        .await
        .unwrap();
    assert_eq!(
        got,
        [("prod/DB_PASSWORD".to_string(), "pa55-w0rd-xyz".to_string()), ("prod/API_KEY".into(), "k3y-123456".into())]
    );
    assert_eq!(logs.said(), ["fetched DB_PASSWORD = [REDACTED]", "fetched API_KEY = [REDACTED]"]);

    // A missing secret fails the fetch with the adapter's message.
    let err = plugin.fetch_secrets(None, None, &names(&["NOPE"]), &grant, &opts).await.unwrap_err();
    assert!(matches!(err, PluginError::Failed { .. }));
    assert!(
        err.to_string().starts_with("plugin env-secrets failed: secret NOPE not found: printenv exited with 1"),
        "{err}"
    );

    // Without the grant, the program is refused (and that is the adapter's error).
    let err = plugin.fetch_secrets(None, None, &names(&["API_KEY"]), &Grant::new(), &opts).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin env-secrets failed: secret API_KEY not found: plugin env-secrets: capability program printenv not granted"
    );
}

#[tokio::test]
async fn a_builder_runs_the_granted_program_in_the_context_directory() {
    let plugin = load("docker-builder");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let (bin, ctx) = (root.join("bin"), root.join("app"));
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM scratch\n").unwrap();
    // A stand-in for docker: prints where it runs and its arguments, then buildx's last line.
    std::fs::write(
        bin.join("docker"),
        "#!/bin/sh\necho \"cwd=$(pwd) env=$(env | grep -v '^PWD=' | grep -v '^SHLVL=' | grep -v '^_=' | tr '\\n' ' ')\"\n\
         echo \"args=$*\"\necho '#12 writing image sha256:feedbeef done' >&2\n",
    )
    .unwrap();
    std::fs::set_permissions(bin.join("docker"), std::fs::Permissions::from_mode(0o755)).unwrap();

    let logs = Logs::default();
    let opts = CallOptions::new().secrets(["s3cret-token"]).log(logs.sink());
    // The context directory is readable without a grant: building it is the point.
    let grant = Grant::new()
        .program("docker", ["buildx", "build", wharf_plugin_host::ANY_ARGUMENTS])
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()));
    let req = BuildRequest {
        context_dir: ctx.display().to_string(),
        dockerfile: "Dockerfile".into(),
        tags: names(&["registry.example/app:abc", "registry.example/app:latest"]),
        build_args: vec![("TOKEN".into(), "s3cret-token".into())],
        labels: vec![("service".into(), "app".into())],
        platforms: names(&["linux/amd64"]),
        target: None,
        push: true,
        ..Default::default()
    };
    let built = plugin.build(&req, &grant, &opts).await.unwrap_or_else(|e| panic!("{e}\n{}", logs.all()));
    assert_eq!(built.image_id.as_deref(), Some("sha256:feedbeef"));
    let records = logs.0.lock().unwrap().clone();
    let all: Vec<&str> = records.iter().map(|r| r.message.as_str()).collect();
    assert!(all.contains(&"docker buildx build --progress=plain --push -t registry.example/app:abc -t registry.example/app:latest --build-arg TOKEN=[REDACTED] --label service=app --platform=linux/amd64 --file Dockerfile ."), "{all:#?}");
    // It ran in the context directory, with only the granted environment.
    let expected = format!("cwd={} env=PATH={}:/usr/bin:/bin ", ctx.display(), bin.display());
    assert!(all.contains(&expected.as_str()), "{all:#?}");
    assert!(!format!("{all:?}").contains("s3cret-token"));

    // A context that does not exist cannot be granted: the program is not started there.
    let missing = root.join("missing");
    let err = plugin
        .build(&BuildRequest { context_dir: missing.display().to_string(), ..req.clone() }, &grant, &opts)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "plugin docker-builder failed: plugin docker-builder: capability directory {} not granted",
            missing.display()
        )
    );
    // Without the program grant, refused.
    let err = plugin.build(&req, &Grant::new(), &opts).await.unwrap_err();
    assert!(err.to_string().ends_with("capability program docker not granted"), "{err}");
}
