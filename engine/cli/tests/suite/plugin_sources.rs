//! `wharf plugin ...` driven as a user does: pack and inspect outside a project, push to a
//! private registry, then a project whose deploy.yml configures the example secrets adapter
//! from a directory, an HTTPS URL (real TLS on loopback, trusted through `WHARF_CA_FILE`) and
//! an OCI reference: `list`, `fetch` (the lock file), `verify`, and tampering detected.

use wharf_testkit::plugins as common;

use std::path::Path;
use std::process::{Command, Output};
use wharf_testkit::runner::Runner;

use crate::WHARF;

/// Runs `wharf` in `dir` with its own cache and home, trusting `ca` (a PEM file) if given.
fn wharf(dir: &Path, home: &Path, ca: Option<&Path>, args: &[&str]) -> Output {
    let mut wharf = Runner::new(WHARF, dir)
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env_remove("WHARF_CA_FILE")
        .env_remove("SSL_CERT_FILE")
        .env_remove("DOCKER_CONFIG")
        .env_remove("WHARF_INSECURE_REGISTRIES");
    if let Some(ca) = ca {
        wharf = wharf.env("WHARF_CA_FILE", ca);
    }
    wharf.run(args)
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn ok(o: Output) -> String {
    let (out, err) = text(&o);
    assert!(o.status.success(), "wharf failed ({:?}):\nstdout:\n{out}\nstderr:\n{err}", o.status);
    out
}

fn fails(o: Output) -> String {
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "expected exit 1:\nstdout:\n{out}\nstderr:\n{err}");
    format!("{out}{err}")
}

/// Hex SHA-256, computed by `sha256sum` (coreutils), independently of Wharf.
fn sha256_of(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x");
    std::fs::write(&f, bytes).unwrap();
    let out = Command::new("sha256sum").arg(&f).output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
}

#[test]
fn plugin_commands_from_pack_to_verify() {
    let registry = common::registry();
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();

    // Outside a project: pack a plugin directory, inspect the result.
    let dir = common::adapter_dir(work.path());
    let out =
        ok(wharf(work.path(), home.path(), None, &["plugin", "pack", "file-secrets/plugin.toml", "-o", "fs.wasm"]));
    let packed = std::fs::read(work.path().join("fs.wasm")).unwrap();
    let sha = sha256_of(&packed);
    assert!(
        out.starts_with(&format!(
            "Packed file-secrets 0.1.0 (secrets-adapter) into {}",
            work.path().join("fs.wasm").display()
        )),
        "{out}"
    );
    assert!(out.contains(&format!("sha256:{sha}")), "{out}");

    let out = ok(wharf(work.path(), home.path(), None, &["plugin", "inspect", "fs.wasm"]));
    for line in [
        "name:         file-secrets",
        "version:      0.1.0",
        "world:        secrets-adapter",
        "api:          0.1.0",
        &format!("size:         {} bytes", packed.len()),
        &format!("sha256:       {sha}"),
        "  programs:    none",
        "  directories: .",
        "  hosts:       none",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
    let imports = out.split("imports:\n").nth(1).unwrap().split("exports:\n").collect::<Vec<_>>();
    assert!(imports[0].contains("  wharf:plugin/files@0.1.0: instance"), "{out}");
    assert!(imports[0].contains("  wharf:plugin/log@0.1.0: instance"), "{out}");
    assert_eq!(imports[1].trim(), "fetch: func", "{out}");
    // The directory inspects the same.
    let out2 = ok(wharf(work.path(), home.path(), None, &["plugin", "inspect", dir.to_str().unwrap()]));
    assert!(out2.contains(&format!("sha256:       {sha}")), "{out2}");

    // Push it to a private registry.
    let reference = format!("oci://{}/plugins/file-secrets:0.1.0", registry.addr);
    let out = ok(wharf(work.path(), home.path(), None, &["plugin", "push", "fs.wasm", &reference]));
    assert!(out.contains(&format!("Pushed file-secrets 0.1.0 (secrets-adapter) to {reference}")), "{out}");
    assert!(out.contains(&format!("layer:  sha256:{sha}")), "{out}");
    let manifest_digest = out.lines().find_map(|l| l.strip_prefix("digest: sha256:")).unwrap().to_string();
    let e = fails(wharf(work.path(), home.path(), None, &["plugin", "push", "fs.wasm", "https://example.com/x"]));
    assert!(e.contains("expected oci://REGISTRY/REPOSITORY:TAG"), "{e}");

    // Serve it over HTTPS.
    let server = common::https_server(vec![("/fs.wasm".into(), packed.clone())]);
    let ca = work.path().join("ca.pem");
    std::fs::write(&ca, &server.ca_pem).unwrap();
    let url = format!("{}/fs.wasm", server.base);

    // A project configuring it three ways.
    let project = work.path().join("app");
    std::fs::create_dir_all(project.join("config")).unwrap();
    std::fs::rename(&dir, project.join("file-secrets")).unwrap();
    let deploy = format!(
        "service: app\nimage: acme/app\nservers:\n  - 192.0.2.10\nregistry:\n  username: acme\n  password: pw\nbuilder:\n  arch: amd64\n\
         x-wharf:\n  plugins:\n\
         \x20   local-secrets:\n      source: file-secrets\n\
         \x20   web-secrets:\n      source: {url}\n      sha256: {sha}\n\
         \x20   oci-secrets:\n      source: {reference}\n"
    );
    std::fs::write(project.join("config/deploy.yml"), deploy).unwrap();
    let run = |args: &[&str]| wharf(&project, home.path(), Some(&ca), args);

    // Before fetching: the remote ones are not in the cache yet.
    let out = ok(run(&["plugin", "list"]));
    let header = out.lines().next().unwrap();
    assert!(header.starts_with("NAME") && header.contains("WORLD") && header.ends_with("DIGEST"), "{out}");
    let row = |out: &str, name: &str| {
        out.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_default().to_string()
    };
    let local = row(&out, "local-secrets");
    assert!(
        local.contains("secrets-adapter")
            && local.contains("0.1.0")
            && local.contains(&format!("sha256:{}", &sha[..12])),
        "{out}"
    );
    assert!(row(&out, "web-secrets").contains("(not fetched: wharf plugin fetch)"), "{out}");
    assert!(row(&out, "oci-secrets").contains("(not fetched: wharf plugin fetch)"), "{out}");
    // The built-in plugins are listed too.
    assert!(out.lines().any(|l| l.contains("builtin:1password")), "{out}");

    // verify without a lock file.
    let e = fails(run(&["plugin", "verify"]));
    assert!(e.contains("No .kamal/plugins.lock: run `wharf plugin fetch` first"), "{e}");

    // fetch: cache and lock.
    let out = ok(run(&["plugin", "fetch"]));
    assert!(out.contains(&format!("web-secrets  {url}  sha256:{sha} (cached)")), "{out}");
    assert!(out.contains("Wrote .kamal/plugins.lock (3 plugins)"), "{out}");
    let lock = std::fs::read_to_string(project.join(".kamal/plugins.lock")).unwrap();
    assert!(lock.contains("[plugins.oci-secrets]"), "{lock}");
    assert!(lock.contains(&format!("manifest_digest = \"{manifest_digest}\"")), "{lock}");
    assert_eq!(lock.matches(&format!("sha256 = \"{sha}\"")).count(), 3, "{lock}");
    let blob = home.path().join(format!("cache/wharf/plugins/blobs/sha256/{sha}"));
    assert_eq!(std::fs::read(&blob).unwrap(), packed);

    let out = ok(run(&["plugin", "list"]));
    for name in ["local-secrets", "web-secrets", "oci-secrets"] {
        assert!(row(&out, name).contains(&format!("sha256:{}", &sha[..12])), "{out}");
    }
    let out = ok(run(&["plugin", "verify"]));
    assert!(out.contains(&format!("ok      oci-secrets  {reference}  sha256:{sha}")), "{out}");
    assert!(out.contains("3 plugins match .kamal/plugins.lock"), "{out}");

    // inspect a configured plugin by name (from the cache, with its OCI manifest digest).
    let out = ok(run(&["plugin", "inspect", "oci-secrets"]));
    assert!(out.contains(&format!("oci manifest: sha256:{manifest_digest}")), "{out}");

    // Tampered cache: detected by verify (exit 1), naming the plugin and both digests.
    let mut bad = packed.clone();
    bad.extend_from_slice(b"\0");
    std::fs::write(&blob, &bad).unwrap();
    let e = fails(run(&["plugin", "verify"]));
    assert!(e.contains("FAILED  web-secrets"), "{e}");
    assert!(e.contains(&format!("expected sha256:{sha}, got sha256:{}", sha256_of(&bad))), "{e}");
    assert!(e.contains("failed verification"), "{e}");
    // fetch repairs it.
    ok(run(&["plugin", "fetch"]));
    ok(run(&["plugin", "verify"]));

    // Tampered lock: another digest for the local plugin.
    let forged = "4".repeat(64);
    let lock_path = project.join(".kamal/plugins.lock");
    let text = std::fs::read_to_string(&lock_path).unwrap();
    let start = text.find("[plugins.local-secrets]").unwrap();
    let at = start + text[start..].find(&sha).unwrap();
    let tampered = format!("{}{forged}{}", &text[..at], &text[at + sha.len()..]);
    std::fs::write(&lock_path, tampered).unwrap();
    let e = fails(run(&["plugin", "verify"]));
    assert!(e.contains("FAILED  local-secrets"), "{e}");
    assert!(e.contains(&format!("the lock file: expected sha256:{forged}, got sha256:{sha}")), "{e}");
    assert!(e.contains("ok      web-secrets"), "{e}");

    // Without the CA, a fresh cache cannot fetch the HTTPS plugin.
    let other_home = tempfile::tempdir().unwrap();
    let e = fails(wharf(&project, other_home.path(), None, &["plugin", "fetch"]));
    assert!(e.contains("plugin web-secrets") && e.to_lowercase().contains("certificate"), "{e}");

    // A wrong sha256 in deploy.yml is refused with both digests.
    let wrong = "5".repeat(64);
    let deploy = std::fs::read_to_string(project.join("config/deploy.yml"))
        .unwrap()
        .replace(&format!("sha256: {sha}"), &format!("sha256: {wrong}"));
    std::fs::write(project.join("config/deploy.yml"), deploy).unwrap();
    let e = fails(wharf(&project, other_home.path(), Some(&ca), &["plugin", "fetch"]));
    assert!(
        e.contains(&format!("plugin web-secrets ({url})"))
            && e.contains(&format!("expected sha256:{wrong}, got sha256:{sha}")),
        "{e}"
    );
}

#[test]
fn inspect_an_unknown_name_outside_a_project() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let e = fails(wharf(work.path(), home.path(), None, &["plugin", "inspect", "nope"]));
    assert!(e.contains("No plugin named \"nope\""), "{e}");
    let out = ok(wharf(work.path(), home.path(), None, &["plugin", "inspect", "1password"]));
    assert!(out.contains("world:        secrets-adapter") && out.contains("source:       builtin:1password"), "{out}");
    let e = fails(wharf(work.path(), home.path(), None, &["plugin", "verify"]));
    assert!(e.contains("Configuration file not found"), "{e}");
}
