//! The plugin host against real components: the Rust example hook and the attack plugins.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::common::{manifest, wasm, Logs};
use wharf_plugin_host::{
    CallOptions, Grant, HookContext, HostConfig, Level, LoadSource, Manifest, Plugin, PluginError, PluginHost, Stream,
    World,
};

/// One host for the tests of this file (compiling is what costs; the cache is per process).
fn host() -> &'static PluginHost {
    static HOST: OnceLock<(PluginHost, tempfile::TempDir)> = OnceLock::new();
    &HOST
        .get_or_init(|| {
            let cache = tempfile::tempdir().unwrap();
            let config = HostConfig { cache_dir: Some(cache.path().join("plugins")), ..HostConfig::default() };
            (PluginHost::new(config).unwrap(), cache)
        })
        .0
}

fn load(dir: &str, crate_name: &str) -> Plugin {
    host().load(manifest(dir), &wasm(crate_name)).unwrap()
}

fn attack(name: &str) -> Plugin {
    load(&format!("plugins/attacks/{name}"), name)
}

fn ctx(name: &str, env: &[(&str, &str)]) -> HookContext {
    HookContext { name: name.into(), env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
}

#[tokio::test]
async fn rust_hook_runs_and_its_log_line_arrives_with_secrets_masked() {
    let plugin = load("examples/hooks/rust-notify", "rust-notify");
    assert_eq!(plugin.world(), World::Hook);
    assert_eq!(plugin.api_version(), "0.1.0");
    let logs = Logs::default();
    let token = "T0KEN-8f2b9c1d";
    let ctx = ctx(
        "post-deploy",
        &[
            ("KAMAL_SERVICE", "hello"),
            ("KAMAL_VERSION", "abc123"),
            ("KAMAL_PERFORMER", "alice"),
            ("KAMAL_HOSTS", "10.0.0.1,10.0.0.2"),
            ("KAMAL_RUNTIME", "42"),
            ("NOTIFY_WEBHOOK_URL", &format!("https://hooks.example.com/services/{token}")),
        ],
    );
    let opts = CallOptions::new().secrets([token]).log(logs.sink());
    // The webhook's host is not granted: the POST is refused, the hook fails, and the token in
    // the URL stays masked in the log and in the error.
    let err = plugin.run_hook(&ctx, &Grant::new(), &opts).await.unwrap_err().to_string();
    assert_eq!(
        err,
        "plugin rust-notify failed: posting to the webhook failed: https://hooks.example.com/services/[REDACTED]: ErrorCode::HttpRequestDenied"
    );
    let messages = logs.messages();
    assert_eq!(
        messages,
        [
            "hello abc123 deployed by alice on 10.0.0.1, 10.0.0.2 in 42s",
            "plugin rust-notify: capability host hooks.example.com not granted"
        ],
        "{messages:?}"
    );
    let records = logs.0.lock().unwrap().clone();
    assert!(records.iter().all(|r| r.plugin == "rust-notify"));
    assert_eq!((records[0].stream, records[1].stream, records[1].level), (Stream::Log, Stream::Host, Level::Error));
    assert!(!logs.all().contains(token));

    // A missing variable fails the hook, with the plugin's message.
    let err = plugin.run_hook(&self::ctx("post-deploy", &[]), &Grant::new(), &opts).await.unwrap_err();
    assert_eq!(err.to_string(), "plugin rust-notify failed: KAMAL_VERSION is not set");
}

#[tokio::test]
async fn endless_loop_is_stopped_by_the_deadline_and_the_engine_keeps_working() {
    let plugin = attack("endless-loop");
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    let grant = Grant::new().timeout(Duration::from_secs(2));
    let started = Instant::now();
    let err = plugin.run_hook(&ctx("post-deploy", &[]), &grant, &opts).await.unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, PluginError::Timeout { .. }), "{err:?}");
    assert_eq!(err.to_string(), "plugin endless-loop timed out after 2s");
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(4), "took {took:?}");
    assert_eq!(logs.messages(), ["spinning"]);

    // The same plugin (a fresh instance) and another one still run.
    plugin.run_hook(&ctx("once", &[]), &grant, &opts).await.unwrap();
    let notify = load("examples/hooks/rust-notify", "rust-notify");
    notify.run_hook(&ctx("post-deploy", &[("KAMAL_VERSION", "v2")]), &Grant::new(), &opts).await.unwrap();
    assert_eq!(logs.messages(), ["spinning", "returning at once", "the service v2 deployed"]);
}

#[tokio::test]
async fn a_panic_is_a_crash_naming_the_plugin_and_its_stderr_is_logged() {
    let plugin = attack("endless-loop");
    let logs = Logs::default();
    let opts = CallOptions::new().secrets(["hunter2"]).log(logs.sink());
    let err = plugin.run_hook(&ctx("panic", &[("WHERE", "hunter2")]), &Grant::new(), &opts).await.unwrap_err();
    assert!(matches!(err, PluginError::Trap { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with("plugin endless-loop crashed: wasm trap: wasm `unreachable` instruction executed"),
        "{msg}"
    );
    assert!(msg.contains("boom in [REDACTED]"), "{msg}");
    let records = logs.0.lock().unwrap().clone();
    let stderr: Vec<_> = records.iter().filter(|r| r.stream == Stream::Stderr).map(|r| r.message.as_str()).collect();
    assert!(stderr.iter().any(|l| l.contains("boom in [REDACTED]")), "{stderr:?}");
    assert!(!format!("{records:?}{msg}").contains("hunter2"));
}

#[tokio::test]
async fn a_busy_plugin_does_not_block_other_tasks() {
    // On a single-threaded runtime, a spinning guest must still let a timer fire: the epoch
    // callback yields to the executor every tick.
    let plugin = attack("endless-loop");
    let grant = Grant::new().timeout(Duration::from_millis(1500));
    let opts = CallOptions::new().log(Logs::default().sink());
    let ticker = tokio::spawn(async {
        let started = Instant::now();
        tokio::time::sleep(Duration::from_millis(100)).await;
        started.elapsed()
    });
    let err = plugin.run_hook(&ctx("post-deploy", &[]), &grant, &opts).await.unwrap_err();
    assert_eq!(err.to_string(), "plugin endless-loop timed out after 1500ms");
    let slept = ticker.await.unwrap();
    assert!(slept < Duration::from_millis(1000), "the timer fired after {slept:?}");
}

#[tokio::test]
async fn memory_bomb_is_stopped_by_the_memory_limit() {
    let plugin = attack("memory-bomb");
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    let err = plugin.run_hook(&ctx("post-deploy", &[]), &Grant::new(), &opts).await.unwrap_err();
    assert!(matches!(err, PluginError::MemoryLimit { .. }), "{err:?}");
    assert_eq!(err.to_string(), "plugin memory-bomb exceeded its memory limit (128 MiB)");
    assert!(logs.messages().contains(&"holding 64 MiB".to_string()), "{:?}", logs.messages());

    // A smaller grant stops it sooner.
    let err = plugin.run_hook(&ctx("post-deploy", &[]), &Grant::new().memory(32 << 20), &opts).await.unwrap_err();
    assert_eq!(err.to_string(), "plugin memory-bomb exceeded its memory limit (32 MiB)");
}

#[tokio::test]
async fn a_program_not_granted_is_refused() {
    let plugin = attack("exec-ungranted");
    let opts = CallOptions::new().log(Logs::default().sink());
    // Declared in the manifest (sh, any arguments), not granted.
    let err = plugin.run_hook(&ctx("pre-deploy", &[]), &Grant::new(), &opts).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin exec-ungranted failed: refused: plugin exec-ungranted: capability program sh not granted"
    );
    // Granted with other arguments only.
    let grant = Grant::new().program("sh", ["-c", "true"]);
    let err = plugin.run_hook(&ctx("pre-deploy", &[]), &grant, &opts).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"plugin exec-ungranted failed: refused: plugin exec-ungranted: capability program sh with arguments ["-c", "id"] not granted"#
    );
    // Granted by the user but not declared by the manifest.
    let grant = Grant::new().program("id", ["**"]);
    let err =
        plugin.run_hook(&ctx("pre-deploy", &[("PROGRAM", "id"), ("ARGS", "-u")]), &grant, &opts).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin exec-ungranted failed: refused: plugin exec-ungranted: capability program id not granted (its manifest does not declare it)"
    );
    // Declared and granted: it runs, without a shell and with an empty environment.
    let grant = Grant::new().program("echo", ["**"]);
    let err = plugin
        .run_hook(&ctx("pre-deploy", &[("PROGRAM", "echo"), ("ARGS", "hello $HOME *")]), &grant, &opts)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), r#"plugin exec-ungranted failed: ran echo: exit Some(0), stdout "hello $HOME *""#);
    // The manifest-and-grant check, for an engine that refuses up front.
    assert_eq!(
        plugin.check_grant(&Grant::new().program("echo", ["**"])).unwrap_err().to_string(),
        "plugin exec-ungranted: capability program sh not granted"
    );
}

#[tokio::test]
async fn files_outside_the_grant_cannot_be_read() {
    let plugin = attack("read-ssh");
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    // Nothing granted: every attempt fails, and the plugin says so.
    plugin.run_hook(&ctx("pre-connect", &[("HOME", "/root")]), &Grant::new(), &opts).await.unwrap();
    let all = logs.all();
    assert!(
        all.contains(
            "files::read(/root/.ssh/id_ed25519): plugin read-ssh: capability directory /root/.ssh not granted"
        ),
        "{all}"
    );
    assert!(all.contains("std::fs::read(/etc/passwd):"), "{all}");
    // Granting one of the declared directories makes it readable through `files` and WASI.
    let err = plugin.run_hook(&ctx("pre-connect", &[]), &Grant::new().directory("/etc"), &opts).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("plugin read-ssh failed: sandbox escaped: "), "{msg}");
    assert!(msg.contains("files::read(/etc/passwd) returned"), "{msg}");
    assert!(msg.contains("std::fs::read(/etc/passwd) returned"), "{msg}");
    assert!(!msg.contains(".ssh"), "{msg}");
}

#[tokio::test]
async fn output_floods_are_stopped_by_the_output_limit() {
    let plugin = attack("output-flood");
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    let err = plugin.run_hook(&ctx("stdout", &[]), &Grant::new(), &opts).await.unwrap_err();
    assert_eq!(err.to_string(), "plugin output-flood exceeded its output limit (1 MiB)");
    let stdout_lines = logs.0.lock().unwrap().iter().filter(|r| r.stream == Stream::Stdout).count();
    assert!(stdout_lines > 500, "{stdout_lines} lines");
    let err = plugin.run_hook(&ctx("log", &[]), &Grant::new().output(64 << 10), &opts).await.unwrap_err();
    assert_eq!(err.to_string(), "plugin output-flood exceeded its output limit (64 KiB)");
}

#[tokio::test]
async fn a_plugin_is_called_only_through_its_world() {
    let plugin = load("examples/hooks/rust-notify", "rust-notify");
    let err = plugin.fetch_secrets(None, None, &[], &Grant::new(), &CallOptions::new()).await.unwrap_err();
    assert_eq!(err.to_string(), "plugin rust-notify is a hook plugin, not a secrets-adapter");
    let mut m = manifest("examples/hooks/rust-notify");
    m.world = World::Builder;
    let err = host().load(m, &wasm("rust-notify")).err().unwrap();
    assert!(err.to_string().starts_with("plugin rust-notify: does not implement the builder world"), "{err}");
    let err = host().load(manifest("examples/hooks/rust-notify"), b"\0asm not really").err().unwrap();
    assert!(err.to_string().starts_with("plugin rust-notify: invalid component"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_get_their_own_instances() {
    let plugin = load("examples/hooks/rust-notify", "rust-notify");
    let mut tasks = vec![];
    for i in 0..16 {
        let plugin = plugin.clone();
        tasks.push(tokio::spawn(async move {
            let logs = Logs::default();
            let ctx = ctx("post-deploy", &[("KAMAL_VERSION", &format!("v{i}"))]);
            plugin.run_hook(&ctx, &Grant::new(), &CallOptions::new().log(logs.sink())).await.unwrap();
            logs.messages()
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.unwrap(), [format!("the service v{i} deployed")]);
    }
}

#[test]
fn the_second_engine_start_loads_the_precompiled_component_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("state/plugin-cache.key");
    let config = || HostConfig {
        cache_dir: Some(dir.path().join("cache")),
        cache_key_file: Some(key.clone()),
        ..HostConfig::default()
    };
    let wasm = wasm("rust-notify");
    let m: Manifest = manifest("examples/hooks/rust-notify");

    let first = PluginHost::new(config()).unwrap();
    let p = first.load(m.clone(), &wasm).unwrap();
    assert_eq!(p.load_source(), LoadSource::Compiled);
    let file = p.cache_file().expect("written to the cache").to_path_buf();
    assert!(file.is_file());
    assert!(file.file_name().unwrap().to_str().unwrap().starts_with(p.digest()));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(dir.path().join("cache")).unwrap().permissions().mode() & 0o777, 0o700);
    drop(p);
    drop(first);

    let second = PluginHost::new(config()).unwrap();
    let p = second.load(m.clone(), &wasm).unwrap();
    assert_eq!(p.load_source(), LoadSource::Cache);
    assert_eq!(p.cache_file(), Some(file.as_path()));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let logs = Logs::default();
    rt.block_on(p.run_hook(
        &ctx("post-deploy", &[("KAMAL_VERSION", "cached")]),
        &Grant::new(),
        &CallOptions::new().log(logs.sink()),
    ))
    .unwrap();
    assert_eq!(logs.messages(), ["the service cached deployed"]);

    // A file others could have written is not trusted: compiled again (and rewritten).
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let p = second.load(m.clone(), &wasm).unwrap();
    assert_eq!(p.load_source(), LoadSource::Compiled);
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    // Garbage in the cache is not loaded either.
    std::fs::write(&file, b"not a precompiled component").unwrap();
    let p = second.load(m.clone(), &wasm).unwrap();
    assert_eq!(p.load_source(), LoadSource::Compiled);
    assert_eq!(second.load(m.clone(), &wasm).unwrap().load_source(), LoadSource::Cache);
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);

    // A byte patched in the precompiled code: compiled again.
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(&file, &bytes).unwrap();
    assert_eq!(second.load(m.clone(), &wasm).unwrap().load_source(), LoadSource::Compiled);
    // Another component's (authentic) file swapped in under this one's name: compiled again.
    let other = second.load(manifest("plugins/attacks/endless-loop"), &crate::common::wasm("endless-loop")).unwrap();
    std::fs::copy(other.cache_file().unwrap(), &file).unwrap();
    assert_eq!(second.load(m.clone(), &wasm).unwrap().load_source(), LoadSource::Compiled);
    // A cache restored from elsewhere (written under another key): compiled again.
    drop(second);
    let elsewhere = HostConfig { cache_key_file: Some(dir.path().join("elsewhere.key")), ..config() };
    let third = PluginHost::new(elsewhere).unwrap();
    assert_eq!(third.load(m.clone(), &wasm).unwrap().load_source(), LoadSource::Compiled);
    assert_eq!(third.load(m, &wasm).unwrap().load_source(), LoadSource::Cache);
}

#[tokio::test]
async fn the_on_demand_allocator_works_too() {
    // The pooling allocator is used when the address space can be reserved (it can here).
    assert_eq!(host().allocator(), wharf_plugin_host::Allocator::Pooling);
    let host = PluginHost::new(HostConfig { cache_dir: None, pooling: false, ..HostConfig::default() }).unwrap();
    assert_eq!(host.allocator(), wharf_plugin_host::Allocator::OnDemand);
    let plugin = host.load(manifest("examples/hooks/rust-notify"), &wasm("rust-notify")).unwrap();
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    plugin.run_hook(&ctx("post-deploy", &[("KAMAL_VERSION", "od")]), &Grant::new(), &opts).await.unwrap();
    assert_eq!(logs.messages(), ["the service od deployed"]);
    let bomb = host.load(manifest("plugins/attacks/memory-bomb"), &wasm("memory-bomb")).unwrap();
    let err = bomb.run_hook(&ctx("x", &[]), &Grant::new().memory(16 << 20), &opts).await.unwrap_err();
    assert_eq!(err.to_string(), "plugin memory-bomb exceeded its memory limit (16 MiB)");
}

#[tokio::test]
async fn the_network_is_off() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let plugin = attack("net-connect");
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    // Even a grant of the hosts the manifest lists opens no socket (they are for wasi:http).
    let grant = Grant::new().host("127.0.0.1").host("localhost");
    plugin.run_hook(&ctx("post-deploy", &[("TARGET", &target)]), &grant, &opts).await.unwrap();
    let said = logs.said();
    assert_eq!(said.len(), 3, "{said:?}");
    assert!(said[0].starts_with(&format!("tcp connect {target}: ")), "{said:?}");
    assert!(said[1].starts_with("resolve localhost: "), "{said:?}");
    assert!(said[2].starts_with(&format!("udp send {target}: ")), "{said:?}");
    assert!(listener.accept().is_err(), "a connection arrived");
}

/// An HTTP server on loopback answering `hello` to each request; the count of requests.
fn http_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello");
        }
    });
    (addr, hits)
}

#[tokio::test]
async fn http_reaches_only_granted_hosts() {
    let (allowed, allowed_hits) = http_server();
    let (denied, denied_hits) = http_server();
    let plugin = attack("http-ungranted");
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    // The manifest declares any port of 127.0.0.1; the user grants one.
    let grant = Grant::new().host(allowed.clone());
    let denied_urls = format!("http://{denied}/x http://evil.example/");
    let env = [("ALLOWED_URL", format!("http://{allowed}/ok")), ("DENIED_URLS", denied_urls)];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    plugin.run_hook(&ctx("post-deploy", &env), &grant, &opts).await.unwrap_or_else(|e| panic!("{e}\n{}", logs.all()));
    assert_eq!(allowed_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(denied_hits.load(std::sync::atomic::Ordering::SeqCst), 0, "a request reached the ungranted host");
    let all = logs.all();
    assert!(all.contains("allowed: 200 hello"), "{all}");
    assert!(all.contains(&format!("plugin http-ungranted: capability host {denied} not granted")), "{all}");
    assert!(
        all.contains(
            "plugin http-ungranted: capability host evil.example not granted (its manifest does not declare it)"
        ),
        "{all}"
    );
    assert_eq!(all.matches("refused: ").count(), 2, "{all}");
    // Without any grant, even the declared host is refused.
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    let err = plugin.run_hook(&ctx("post-deploy", &env), &Grant::new(), &opts).await.unwrap_err();
    assert!(err.to_string().starts_with("plugin http-ungranted failed: the granted host failed:"), "{err}");
    assert!(logs.all().contains(&format!("plugin http-ungranted: capability host {allowed} not granted")));
}

/// A FIFO in `dir` nobody writes to.
fn fifo(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("fifo");
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    path
}

/// Lets whatever is blocked opening or reading `fifo` go (so the runtime can shut down).
fn release_fifo(fifo: &std::path::Path) {
    use std::os::unix::fs::OpenOptionsExt;
    for _ in 0..50 {
        if std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(fifo).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_read_is_refused_or_cut_short_by_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let target = fifo(dir.path());
    let plugin = attack("fifo-read");
    let opts = CallOptions::new().log(Logs::default().sink());
    let grant = Grant::new().workdir(dir.path()).directory(".").timeout(Duration::from_secs(2));
    let env = [("TARGET", target.to_str().unwrap())];
    // Through `files`: opened without blocking, refused as not a regular file.
    let err = plugin.run_hook(&ctx("files", &env), &grant, &opts).await.unwrap_err();
    assert_eq!(err.to_string(), format!("plugin fifo-read failed: refused: {}: not a regular file", target.display()));
    // Through WASI, which blocks opening it: the deadline still ends the call, on time.
    let started = Instant::now();
    let err = plugin.run_hook(&ctx("wasi", &env), &grant, &opts).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.to_string(), "plugin fifo-read timed out after 2s");
    assert!(took < Duration::from_secs(10), "{took:?}");
    // The host goes on working.
    let notify = load("examples/hooks/rust-notify", "rust-notify");
    notify.run_hook(&ctx("post-deploy", &[("KAMAL_VERSION", "after")]), &Grant::new(), &opts).await.unwrap();
    release_fifo(&target);
}

#[tokio::test]
async fn the_host_lines_about_denials_count_against_the_output_limit() {
    // A secrets adapter asking for an ungranted host without end: every refusal is a host
    // line charged to the plugin, so the output limit stops it, with what the host keeps
    // bounded by that limit.
    let plugin = attack("denied-flood");
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    let rss_before = rss_kib();
    let err = plugin
        .fetch_secrets(None, Some("denied.example"), &["A".into()], &Grant::new().output(256 << 10), &opts)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "plugin denied-flood exceeded its output limit (256 KiB)");
    let lines = logs.0.lock().unwrap().len();
    assert!(lines > 1000 && lines < 10_000, "{lines} lines");
    assert!(logs.all().contains("plugin denied-flood: capability host denied.example not granted"));
    let grown_mib = rss_kib().saturating_sub(rss_before) / 1024;
    assert!(grown_mib < 256, "the host grew by {grown_mib} MiB");
}

/// The resident set of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn an_adapter_may_return_only_so_many_secrets_and_masking_them_is_linear() {
    let plugin = attack("many-secrets");
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    let err = plugin.fetch_secrets(None, Some("160000"), &[], &Grant::new(), &opts).await.unwrap_err();
    assert_eq!(err.to_string(), "plugin many-secrets returned too much: 160000 secrets (at most 10000 are accepted)");
    // What it logged may hold those values, so it is withheld.
    assert_eq!(
        logs.messages(),
        ["plugin many-secrets: 1 line of its output withheld (it may hold the secrets that were refused)"]
    );
    let err = plugin.fetch_secrets(Some("4096"), Some("5000"), &[], &Grant::new(), &opts).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin many-secrets returned too much: 20503890 bytes of secrets (at most 16 MiB are accepted)"
    );
    // The most it may return is accepted, and every value is masked in what it logged.
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    let pairs = plugin.fetch_secrets(None, Some("10000"), &[], &Grant::new(), &opts).await.unwrap();
    assert_eq!(pairs.len(), 10_000);
    assert_eq!(logs.messages(), ["first [REDACTED] last [REDACTED]"]);
}

#[tokio::test]
async fn masking_catches_split_and_encoded_secrets() {
    let plugin = attack("leak-secret");
    let logs = Logs::default();
    let secret = "Sup3r-S3cret-Tok3n";
    let opts = CallOptions::new().secrets([secret]).log(logs.sink());
    plugin.run_hook(&ctx("pre-deploy", &[("SECRET", secret)]), &Grant::new(), &opts).await.unwrap();
    let all = logs.all();
    let lower = secret.to_lowercase();
    let reversed: String = secret.chars().rev().collect();
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    let (head, tail) = secret.split_at(secret.len() / 2);
    for leak in [secret, lower.as_str(), reversed.as_str(), hex.as_str(), "U3VwM3ItUzNjcmV0LVRvazNu"] {
        assert!(!all.to_lowercase().contains(&leak.to_lowercase()), "{leak} leaked:\n{all}");
    }
    // Neither half of the split value is left: each write is masked with the next in view.
    assert!(!all.contains(head) && !all.contains(tail), "{all}");
    assert!(all.contains("whole: [REDACTED]"), "{all}");
    assert!(all.contains("reversed: [REDACTED]"), "{all}");
    assert!(all.matches("[REDACTED]").count() >= 14, "{all}");
}

#[tokio::test]
async fn argument_patterns_never_match_options_by_wildcard() {
    let plugin = attack("exec-ungranted");
    let opts = CallOptions::new().log(Logs::default().sink());
    let run = |args: &'static str, grant: Grant| {
        let plugin = plugin.clone();
        let opts = opts.clone();
        async move {
            let env = [("PROGRAM", "git"), ("ARGS", args)];
            plugin.run_hook(&ctx("pre-deploy", &env), &grant, &opts).await.unwrap_err().to_string()
        }
    };
    // `git log **` grants operands, not `--output=FILE` (which wrote files, then ran code).
    let err = run("log --output=/tmp/wharf-pwned", Grant::new().program("git", ["log", "**"])).await;
    assert_eq!(
        err,
        r#"plugin exec-ungranted failed: refused: plugin exec-ungranted: capability program git with arguments ["log", "--output=/tmp/wharf-pwned"] not granted"#
    );
    // Nor does `*` match an option.
    let err = run("log --output=/tmp/wharf-pwned", Grant::new().program("git", ["log", "*"])).await;
    assert!(err.contains("not granted"), "{err}");
    assert!(!std::path::Path::new("/tmp/wharf-pwned").exists());
    // An option the grant names is allowed; after `--` everything is an operand.
    let err = run("log --oneline -- --output=x", Grant::new().program("git", ["log", "--oneline", "**"])).await;
    assert!(err.starts_with("plugin exec-ungranted failed: ran git: exit Some("), "{err}");
}

#[tokio::test]
async fn what_a_program_forks_dies_with_the_call() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("fork.sh");
    let pidfile = dir.path().join("pid");
    std::fs::write(&script, format!("sleep 300 &\necho $! > {}\n", pidfile.display())).unwrap();
    let plugin = attack("exec-ungranted");
    let opts = CallOptions::new().log(Logs::default().sink());
    let grant = Grant::new().program("sh", [wharf_plugin_host::ANY_ARGUMENTS]).timeout(Duration::from_secs(2));
    let args = script.to_str().unwrap();
    // The background `sleep` keeps the output open, so the call runs out of time.
    let err =
        plugin.run_hook(&ctx("pre-deploy", &[("PROGRAM", "sh"), ("ARGS", args)]), &grant, &opts).await.unwrap_err();
    assert_eq!(err.to_string(), "plugin exec-ungranted timed out after 2s");
    let pid: u32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    let alive = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| !s.rsplit(')').next().unwrap().trim_start().starts_with('Z'))
    };
    for _ in 0..100 {
        if !alive() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(), "the forked sleep {pid} outlived the call");
}

#[tokio::test]
async fn http_grants_match_whole_labels_and_check_resolved_addresses() {
    let (server, hits) = http_server();
    let port = server.rsplit(':').next().unwrap();
    let plugin = load("engine/plugin-host/tests/fixtures/http-any", "http-ungranted");
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    let run = |grant: Grant, allowed: String, denied: String| {
        let plugin = plugin.clone();
        let opts = opts.clone();
        async move {
            let env = [("ALLOWED_URL", allowed), ("DENIED_URLS", denied)];
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            plugin.run_hook(&ctx("post-deploy", &env), &grant, &opts).await
        }
    };
    // `127.0.0.*` matches the address, not a name that merely starts like it.
    run(
        Grant::new().host("127.0.0.*"),
        format!("http://127.0.0.1:{port}/"),
        format!("http://127.0.0.evil.example:{port}/"),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", logs.all()));
    assert!(logs.all().contains(&format!("capability host 127.0.0.evil.example:{port} not granted")), "{}", logs.all());
    // A granted name that resolves to a loopback address is not reached...
    let err =
        run(Grant::new().host("localhost"), format!("http://localhost:{port}/"), String::new()).await.unwrap_err();
    assert!(err.to_string().starts_with("plugin http-ungranted failed: the granted host failed:"), "{err}");
    assert!(
        logs.all().contains(&format!("plugin http-ungranted: capability host localhost:{port} not granted (it resolves to the non-public address 127.0.0.1; grant that address to allow it)")),
        "{}",
        logs.all()
    );
    // ...unless the address is granted too.
    run(Grant::new().host("localhost").host("127.0.0.1"), format!("http://localhost:{port}/"), String::new())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", logs.all()));
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2);
}

/// A hook (written directly in the component text format, since Rust cannot grow a table at
/// will) that grows a table by a million elements at a time until refused, then traps.
const TABLE_BOMB: &str = r#"
(component
  (core module $m
    (memory (export "memory") 1)
    (table $t 1 funcref)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (global.get $next))
      (global.set $next (i32.and (i32.add (i32.add (global.get $next) (local.get 3)) (i32.const 7)) (i32.const -8)))
      (local.get $p))
    (func (export "run") (param i32 i32 i32 i32) (result i32)
      (loop $grow
        (br_if $grow (i32.ne (table.grow $t (ref.null func) (i32.const 1000000)) (i32.const -1))))
      unreachable))
  (core instance $i (instantiate $m))
  (type $ctx (record (field "name" string) (field "env" (list (tuple string string)))))
  (export $ctx-export "hook-context" (type $ctx))
  (func (export "run") (param "ctx" $ctx-export) (result (result (error string)))
    (canon lift (core func $i "run") (memory (core memory $i "memory")) (realloc (core func $i "realloc")))))
"#;

#[tokio::test]
async fn table_growth_counts_against_the_memory_limit_with_either_allocator() {
    let wasm = wat::parse_str(TABLE_BOMB).unwrap();
    let m = Manifest::from_toml(
        "name = \"table-bomb\"\nversion = \"0.1.0\"\nworld = \"hook\"\napi = \"0.1.0\"\n",
        "table-bomb",
    )
    .unwrap();
    let on_demand = PluginHost::new(HostConfig { cache_dir: None, pooling: false, ..HostConfig::default() }).unwrap();
    for host in [host(), &on_demand] {
        let plugin = host.load(m.clone(), &wasm).unwrap();
        let opts = CallOptions::new().log(Logs::default().sink());
        let err = plugin.run_hook(&ctx("x", &[]), &Grant::new().memory(64 << 20), &opts).await.unwrap_err();
        assert_eq!(err.to_string(), "plugin table-bomb exceeded its memory limit (64 MiB)", "{:?}", host.allocator());
    }
}
