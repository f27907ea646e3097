//! Plugin costs, for `bench/plugins.sh`: for each hook (the same post-deploy summary written in
//! Rust, Python and JavaScript), cold compile, cached load, warm call, and one run as a fresh
//! Wharf process would do it, side by side with the same hook as a shell script. Prints a
//! Markdown table.
//!
//! `cargo run --release -p wharf-plugin-host --example bench -- [--iterations N] LABEL WASM MANIFEST...`
//! (one LABEL WASM MANIFEST triple per hook; the old form `WASM MANIFEST [N]` still works).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wharf_plugin_host::{
    CallOptions, Grant, HookContext, HostConfig, LoadSource, LogRecord, Manifest, Plugin, PluginHost,
};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn show(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1_000_000.0 {
        format!("{:.2} s", us / 1e6)
    } else if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / (1 << 20) as f64)
    } else {
        format!("{} KB", bytes / 1024)
    }
}

/// Runs `f` at least `min` and at most `max` times, and no more once `budget` is spent.
fn sample(min: usize, max: usize, budget: Duration, mut f: impl FnMut() -> Duration) -> Vec<Duration> {
    let started = Instant::now();
    let mut out = vec![];
    while out.len() < max && (out.len() < min || started.elapsed() < budget) {
        out.push(f());
    }
    out
}

struct Hook {
    label: String,
    wasm: Vec<u8>,
    manifest: Manifest,
}

/// One column of the table.
struct Column {
    component: String,
    cold: String,
    precompiled: String,
    cached_load: String,
    warm: String,
    warm_median: Duration,
    fresh_process: Duration,
}

fn measure(hook: &Hook, engine_start: Duration, ctx: &HookContext, n: usize, rt: &tokio::runtime::Runtime) -> Column {
    let quiet = CallOptions::new().log(Arc::new(|_: &LogRecord| {}));
    let grant = Grant::new();
    let call =
        |p: &Plugin| rt.block_on(p.run_hook(ctx, &grant, &quiet)).unwrap_or_else(|e| panic!("{}: {e}", hook.label));

    // Cold: compile every time (no cache).
    let host = PluginHost::new(HostConfig { cache_dir: None, ..HostConfig::default() }).unwrap();
    let cold = sample(2, 10, Duration::from_secs(20), || {
        let t = Instant::now();
        let p = host.load(hook.manifest.clone(), &hook.wasm).unwrap();
        let d = t.elapsed();
        assert_eq!(p.load_source(), LoadSource::Compiled);
        d
    });

    // Cached: deserialize the precompiled file the host wrote.
    let dir = tempfile::tempdir().unwrap();
    let cached =
        PluginHost::new(HostConfig { cache_dir: Some(dir.path().to_path_buf()), ..HostConfig::default() }).unwrap();
    let first = cached.load(hook.manifest.clone(), &hook.wasm).unwrap();
    let precompiled = std::fs::metadata(first.cache_file().unwrap()).unwrap().len();
    let loads = sample(5, 50, Duration::from_secs(10), || {
        let t = Instant::now();
        let p = cached.load(hook.manifest.clone(), &hook.wasm).unwrap();
        let d = t.elapsed();
        assert_eq!(p.load_source(), LoadSource::Cache);
        d
    });

    // What one hook run costs a Wharf process that has just started: cached load + first call.
    let load_and_call = sample(5, 50, Duration::from_secs(10), || {
        let t = Instant::now();
        let p = cached.load(hook.manifest.clone(), &hook.wasm).unwrap();
        call(&p);
        t.elapsed()
    });

    // Warm call: fresh Store + instance from the InstancePre, call `run`, drop.
    for _ in 0..20 {
        call(&first);
    }
    let calls = sample(20, n, Duration::from_secs(15), || {
        let t = Instant::now();
        call(&first);
        t.elapsed()
    });

    Column {
        component: size(hook.wasm.len() as u64),
        cold: show(median(cold)),
        precompiled: size(precompiled),
        cached_load: show(median(loads)),
        warm: format!("{} (n={})", show(median(calls.clone())), calls.len()),
        warm_median: median(calls),
        fresh_process: engine_start + median(load_and_call),
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut n = 1000;
    if let Some(i) = args.iter().position(|a| a == "--iterations") {
        n = args[i + 1].parse().expect("--iterations N");
        args.drain(i..i + 2);
    }
    // The old form: WASM MANIFEST [ITERATIONS], for the Rust hook alone.
    if args.len() <= 3 && args.first().is_some_and(|a| a.ends_with(".wasm")) {
        if let Some(it) = args.get(2) {
            n = it.parse().expect("ITERATIONS");
        }
        args = vec!["Rust".into(), args[0].clone(), args[1].clone()];
    }
    assert!(!args.is_empty() && args.len().is_multiple_of(3), "usage: bench [--iterations N] LABEL WASM MANIFEST...");
    let hooks: Vec<Hook> = args
        .chunks(3)
        .map(|c| Hook {
            label: c[0].clone(),
            wasm: std::fs::read(&c[1]).unwrap_or_else(|e| panic!("{}: {e}", c[1])),
            manifest: Manifest::from_file(Path::new(&c[2])).expect("read the manifest").0,
        })
        .collect();

    let ctx = HookContext {
        name: "post-deploy".into(),
        env: vec![
            ("KAMAL_SERVICE".into(), "hello".into()),
            ("KAMAL_VERSION".into(), "abc123".into()),
            ("KAMAL_PERFORMER".into(), "alice".into()),
        ],
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    // Engine start (pooling reservation, linker, ticker thread): once per Wharf process.
    let starts = sample(20, 20, Duration::from_secs(5), || {
        let t = Instant::now();
        let h = PluginHost::new(HostConfig { cache_dir: None, ..HostConfig::default() }).unwrap();
        let d = t.elapsed();
        drop(h);
        d
    });
    let engine_start = median(starts);
    let allocator = PluginHost::new(HostConfig { cache_dir: None, ..HostConfig::default() }).unwrap().allocator();

    let cols: Vec<Column> = hooks
        .iter()
        .map(|h| {
            eprintln!("bench: {}", h.label);
            measure(h, engine_start, &ctx, n, &rt)
        })
        .collect();

    // The same hook as a shell script, as Kamal runs hooks today (fork + exec of /bin/sh).
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("post-deploy");
    std::fs::write(&script, "#!/bin/sh\necho \"$KAMAL_SERVICE $KAMAL_VERSION deployed by $KAMAL_PERFORMER\"\n")
        .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let shells = sample(20, (n / 5).max(20), Duration::from_secs(10), || {
        let t = Instant::now();
        let out = std::process::Command::new(&script).envs(ctx.env.iter().map(|(k, v)| (k, v))).output().unwrap();
        assert!(out.status.success());
        t.elapsed()
    });
    let shell = median(shells.clone());

    let mut header = "| step |".to_string();
    let mut rule = "|---|".to_string();
    for h in &hooks {
        header.push_str(&format!(" {} |", h.label));
        rule.push_str("---:|");
    }
    println!("{header} shell script |\n{rule}---:|");
    let row = |name: &str, f: &dyn Fn(&Column) -> String, shell: &str| {
        let cells: Vec<String> = cols.iter().map(f).collect();
        println!("| {name} | {} | {shell} |", cells.join(" | "));
    };
    row("component (`.wasm`)", &|c| c.component.clone(), "74 B script");
    row("cold load: Cranelift compile + link", &|c| c.cold.clone(), "–");
    row("precompiled file in the cache", &|c| c.precompiled.clone(), "–");
    row("cached load: sha256 + deserialize + link", &|c| c.cached_load.clone(), "–");
    row(
        "**warm call**: new Store + instance + `run` + drop",
        &|c| c.warm.clone(),
        &format!("{} (fork + exec, n={})", show(shell), shells.len()),
    );
    row(
        "warm call / shell-script run",
        &|c| format!("{:.2} ×", c.warm_median.as_secs_f64() / shell.as_secs_f64()),
        "1 ×",
    );
    row(
        "**one run in a fresh process**: engine start + cached load + first call",
        &|c| show(c.fresh_process),
        &show(shell),
    );
    row(
        "fresh-process run / shell-script run",
        &|c| format!("{:.2} ×", c.fresh_process.as_secs_f64() / shell.as_secs_f64()),
        "1 ×",
    );
    println!();
    println!("Engine start (`PluginHost::new`, once per process): {} ({allocator:?} allocator).", show(engine_start));
    // The question the table answers: does a cached WASM hook cost no more than the shell hook?
    let verdict = |f: &dyn Fn(&Column) -> Duration| {
        let (cheap, dear): (Vec<_>, Vec<_>) = hooks.iter().zip(&cols).partition(|(_, c)| f(c) <= shell);
        let names = |v: Vec<(&Hook, &Column)>| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.iter().map(|(h, _)| h.label.as_str()).collect::<Vec<_>>().join(", ")
            }
        };
        format!("{}; more: {}", names(cheap), names(dear))
    };
    println!();
    println!("No more than the shell-script hook, per warm call: {}.", verdict(&|c| c.warm_median));
    println!("No more than the shell-script hook, for one run in a fresh process: {}.", verdict(&|c| c.fresh_process));
}
