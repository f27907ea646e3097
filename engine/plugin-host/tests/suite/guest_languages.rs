//! The Python and JavaScript kits end to end: builds `examples/hooks/python-check` (componentize-py,
//! `sdk/python/build.sh`), `examples/hooks/js-notify` (jco, `sdk/js/build.mjs`, both backends)
//! and a secrets adapter in each language (`tests/fixtures/lang`), loads them with the real host
//! and runs them.
//!
//! Built components are kept under `target/wasm-guests/lang/`, named by a hash of their sources
//! (kit, example, WIT, lock file), and their precompiled forms under
//! `target/wasm-guests/precompiled/`, so reruns neither rebuild nor recompile. The toolchains come
//! from `scripts/install-deps`; without them these tests fail (CI installs them, so a skip would
//! hide a defect).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use crate::common::{manifest, repo, Logs};
use sha2::{Digest, Sha256};
use wharf_plugin_host::{
    CallOptions, Grant, HookContext, HostConfig, Level, Plugin, PluginError, PluginHost, Stream, World,
};

const INSTALL: &str = "run scripts/install-deps (as root) to install the Python and JavaScript plugin toolchains";

/// Hex SHA-256 (first 16 digits) over the named files (relative to the repository) and `extra`.
fn source_hash(files: &[&str], extra: &str) -> String {
    let mut h = Sha256::new();
    for f in files {
        let path = repo().join(f);
        let mut paths = vec![];
        if path.is_dir() {
            for e in std::fs::read_dir(&path).unwrap() {
                let p = e.unwrap().path();
                if p.is_file() {
                    paths.push(p);
                }
            }
            paths.sort();
        } else {
            paths.push(path);
        }
        for p in paths {
            h.update(p.strip_prefix(repo()).unwrap().to_string_lossy().as_bytes());
            h.update(std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())));
        }
    }
    h.update(extra.as_bytes());
    hex::encode(h.finalize())[..16].to_string()
}

/// The component `name`, built by `build` (given the output path) unless a build of the same
/// sources is already there.
fn component(name: &str, sources: &[&str], extra: &str, build: impl FnOnce(&Path) -> Command) -> PathBuf {
    let dir = crate::common::guest_target_dir().join("lang");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{name}-{}.wasm", source_hash(sources, extra)));
    if !out.exists() {
        // Builds of older sources are of no more use.
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let file = e.file_name().to_string_lossy().into_owned();
            let hash = file.strip_prefix(&format!("{name}-")).and_then(|r| r.strip_suffix(".wasm"));
            if hash.is_some_and(|h| h.len() == 16 && h.chars().all(|c| c.is_ascii_hexdigit())) {
                let _ = std::fs::remove_file(e.path());
            }
        }
        let mut cmd = build(&out);
        let res =
            cmd.current_dir(repo()).output().unwrap_or_else(|e| panic!("{name}: cannot run {cmd:?}: {e}; {INSTALL}"));
        assert!(
            res.status.success() && out.exists(),
            "building {name} failed ({}):\n{}\n{}\nIf a toolchain is missing: {INSTALL}",
            res.status,
            String::from_utf8_lossy(&res.stdout),
            String::from_utf8_lossy(&res.stderr)
        );
    }
    out
}

const WIT: &str = "wit/wharf-plugin@0.1.0";

/// Builds are serialized: two tests may want the same component.
static BUILDING: Mutex<()> = Mutex::new(());

/// `app` (a Python module, relative to the repository) built with the Python kit for `world`.
fn python(name: &str, app: &str, world: &str) -> PathBuf {
    python_with(name, app, world, &[])
}

/// [`python`] with build `flags` (`--http`).
fn python_with(name: &str, app: &str, world: &str, flags: &[&str]) -> PathBuf {
    let _one = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    let cpy = std::env::var("COMPONENTIZE_PY").unwrap_or_else(|_| "/opt/wharf-py-venv/bin/componentize-py".into());
    let version = Command::new(&cpy)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .unwrap_or_else(|| panic!("componentize-py not found at {cpy}: {INSTALL}"));
    let sources = ["sdk/python/build.sh", "sdk/python/wharf_plugin", "sdk/python/wasi-wit", app, WIT];
    let extra = format!("{world} {flags:?} {}", String::from_utf8_lossy(&version.stdout));
    component(name, &sources, &extra, |out| {
        let mut c = Command::new("bash");
        c.arg("sdk/python/build.sh").arg(app).arg("-o").arg(out).args(["-w", world]).args(flags);
        c.env("COMPONENTIZE_PY", &cpy);
        c
    })
}

/// `app` (an ES module, relative to the repository) built with the JavaScript kit for `world`
/// with `backend` and `flags` (`--http`).
fn js(name: &str, app: &str, world: &str, backend: &str, flags: &[&str]) -> PathBuf {
    let _one = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    assert!(
        repo().join("sdk/js/node_modules/.bin/jco").exists(),
        "sdk/js/node_modules has no jco: {INSTALL} (it runs `npm ci` in sdk/js)"
    );
    let sources = ["sdk/js/build.mjs", "sdk/js/src/index.js", "sdk/js/package-lock.json", app, WIT];
    component(&format!("{name}-{backend}"), &sources, &format!("{world} {backend} {flags:?}"), |out| {
        let mut c = Command::new("node");
        c.arg("sdk/js/build.mjs").arg(app).arg("-o").arg(out).args(["-w", world, "--backend", backend]).args(flags);
        c
    })
}

fn python_check() -> PathBuf {
    python("python-check", "examples/hooks/python-check/check.py", "hook")
}

fn js_notify(backend: &str) -> PathBuf {
    js("js-notify", "examples/hooks/js-notify/notify.js", "hook", backend, &[])
}

/// One host for this file, with a persistent precompiled cache (compiling a Python component
/// takes seconds). Precompiled files of components no longer under `lang/` (older builds) are
/// removed first: each is tens of MB.
fn host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| {
        let cache = crate::common::guest_target_dir().join("precompiled");
        let live: Vec<String> = std::fs::read_dir(crate::common::guest_target_dir().join("lang"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read(e.path()).ok())
            .map(|wasm| hex::encode(Sha256::digest(&wasm)))
            .collect();
        for e in std::fs::read_dir(&cache).into_iter().flatten().flatten() {
            let file = e.file_name().to_string_lossy().into_owned();
            if file.ends_with(".cwasm") && !live.iter().any(|d| file.starts_with(d.as_str())) {
                let _ = std::fs::remove_file(e.path());
            }
        }
        PluginHost::new(HostConfig { cache_dir: Some(cache), ..HostConfig::default() }).unwrap()
    })
}

fn load(dir: &str, wasm: &Path) -> Plugin {
    host().load(manifest(dir), &std::fs::read(wasm).unwrap()).unwrap()
}

fn ctx(name: &str, env: &[(&str, &str)]) -> HookContext {
    HookContext { name: name.into(), env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
}

/// A project directory with `config/deploy.yml`.
fn project(deploy_yml: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join("config")).unwrap();
    std::fs::create_dir_all(root.join(".kamal")).unwrap();
    std::fs::write(root.join("config/deploy.yml"), deploy_yml).unwrap();
    (tmp, root)
}

const DEPLOY_YML: &str = "# the app\nservice: hello\nimage: acme/hello\nservers:\n  - 10.0.0.1\n";

#[tokio::test]
async fn python_check_passes_a_committed_version_and_refuses_an_uncommitted_one() {
    let plugin = load("examples/hooks/python-check", &python_check());
    assert_eq!(plugin.world(), World::Hook);
    let (_tmp, root) = project(DEPLOY_YML);
    let grant = Grant::new().workdir(&root).directory(".");
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());

    let ok = ctx("pre-deploy", &[("KAMAL_SERVICE", "hello"), ("KAMAL_VERSION", "abc123")]);
    plugin.run_hook(&ok, &grant, &opts).await.unwrap_or_else(|e| panic!("{e}\n{}", logs.all()));
    assert_eq!(logs.said(), ["pre-deploy check passed: hello abc123 (acme/hello)"]);
    let records = logs.0.lock().unwrap().clone();
    assert!(records.iter().all(|r| r.plugin == "python-check" && r.stream == Stream::Log), "{records:?}");

    // Built from uncommitted changes: refused, with a message saying what to do.
    let dirty = ctx("pre-deploy", &[("KAMAL_SERVICE", "hello"), ("KAMAL_VERSION", "abc123_uncommitted_9f8e7d6c")]);
    let err = plugin.run_hook(&dirty, &grant, &opts).await.unwrap_err();
    assert!(matches!(err, PluginError::Failed { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "plugin python-check failed: refusing to deploy abc123_uncommitted_9f8e7d6c: it was built from \
         uncommitted changes; commit them, or create .kamal/allow-uncommitted to allow it"
    );

    // The project's allow flag lets it through, with a warning.
    std::fs::write(root.join(".kamal/allow-uncommitted"), "").unwrap();
    let logs = Logs::default();
    plugin.run_hook(&dirty, &grant, &CallOptions::new().log(logs.sink())).await.unwrap();
    let levels: Vec<Level> =
        logs.0.lock().unwrap().iter().filter(|r| r.level >= Level::Info).map(|r| r.level).collect();
    assert_eq!(levels, [Level::Warn, Level::Info]);
    assert_eq!(
        logs.said(),
        [
            "deploying uncommitted changes (abc123_uncommitted_9f8e7d6c): .kamal/allow-uncommitted allows it",
            "pre-deploy check passed: hello abc123_uncommitted_9f8e7d6c (acme/hello)"
        ]
    );
}

#[tokio::test]
async fn python_check_reads_deploy_yml_and_names_itself_when_the_directory_is_not_granted() {
    let plugin = load("examples/hooks/python-check", &python_check());
    let (_tmp, root) = project("service: other\nimage: acme/other\n");
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    let c = ctx("pre-deploy", &[("KAMAL_SERVICE", "hello"), ("KAMAL_VERSION", "abc123")]);

    let err = plugin.run_hook(&c, &Grant::new().workdir(&root).directory("."), &opts).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin python-check failed: config/deploy.yml names service 'other', but 'hello' is being deployed"
    );

    // Without the directory grant the file cannot be read, and the error names the plugin and
    // the capability.
    let err = plugin.run_hook(&c, &Grant::new().workdir(&root), &opts).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(
            "plugin python-check failed: cannot read config/deploy.yml: plugin python-check: capability directory"
        ),
        "{msg}"
    );
    assert!(msg.ends_with("not granted"), "{msg}");
}

/// A git repository with one commit; returns its directory and the commit's hash.
fn git_repo() -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(&root)
            .output()
            .expect("git");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    git(&["init", "-q"]);
    git(&["commit", "-q", "--allow-empty", "-m", "first"]);
    let sha = git(&["rev-parse", "HEAD"]);
    (tmp, root, sha)
}

const DEPLOY_ENV: &[(&str, &str)] = &[
    ("KAMAL_SERVICE", "hello"),
    ("KAMAL_VERSION", "abc123"),
    ("KAMAL_PERFORMER", "alice"),
    ("KAMAL_DESTINATION", "production"),
    ("KAMAL_HOSTS", "10.0.0.1,10.0.0.2"),
    ("KAMAL_RUNTIME", "42"),
];

async fn js_notify_runs(backend: &str) {
    let plugin = load("examples/hooks/js-notify", &js_notify(backend));
    assert_eq!(plugin.world(), World::Hook);
    let (_tmp, root, sha) = git_repo();
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());

    // Granted `git rev-parse HEAD`: the summary names the commit, read by the real git.
    let grant = Grant::new().workdir(&root).program("git", ["rev-parse", "HEAD"]);
    plugin
        .run_hook(&ctx("post-deploy", DEPLOY_ENV), &grant, &opts)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", logs.all()));
    assert_eq!(
        logs.said(),
        [format!("hello abc123 deployed by alice to production on 10.0.0.1, 10.0.0.2 in 42s (commit {})", &sha[..12])]
    );
    assert!(logs.0.lock().unwrap().iter().all(|r| r.plugin == "js-notify"));

    // Not granted: the denial names the plugin and the program, and the hook goes on.
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    plugin.run_hook(&ctx("post-deploy", DEPLOY_ENV), &Grant::new().workdir(&root), &opts).await.unwrap();
    assert_eq!(
        logs.said(),
        [
            "no commit in the summary: plugin js-notify: capability program git not granted",
            "hello abc123 deployed by alice to production on 10.0.0.1, 10.0.0.2 in 42s"
        ]
    );
    let levels: Vec<Level> =
        logs.0.lock().unwrap().iter().filter(|r| r.level >= Level::Info).map(|r| r.level).collect();
    assert_eq!(levels, [Level::Warn, Level::Info]);

    // A thrown HookFailed fails the hook with its message.
    let err = plugin.run_hook(&ctx("post-deploy", &[]), &grant, &opts).await.unwrap_err();
    assert!(matches!(err, PluginError::Failed { .. }), "{err:?}");
    assert_eq!(err.to_string(), "plugin js-notify failed: KAMAL_VERSION is not set");
}

#[tokio::test]
async fn js_notify_logs_the_summary_with_the_commit_from_git_quickjs() {
    js_notify_runs("quickjs").await;
}

#[tokio::test]
async fn js_notify_logs_the_summary_with_the_commit_from_git_starlingmonkey() {
    js_notify_runs("starlingmonkey").await;
}

/// The secrets-adapter world through both kits (tests/fixtures/lang): values from a granted
/// program, masked in the adapter's own log; `print` / `console.log` in order with `log`; a
/// failure's message; an unexpected exception.
async fn secrets_adapter_runs(plugin: Plugin, crash: &str) {
    assert_eq!(plugin.world(), World::SecretsAdapter);
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    let grant =
        Grant::new().program("printenv", ["*"]).env("DB_PASSWORD", "pa55-w0rd-xyz").env("API_KEY", "k3y-123456");
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let got = plugin
        .fetch_secrets(Some("acme"), Some("prod"), &names(&["DB_PASSWORD", "API_KEY"]), &grant, &opts)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", logs.all()));
    assert_eq!(
        got,
        [("prod/DB_PASSWORD".to_string(), "pa55-w0rd-xyz".to_string()), ("prod/API_KEY".into(), "k3y-123456".into())]
    );
    assert_eq!(logs.said(), ["fetching 2 secrets", "fetched DB_PASSWORD = [REDACTED]", "fetched API_KEY = [REDACTED]"]);

    let err = plugin.fetch_secrets(None, None, &names(&["NOPE"]), &grant, &opts).await.unwrap_err();
    assert!(matches!(err, PluginError::Failed { .. }), "{err:?}");
    assert_eq!(err.to_string(), "plugin kit-secrets failed: secret NOPE not found: printenv exited with 1");
    let err = plugin.fetch_secrets(None, None, &names(&["API_KEY"]), &Grant::new(), &opts).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin kit-secrets failed: secret API_KEY not found: plugin kit-secrets: capability program printenv not granted"
    );
    let err = plugin.fetch_secrets(None, None, &names(&["CRASH"]), &grant, &opts).await.unwrap_err();
    assert!(matches!(err, PluginError::Failed { .. }), "{err:?}");
    assert!(err.to_string().starts_with(&format!("plugin kit-secrets failed: {crash}")), "{err}");
}

const FIXTURES: &str = "engine/plugin-host/tests/fixtures/lang/secrets";

#[tokio::test]
async fn a_python_secrets_adapter() {
    let wasm = python("kit-secrets-py", &format!("{FIXTURES}/env_secrets.py"), "secrets-adapter");
    secrets_adapter_runs(load(FIXTURES, &wasm), "ZeroDivisionError: division by zero").await;
}

#[tokio::test]
async fn a_javascript_secrets_adapter() {
    for backend in ["quickjs", "starlingmonkey"] {
        let wasm = js("kit-secrets", &format!("{FIXTURES}/env_secrets.js"), "secrets-adapter", backend, &[]);
        secrets_adapter_runs(load(FIXTURES, &wasm), "TypeError: ").await;
    }
}

/// A one-thread HTTP server on 127.0.0.1 answering each request with `status` and `body` (a
/// path ending in `/fail`: 500), and sending what it received (request line, body) to the test.
fn webhook_server() -> (u16, std::sync::mpsc::Receiver<(String, String)>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream);
            let (mut line, mut first, mut length) = (String::new(), String::new(), 0usize);
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                if first.is_empty() {
                    first = line.trim_end().to_string();
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let (status, text) =
                if first.contains("/fail ") { ("500 Internal Server Error", "nope") } else { ("200 OK", "thanks") };
            let _ = tx.send((first, String::from_utf8_lossy(&body).into_owned()));
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (port, rx)
}

/// The webhook fixture (`tests/fixtures/lang/webhook`, either language) against a real server:
/// a granted POST arrives and its answer is logged; a 500 fails the hook with the fixture's
/// message; without the grant the request never leaves and the host logs the denial naming the
/// plugin and the host. Returns the denied call's error, which differs by language.
async fn webhook_posts_to_a_granted_host_only(plugin: Plugin) -> (PluginError, u16) {
    let (port, received) = webhook_server();
    let env = |path: &str| {
        let url = format!("http://127.0.0.1:{port}{path}");
        ctx("post-deploy", &[("KAMAL_SERVICE", "hello"), ("KAMAL_VERSION", "abc123"), ("WEBHOOK_URL", &url)])
    };
    let grant = Grant::new().host(format!("127.0.0.1:{port}"));
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());

    plugin.run_hook(&env("/hook"), &grant, &opts).await.unwrap_or_else(|e| panic!("{e}\n{}", logs.all()));
    assert_eq!(logs.said(), ["webhook answered 200: thanks"]);
    let (request, body) = received.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    assert_eq!(request, "POST /hook HTTP/1.1");
    assert_eq!(body, r#"{"text":"hello abc123 deployed"}"#);

    let err = plugin.run_hook(&env("/fail"), &grant, &opts).await.unwrap_err();
    assert!(matches!(err, PluginError::Failed { .. }), "{err:?}");
    assert_eq!(err.to_string(), "plugin kit-webhook failed: webhook answered 500: nope");
    assert_eq!(received.recv_timeout(std::time::Duration::from_secs(5)).unwrap().0, "POST /fail HTTP/1.1");

    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    let err = plugin.run_hook(&env("/hook"), &Grant::new(), &opts).await.unwrap_err();
    let denial = format!("plugin kit-webhook: capability host 127.0.0.1:{port} not granted");
    assert!(logs.messages().contains(&denial), "{:?}", logs.messages());
    assert!(received.try_recv().is_err(), "the denied request reached the server");
    (err, port)
}

const WEBHOOK: &str = "engine/plugin-host/tests/fixtures/lang/webhook";

#[tokio::test]
async fn an_async_javascript_hook_posts_with_fetch_to_a_granted_host_only() {
    let wasm = js("kit-webhook", &format!("{WEBHOOK}/webhook.js"), "hook", "starlingmonkey", &["--http"]);
    let (err, _) = webhook_posts_to_a_granted_host_only(load(WEBHOOK, &wasm)).await;
    // StarlingMonkey aborts on the refused request (the call fails, naming the plugin).
    assert!(err.to_string().starts_with("plugin kit-webhook "), "{err}");
}

#[tokio::test]
async fn a_python_hook_posts_with_wharf_plugin_http_to_a_granted_host_only() {
    let wasm = python_with("kit-webhook-py", &format!("{WEBHOOK}/webhook.py"), "hook", &["--http"]);
    let (err, port) = webhook_posts_to_a_granted_host_only(load(WEBHOOK, &wasm)).await;
    // In Python the refusal is an ordinary error the hook reports.
    assert_eq!(
        err.to_string(),
        format!("plugin kit-webhook failed: webhook unreachable: http://127.0.0.1:{port}/hook: HttpRequestDenied")
    );
}
