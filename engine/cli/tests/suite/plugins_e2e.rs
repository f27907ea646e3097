//! WASM plugins in a real deploy (hostlab servers): the example hooks in Rust (a post-deploy
//! notifier POSTing to a webhook), Python (a pre-deploy check) and JavaScript (a post-deploy
//! summary) configured under `x-wharf` in deploy.yml, the built-in docker builder plugin
//! building the image, a failing WASM hook aborting the deploy like a failing script, a plugin
//! stopped at a capability it was not granted, and no secret value in the output or the audit
//! log.
//!
//! The example components are built here (Rust with cargo, Python with sdk/python/build.sh, JS
//! with sdk/js/build.mjs), cached under target/wasm-guests/e2e by a hash of their sources.

use wharf_testkit::plugins as store_common;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use crate::WHARF;
use wharf_testkit::lab::*;

const INSTALL: &str = "run scripts/install-deps (as root) to install the plugin toolchains";

/// Hash of every file under `paths` (relative to the repository), names and contents.
fn source_hash(paths: &[&str]) -> String {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p).unwrap().map(|e| e.unwrap().path()).collect();
            entries.sort();
            for e in entries {
                let name = e.file_name().unwrap().to_string_lossy().into_owned();
                if !matches!(name.as_str(), "target" | "node_modules" | "__pycache__") && !name.ends_with(".wasm") {
                    walk(&e, out);
                }
            }
        } else if p.is_file() {
            out.push(p.to_path_buf());
        }
    }
    let mut h = DefaultHasher::new();
    for p in paths {
        let mut files = vec![];
        walk(&repo_root().join(p), &mut files);
        for f in files {
            f.strip_prefix(repo_root()).unwrap().hash(&mut h);
            std::fs::read(&f).unwrap().hash(&mut h);
        }
    }
    format!("{:016x}", h.finish())
}

/// The component `name`, built by `build` into the given path unless already built from the
/// same sources.
fn component(name: &str, sources: &[&str], build: impl FnOnce(&Path) -> Command) -> PathBuf {
    let dir = repo_root().join("target/wasm-guests/e2e");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{name}-{}.wasm", source_hash(sources)));
    if !out.exists() {
        let mut cmd = build(&out);
        let res = cmd.current_dir(repo_root()).output().unwrap_or_else(|e| panic!("{name}: {cmd:?}: {e}; {INSTALL}"));
        assert!(
            res.status.success() && out.exists(),
            "building {name} failed:\n{}\n{}\n{INSTALL}",
            String::from_utf8_lossy(&res.stdout),
            String::from_utf8_lossy(&res.stderr)
        );
    }
    out
}

fn rust_notify() -> PathBuf {
    component("rust-notify", &["examples/hooks/rust-notify", "sdk/rust", "wit"], |out| {
        let target = repo_root().join("target/wasm-guests/examples");
        let script = format!(
            "cargo build -q --release --target wasm32-wasip2 --manifest-path examples/hooks/rust-notify/Cargo.toml --target-dir {t} && cp {t}/wasm32-wasip2/release/rust_notify.wasm {o}",
            t = target.display(),
            o = out.display()
        );
        let mut c = Command::new("sh");
        c.args(["-c", &script]).env_remove("RUSTFLAGS").env_remove("CARGO_TARGET_DIR");
        c
    })
}

fn python_check() -> PathBuf {
    component("python-check", &["examples/hooks/python-check", "sdk/python", "wit"], |out| {
        let mut c = Command::new("bash");
        c.arg("sdk/python/build.sh").arg("examples/hooks/python-check/check.py").arg("-o").arg(out);
        c
    })
}

fn js_notify() -> PathBuf {
    assert!(repo_root().join("sdk/js/node_modules/.bin/jco").exists(), "no jco in sdk/js/node_modules: {INSTALL}");
    component(
        "js-notify",
        &["examples/hooks/js-notify", "sdk/js/src", "sdk/js/build.mjs", "sdk/js/package-lock.json", "wit"],
        |out| {
            let mut c = Command::new("node");
            c.arg("sdk/js/build.mjs").arg("examples/hooks/js-notify/notify.js").arg("-o").arg(out);
            c
        },
    )
}

/// Puts `example`'s plugin.toml and `wasm` into the app under `plugins/<name>/`.
fn install(app: &AppDir, example: &str, wasm: &Path) {
    let manifest = std::fs::read_to_string(repo_root().join(example).join("plugin.toml")).unwrap();
    let name = example.rsplit('/').next().unwrap();
    app.write(&format!("plugins/{name}/plugin.toml"), &manifest);
    std::fs::copy(wasm, app.path().join(format!("plugins/{name}/{name}.wasm"))).unwrap();
}

/// A webhook on loopback: every request's body, answered 200 (or `status`).
fn webhook(status: u16) -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut length = 0usize;
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        length = v.trim().parse().unwrap();
                    }
                }
            }
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).unwrap();
            let _ = tx.send(format!("{}{}", request_line.trim(), String::from_utf8_lossy(&body)));
            let _ = write!(conn, "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    (port, rx)
}

const SECRET_URL_TOKEN: &str = "T0KEN-4b1d9c";

#[test]
fn wasm_hooks_in_rust_python_and_javascript_run_in_a_real_deploy() {
    let (notify, check, js) = (rust_notify(), python_check(), js_notify());
    let Some((_guard, lab)) = lab() else { return };
    let (port, posts) = webhook(200);
    let app = AppDir::new(lab, WHARF);
    install(&app, "examples/hooks/rust-notify", &notify);
    install(&app, "examples/hooks/python-check", &check);
    install(&app, "examples/hooks/js-notify", &js);
    let extra = format!(
        r#"x-wharf:
  plugins:
    notify:
      source: plugins/rust-notify
      allow:
        hosts: ["127.0.0.1:{port}"]
        secrets: [NOTIFY_WEBHOOK_URL]
    check:
      source: plugins/python-check
      allow:
        directories: ["."]
    summary:
      source: plugins/js-notify
      allow:
        programs: ["git rev-parse HEAD"]
  hooks:
    pre-deploy: [check]
    post-deploy: [notify, summary]
"#
    );
    app.write("config/deploy.yml", &(deploy_yml("plugged", "plugged.test", "", "") + &extra));
    let secrets = std::fs::read_to_string(app.path().join(".kamal/secrets")).unwrap();
    app.write(
        ".kamal/secrets",
        &format!("{secrets}NOTIFY_WEBHOOK_URL=http://127.0.0.1:{port}/hooks/{SECRET_URL_TOKEN}\n"),
    );
    let version = app.commit("plugged");

    let out = app.wharf(&["setup", "-v"]);
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "{o}\n{e}");
    // The built-in builder plugin built the image.
    assert!(o.contains("with the docker builder plugin"), "{o}");
    assert_eq!(curl("10.200.0.1", "/version", Some("plugged.test")), (200, version.clone()));
    // The Python check ran before the deploy (and passed: the tree is clean).
    assert!(o.contains("Running pre-deploy plugin hook check on localhost"), "{o}");
    // The Rust notifier POSTed to the webhook, with the URL (a secret) masked in its log.
    let post = posts.recv_timeout(Duration::from_secs(5)).expect("the webhook got a POST");
    assert!(post.starts_with(&format!("POST /hooks/{SECRET_URL_TOKEN} HTTP/1.1")), "{post}");
    assert!(post.contains(&format!("plugged {version} deployed by tester@example.com")), "{post}");
    assert!(o.contains("[notify] posted to [REDACTED] (200)"), "{o}");
    // The JavaScript summary ran git through its grant.
    assert!(o.contains("[summary]") && o.contains(&version), "{o}");
    // No secret value anywhere in what Wharf printed, or in the audit log on the servers.
    for value in [SECRET_URL_TOKEN, "NEKOT"] {
        assert!(!o.contains(value) && !e.contains(value), "{value} leaked:\n{o}\n{e}");
        let audit = on_host(lab, "10.200.0.1", "cat .kamal/plugged-audit.log");
        assert!(!audit.contains(value), "{value} in the audit log:\n{audit}");
    }

    // Building from the working tree (`builder.context`) with an uncommitted change: the
    // version is `<sha>_uncommitted_<hex>`, the Python check refuses it, the deploy stops inside
    // the lock and releases it; the running version keeps serving.
    let yml = std::fs::read_to_string(app.path().join("config/deploy.yml")).unwrap();
    app.write(
        "config/deploy.yml",
        &yml.replace("builder:\n  arch: amd64\n", "builder:\n  arch: amd64\n  context: .\n"),
    );
    app.commit("build from the working tree");
    app.write("dirty.txt", "work in progress");
    let out = app.wharf(&["deploy"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("ERROR (Kamal::Cli::HookError): Hook `pre-deploy` failed:"), "{err}");
    assert!(err.contains("plugin check failed:") && err.contains("uncommitted"), "{err}");
    assert!(app.ok(&["lock", "status"]).contains("There is no deploy lock"));
    assert_eq!(curl("10.200.0.1", "/version", Some("plugged.test")), (200, version.clone()));
    std::fs::remove_file(app.path().join("dirty.txt")).unwrap();

    // The notifier's webhook host no longer granted: the post-deploy hook fails, naming the
    // plugin and the host; the deploy itself went through (post-deploy runs after it).
    let denied = app.path().join("config/deploy.yml");
    let yml = std::fs::read_to_string(&denied).unwrap().replace(&format!("127.0.0.1:{port}"), "127.0.0.1:1");
    std::fs::write(&denied, yml).unwrap();
    let version2 = app.commit("second");
    let out = app.wharf(&["deploy"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(&format!("plugin notify: capability host 127.0.0.1:{port} not granted")), "{err}");
    assert!(err.contains("Hook `post-deploy` failed:"), "{err}");
    assert!(!err.contains(SECRET_URL_TOKEN), "{err}");
    assert_eq!(curl("10.200.0.1", "/version", Some("plugged.test")), (200, version2));
    assert!(posts.try_recv().is_err(), "nothing was posted");

    app.ok(&["remove", "-y"]);
}

#[test]
fn a_custom_builder_plugin_and_bad_plugin_config_are_reported() {
    let Some((_guard, lab)) = lab() else { return };
    let app = AppDir::new(lab, WHARF);
    // The built-in docker builder under another name, configured as the builder.
    let extra = "x-wharf:\n  plugins:\n    mybuilder:\n      source: builtin:docker\n      allow:\n        programs: [\"docker **unchecked\"]\n        env: [DOCKER_BUILDKIT, DOCKER_HOST]\n  builder: mybuilder\n";
    app.write("config/deploy.yml", &(deploy_yml("custombuild", "custombuild.test", "", "") + extra));
    let version = app.commit("custom builder");
    let out = app.ok(&["setup"]);
    assert!(out.contains("with the mybuilder builder plugin"), "{out}");
    assert_eq!(curl("10.200.0.1", "/version", Some("custombuild.test")), (200, version));

    // A builder that may not run docker: stopped, naming the plugin and the program.
    let yml = std::fs::read_to_string(app.path().join("config/deploy.yml")).unwrap();
    app.write(
        "config/deploy.yml",
        &yml.replace("programs: [\"docker **unchecked\"]", "programs: [\"docker version\"]"),
    );
    app.commit("builder without docker");
    let out = app.wharf(&["deploy"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("plugin mybuilder: capability program docker with arguments"), "{err}");
    app.ok(&["remove", "-y"]);

    // Config errors name the key, before anything runs.
    let yml = deploy_yml("badplug", "badplug.test", "", "")
        + "x-wharf:\n  plugins:\n    x:\n      source: https://example.com/x.wasm\n";
    app.write("config/deploy.yml", &yml);
    let out = app.wharf(&["deploy"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("x-wharf/plugins/x/sha256: is required for an https source"), "{}", stderr(&out));
    let yml = deploy_yml("badplug", "badplug.test", "", "") + "x-wharf:\n  hooks:\n    post-deploy: [ghost]\n";
    app.write("config/deploy.yml", &yml);
    let out = app.wharf(&["deploy"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("x-wharf/hooks/post-deploy: no plugin named ghost under x-wharf/plugins"),
        "{}",
        stderr(&out)
    );
    // A hook that is not a hook plugin.
    let yml = deploy_yml("badplug", "badplug.test", "", "")
        + "x-wharf:\n  plugins:\n    vault:\n      source: builtin:doppler\n  hooks:\n    pre-connect: [vault]\n";
    app.write("config/deploy.yml", &yml);
    let out = app.wharf(&["deploy"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("plugin vault is a secrets-adapter plugin, not a hook"), "{}", stderr(&out));
    // None of these got as far as a server: no lock was taken, no container booted.
    for host in ["10.200.0.1", "10.200.0.2"] {
        assert_eq!(on_host(lab, host, "ls -d .kamal/lock-badplug .kamal/apps/badplug 2>/dev/null"), "", "{host}");
        assert_eq!(on_host(lab, host, "docker ps -a -q --filter label=service=badplug"), "", "{host}");
    }
}

#[test]
fn a_secrets_adapter_shared_by_url_and_by_oci_reference_feeds_a_real_deploy() {
    let Some((_guard, lab)) = lab() else { return };
    let work = tempfile::tempdir().unwrap();
    // Pack the example adapter into one file, serve it over HTTPS (a CA of our own), push it to
    // the lab's registry.
    let dir = store_common::adapter_dir(work.path());
    let packed = work.path().join("file-secrets.wasm");
    let wharf = wharf_testkit::runner::Runner::new(crate::WHARF, work.path());
    let run = |args: &[&str]| wharf.ok(args);
    run(&["plugin", "pack", dir.to_str().unwrap(), "-o", packed.to_str().unwrap()]);
    let bytes = std::fs::read(&packed).unwrap();
    let sha = {
        let out = Command::new("sha256sum").arg(&packed).output().unwrap();
        String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
    };
    let server = store_common::https_server(vec![("/file-secrets.wasm".into(), bytes)]);
    let ca = work.path().join("ca.pem");
    std::fs::write(&ca, &server.ca_pem).unwrap();
    let reference = "oci://localhost:5000/wharf-plugins/file-secrets:e2e";
    let pushed = run(&["plugin", "push", packed.to_str().unwrap(), reference]);
    assert!(pushed.contains("sha256:"), "{pushed}");

    let app = AppDir::new(lab, WHARF);
    let extra = format!(
        r#"x-wharf:
  plugins:
    vault-url:
      source: {base}/file-secrets.wasm
      sha256: {sha}
      allow:
        directories: [vault]
    vault-oci:
      source: {reference}
      allow:
        directories: [vault]
"#,
        base = server.base
    );
    app.write("config/deploy.yml", &(deploy_yml("vaulted", "vaulted.test", "", "") + &extra));
    app.write("vault/app.json", r#"{"SECRET_TOKEN": "from-the-url-3f9a", "REGISTRY_PASSWORD": "from-oci-7c21"}"#);
    app.write(
        ".kamal/secrets",
        "FROM_URL=$(kamal secrets fetch --adapter vault-url --from vault/app.json SECRET_TOKEN)\n\
         SECRET_TOKEN=$(kamal secrets extract SECRET_TOKEN $FROM_URL)\n\
         FROM_OCI=$(kamal secrets fetch --adapter vault-oci --from vault/app.json REGISTRY_PASSWORD)\n\
         REGISTRY_PASSWORD=$(kamal secrets extract REGISTRY_PASSWORD $FROM_OCI)\n",
    );
    app.commit("secrets from a shared adapter");
    // The URL's certificate is trusted through WHARF_CA_FILE (set for the wharf processes this
    // test starts; harmless to the other tests of this binary).
    std::env::set_var("WHARF_CA_FILE", &ca);

    let printed = app.ok(&["secrets", "print"]);
    assert!(printed.contains("SECRET_TOKEN=from-the-url-3f9a"), "{printed}");
    assert!(printed.contains("REGISTRY_PASSWORD=from-oci-7c21"), "{printed}");
    let fetched = app.ok(&["secrets", "fetch", "-a", "vault-oci", "--from", "vault/app.json", "SECRET_TOKEN"]);
    assert_eq!(fetched.trim(), r#"{"SECRET_TOKEN":"from-the-url-3f9a"}"#);

    let out = app.wharf(&["setup"]);
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "{o}\n{e}");
    assert!(!o.contains("from-the-url-3f9a") && !e.contains("from-the-url-3f9a"), "a secret leaked:\n{o}\n{e}");
    // The secret the URL adapter fetched is in the app's env file on the servers (as Kamal
    // leaves it), and the app answers.
    let env = on_host(lab, "10.200.0.2", "cat .kamal/apps/vaulted/env/roles/web.env");
    assert!(env.contains("SECRET_TOKEN=from-the-url-3f9a"), "{env}");
    assert_eq!(curl("10.200.0.2", "/up", Some("vaulted.test")).0, 200);

    // `wharf plugin fetch` pins both in the lock file; a tampered pin stops the next use.
    app.ok(&["plugin", "fetch"]);
    let lock = std::fs::read_to_string(app.path().join(".kamal/plugins.lock")).unwrap();
    assert!(lock.contains(&sha), "{lock}");
    app.ok(&["remove", "-y"]);
    std::env::remove_var("WHARF_CA_FILE");
}
