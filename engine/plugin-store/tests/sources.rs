//! Plugin sources end to end: packing (and Wasmtime loading the packed file), local paths,
//! HTTPS with a pinned sha256 from a real TLS server on loopback, OCI push and pull against a
//! private `docker-registry`, the blob cache and the lock file, tampering included.

use wharf_testkit::plugins as common;

use std::path::Path;

use wharf_plugin_host::{CallOptions, Grant, HostConfig, PluginHost};
use wharf_plugin_store::{
    pack, unpack, BlobCache, BuiltinPlugin, LockFile, NetOptions, PluginSpec, Source, Store, StoreError,
};

fn host() -> PluginHost {
    PluginHost::new(HostConfig { cache_dir: None, ..HostConfig::default() }).unwrap()
}

fn packed_adapter() -> Vec<u8> {
    pack(&common::adapter_manifest(), &common::adapter_wasm()).unwrap()
}

fn store(project: &Path, cache: &Path, ca_pem: Option<&str>) -> Store {
    let net = NetOptions {
        extra_ca_pem: ca_pem.map(|p| vec![p.as_bytes().to_vec()]).unwrap_or_default(),
        ..Default::default()
    };
    Store::new(project).with_cache(Some(BlobCache::new(cache))).with_net(net)
}

/// Calls the adapter with a JSON file in the project.
async fn fetch_with(plugin: &wharf_plugin_host::Plugin, project: &Path) -> Vec<(String, String)> {
    std::fs::write(project.join("secrets.json"), r#"{"DB_PASSWORD": "hunter2", "PORT": 5432}"#).unwrap();
    let grant = Grant::new().workdir(project).directory(project);
    plugin
        .fetch_secrets(None, Some("secrets.json"), &["DB_PASSWORD".into(), "PORT".into()], &grant, &CallOptions::new())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_packed_file_is_still_a_component_wasmtime_loads() {
    let wasm = common::adapter_wasm();
    let packed = packed_adapter();
    assert!(packed.len() > wasm.len());
    let (text, back) = unpack(&packed).unwrap();
    assert_eq!((text.as_str(), back.as_slice()), (common::adapter_manifest().as_str(), wasm.as_slice()));
    // The packed bytes themselves, custom section and all.
    let manifest = wharf_plugin_host::Manifest::from_toml(&text, "test").unwrap();
    let plugin = host().load(manifest, &packed).unwrap();
    let project = tempfile::tempdir().unwrap();
    let got = fetch_with(&plugin, project.path()).await;
    assert_eq!(got, [("DB_PASSWORD".to_string(), "hunter2".to_string()), ("PORT".into(), "5432".into())]);
    // A dotenv file too, and a missing secret.
    std::fs::write(project.path().join(".env"), "# c\nexport API_KEY='k 1'\nURL=https://x # note\n").unwrap();
    let grant = Grant::new().workdir(project.path()).directory(project.path());
    let got = plugin.fetch_secrets(None, Some(".env"), &[], &grant, &CallOptions::new()).await.unwrap();
    assert_eq!(got, [("API_KEY".to_string(), "k 1".to_string()), ("URL".into(), "https://x".into())]);
    let e = plugin.fetch_secrets(None, Some(".env"), &["NOPE".into()], &grant, &CallOptions::new()).await.unwrap_err();
    assert!(e.to_string().contains("secret NOPE not found in .env"), "{e}");
    // Wasmtime's view of it.
    let i = wharf_plugin_store::component_interfaces(host().engine(), &packed).unwrap();
    assert!(i.exports.iter().any(|e| e.starts_with("fetch")), "{:?}", i.exports);
    assert!(i.imports.iter().any(|e| e.starts_with("wharf:plugin/files@0.1.0")), "{:?}", i.imports);
}

#[tokio::test(flavor = "multi_thread")]
async fn local_sources_directory_manifest_and_packed_file() {
    let project = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let dir = common::adapter_dir(project.path());
    std::fs::write(project.path().join("file-secrets.wasm"), packed_adapter()).unwrap();
    let s = store(project.path(), cache.path(), None);
    let expected = wharf_plugin_store::pack::sha256_hex(&packed_adapter());
    for source in ["file-secrets", "file-secrets/plugin.toml", "file-secrets.wasm", dir.to_str().unwrap()] {
        let r = s.load(&PluginSpec::new("secrets", source), None).await.unwrap();
        assert_eq!(r.manifest.name, "file-secrets");
        assert_eq!(r.sha256, expected, "{source}");
        assert!(matches!(r.source, Source::Path(_)));
    }
    // A bare component is not a plugin file.
    std::fs::write(project.path().join("bare.wasm"), common::adapter_wasm()).unwrap();
    let e = s.load(&PluginSpec::new("bare", "bare.wasm"), None).await.unwrap_err().to_string();
    assert!(e.contains("plugin bare") && e.contains("no `wharf-plugin` section"), "{e}");
    let e = s.load(&PluginSpec::new("gone", "nowhere/plugin.toml"), None).await.unwrap_err().to_string();
    assert!(e.contains("gone") && e.contains("nowhere/plugin.toml"), "{e}");
    // A configured sha256 is checked for local files too.
    let e = s.load(&PluginSpec::new("secrets", "file-secrets").sha256("0".repeat(64)), None).await.unwrap_err();
    assert!(matches!(e, StoreError::Digest { .. }), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn builtins_resolve_by_name() {
    let project = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let builtin = BuiltinPlugin {
        name: "file-secrets",
        manifest: Box::leak(common::adapter_manifest().into_boxed_str()),
        wasm: Box::leak(common::adapter_wasm().into_boxed_slice()),
    };
    let s = store(project.path(), cache.path(), None).with_builtins([builtin]);
    let r = s.load(&PluginSpec::new("files", "builtin:file-secrets"), None).await.unwrap();
    assert_eq!(r.sha256, wharf_plugin_store::pack::sha256_hex(&packed_adapter()));
    let e = s.load(&PluginSpec::new("x", "builtin:nope"), None).await.unwrap_err().to_string();
    assert_eq!(e, "plugin x: no built-in plugin named \"nope\"");
}

#[tokio::test(flavor = "multi_thread")]
async fn https_with_a_pinned_sha256() {
    let packed = packed_adapter();
    let sha = wharf_plugin_store::pack::sha256_hex(&packed);
    let server = common::https_server(vec![("/file-secrets.wasm".into(), packed.clone())]);
    let url = format!("{}/file-secrets.wasm", server.base);
    let project = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let s = store(project.path(), cache.path(), Some(&server.ca_pem));

    // Unpinned: refused before any download.
    let e = s.load(&PluginSpec::new("secrets", &url), None).await.unwrap_err().to_string();
    assert!(e.contains("plugin secrets") && e.contains("needs a sha256"), "{e}");

    // A wrong sha256: downloaded, refused, not cached.
    let wrong = "1".repeat(64);
    let e = s.load(&PluginSpec::new("secrets", &url).sha256(&wrong), None).await.unwrap_err().to_string();
    assert!(
        e.contains("plugin secrets")
            && e.contains(&url)
            && e.contains(&format!("expected sha256:{wrong}"))
            && e.contains(&format!("got sha256:{sha}")),
        "{e}"
    );
    assert!(!BlobCache::new(cache.path()).path(&sha).exists());

    // The right one: downloaded, verified, cached, loaded and called.
    let spec = PluginSpec::new("secrets", &url).sha256(format!("sha256:{sha}"));
    let r = s.load(&spec, None).await.unwrap();
    assert!(!r.from_cache);
    assert_eq!(r.sha256, sha);
    assert!(BlobCache::new(cache.path()).path(&sha).exists());
    let plugin = r.load(&host()).unwrap();
    let project_dir = tempfile::tempdir().unwrap();
    assert_eq!(fetch_with(&plugin, project_dir.path()).await[0].1, "hunter2");
    // The second time from the cache.
    assert!(s.load(&spec, None).await.unwrap().from_cache);

    // Without the test CA the server is not trusted.
    let untrusting = store(project.path(), tempfile::tempdir().unwrap().path(), None);
    let e = untrusting.load(&spec, None).await.unwrap_err().to_string();
    assert!(e.contains("plugin secrets") && e.to_lowercase().contains("certificate"), "{e}");

    // A 404 (with an empty cache: the cache is content-addressed, any URL with this sha256 hits).
    let missing = PluginSpec::new("secrets", format!("{}/nope.wasm", server.base)).sha256(&sha);
    let e = store(project.path(), tempfile::tempdir().unwrap().path(), Some(&server.ca_pem))
        .load(&missing, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("404"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn oci_push_pull_lock_and_tampering() {
    let registry = common::registry();
    let project = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let dir = common::adapter_dir(project.path());
    let s = store(project.path(), cache.path(), None);
    let packed = packed_adapter();
    let sha = wharf_plugin_store::pack::sha256_hex(&packed);

    // Push from a plugin directory.
    let local = s.open(dir.to_str().unwrap(), None).await.unwrap();
    let reference =
        wharf_plugin_store::oci::Reference::parse(&format!("{}/wharf/file-secrets:0.1.0", registry.addr)).unwrap();
    let pushed = s.push(&local, &reference).await.unwrap();
    assert_eq!(pushed.layer_digest, sha);
    // Pushing again is idempotent (blobs exist already).
    let again = s.push(&local, &reference).await.unwrap();
    assert_eq!(again.layer_digest, sha);

    // Pull by tag, then by digest.
    let by_tag = format!("oci://{}/wharf/file-secrets:0.1.0", registry.addr);
    let r = s.load(&PluginSpec::new("secrets", &by_tag), None).await.unwrap();
    assert_eq!((r.sha256.as_str(), r.manifest.name.as_str()), (sha.as_str(), "file-secrets"));
    let manifest_digest = r.manifest_digest.clone().unwrap();
    assert_eq!(manifest_digest, again.manifest_digest);
    let by_digest = format!("oci://{}/wharf/file-secrets@sha256:{manifest_digest}", registry.addr);
    let r2 = store(project.path(), tempfile::tempdir().unwrap().path(), None)
        .load(&PluginSpec::new("secrets", &by_digest), None)
        .await
        .unwrap();
    assert_eq!(r2.sha256, sha);
    r2.load(&host()).unwrap();
    // A digest the registry does not have.
    let unknown = format!("oci://{}/wharf/file-secrets@sha256:{}", registry.addr, "2".repeat(64));
    let e = s.load(&PluginSpec::new("secrets", &unknown), None).await.unwrap_err().to_string();
    assert!(e.contains("plugin secrets") && e.contains("404"), "{e}");

    // fetch writes the lock; loading honours it.
    let specs = vec![PluginSpec::new("secrets", &by_tag), PluginSpec::new("local", "file-secrets")];
    let (_, lock) = s.fetch(&specs).await.unwrap();
    let lock_path = LockFile::path(project.path());
    lock.write(&lock_path).unwrap();
    let lock = LockFile::read(&lock_path).unwrap().unwrap();
    let entry = &lock.plugins["secrets"];
    assert_eq!(
        (entry.sha256.as_str(), entry.manifest_digest.as_deref()),
        (sha.as_str(), Some(manifest_digest.as_str()))
    );
    assert_eq!(lock.plugins["local"].sha256, sha);
    assert!(s.verify(&specs, &lock).await.iter().all(|v| v.result.is_ok()));
    // An entry no longer configured is still checked, and marked.
    let report = s.verify(&specs[..1], &lock).await;
    assert_eq!(
        report.iter().map(|v| (v.name.as_str(), v.configured)).collect::<Vec<_>>(),
        [("secrets", true), ("local", false)]
    );
    assert!(report[1].result.is_ok());
    // A plugin the existing lock does not know is refused, as `cargo --locked` would.
    let e = s.load(&PluginSpec::new("newcomer", "file-secrets"), Some(&lock)).await.unwrap_err().to_string();
    assert_eq!(
        e,
        format!("lock file {}: no entry for plugin newcomer; run `wharf plugin fetch` to add it", lock_path.display())
    );
    // A built-in plugin is pinned by the binary: it loads though the lock has no entry for it.
    let builtin = BuiltinPlugin {
        name: "file-secrets",
        manifest: Box::leak(common::adapter_manifest().into_boxed_str()),
        wasm: Box::leak(common::adapter_wasm().into_boxed_slice()),
    };
    let with_builtin = store(project.path(), cache.path(), None).with_builtins([builtin]);
    assert!(!lock.plugins.contains_key("bundled"));
    let b = with_builtin.load(&PluginSpec::new("bundled", "builtin:file-secrets"), Some(&lock)).await.unwrap();
    assert_eq!(b.sha256, sha);

    // The tag moves to another build: the lock keeps the old one (pulled by its digest).
    let other = s.open(dir.to_str().unwrap(), None).await.unwrap();
    let mut moved = other.clone();
    moved.manifest_text.push_str("\n# rebuilt\n");
    let pushed2 = s.push(&moved, &reference).await.unwrap();
    assert_ne!(pushed2.layer_digest, sha);
    let fresh_cache = tempfile::tempdir().unwrap();
    let fresh = store(project.path(), fresh_cache.path(), None);
    let pinned = fresh.load(&specs[0], Some(&lock)).await.unwrap();
    assert_eq!(pinned.sha256, sha);
    assert_eq!(pinned.manifest_digest.as_deref(), Some(manifest_digest.as_str()));

    // A tampered cache is detected, by load and by verify.
    let blob = BlobCache::new(cache.path()).path(&sha);
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes.extend_from_slice(b"\0evil");
    std::fs::write(&blob, &bytes).unwrap();
    let e = s.load(&specs[0], Some(&lock)).await.unwrap_err().to_string();
    assert!(
        e.contains("plugin secrets") && e.contains("tampered") && e.contains(&format!("expected sha256:{sha}")),
        "{e}"
    );
    let report = s.verify(&specs, &lock).await;
    assert!(report[0].result.is_err() && report[1].result.is_ok());

    // A tampered lock (another sha256) is detected, naming the plugin and both digests.
    let mut bad = lock.clone();
    let forged = "3".repeat(64);
    bad.plugins.get_mut("local").unwrap().sha256 = forged.clone();
    let e = s.load(&specs[1], Some(&bad)).await.unwrap_err().to_string();
    assert!(
        e.contains("plugin local")
            && e.contains("the lock file")
            && e.contains(&format!("expected sha256:{forged}"))
            && e.contains(&format!("got sha256:{sha}")),
        "{e}"
    );
    // An OCI entry whose pinned sha256 does not match what its pinned manifest points to.
    let mut bad = lock.clone();
    bad.plugins.get_mut("secrets").unwrap().sha256 = forged.clone();
    let e = fresh.load(&specs[0], Some(&bad)).await.unwrap_err().to_string();
    assert!(e.contains("plugin secrets") && e.contains(&forged), "{e}");
    // The lock is for another source.
    let e = s.load(&PluginSpec::new("local", "elsewhere"), Some(&lock)).await.unwrap_err().to_string();
    assert!(e.contains("plugin local: the lock file pins source file-secrets"), "{e}");

    // fetch replaces the tampered blob (and the tag now points to the rebuild).
    let (resolved, lock2) = s.fetch(&specs).await.unwrap();
    assert_eq!(resolved[0].sha256, pushed2.layer_digest);
    assert_eq!(lock2.plugins["secrets"].manifest_digest.as_deref(), Some(pushed2.manifest_digest.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn oci_with_basic_credentials_from_the_docker_config() {
    let registry = common::registry_with_login("wharf", "s3cret-pw");
    let project = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let dir = common::adapter_dir(project.path());
    let reference =
        wharf_plugin_store::oci::Reference::parse(&format!("{}/private/file-secrets:1", registry.addr)).unwrap();

    // No credentials: refused with a clear message.
    let s = store(project.path(), cache.path(), None);
    let local = s.open(dir.to_str().unwrap(), None).await.unwrap();
    let e = s.push(&local, &reference).await.unwrap_err().to_string();
    assert!(e.contains("plugin file-secrets") && e.contains("wants a login"), "{e}");

    // Wrong credentials.
    let docker = project.path().join("docker-config.json");
    let write = |user: &str, pw: &str| {
        use base64::Engine as _;
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"));
        std::fs::write(&docker, format!(r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#, registry.addr)).unwrap();
    };
    write("wharf", "nope");
    let net = NetOptions { docker_config: Some(docker.clone()), ..Default::default() };
    let s = store(project.path(), cache.path(), None).with_net(net.clone());
    let e = s.push(&local, &reference).await.unwrap_err().to_string();
    assert!(e.contains("401"), "{e}");

    // The right ones: push, then pull.
    write("wharf", "s3cret-pw");
    let pushed = s.push(&local, &reference).await.unwrap();
    let r = s.load(&PluginSpec::new("secrets", format!("oci://{reference}")), None).await.unwrap();
    assert_eq!(r.sha256, pushed.layer_digest);
}
