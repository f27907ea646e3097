//! Plugin costs, for `bench/plugins.sh`: cold compile, cached load, warm call, against a shell
//! script hook doing the same thing. Prints a Markdown table.
//!
//! `cargo run --release -p wharf-plugin-host --example bench -- WASM MANIFEST [ITERATIONS]`
//! where WASM is the rust-notify component and MANIFEST its plugin.toml.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wharf_plugin_host::{CallOptions, Grant, HookContext, HostConfig, LoadSource, LogRecord, Manifest, PluginHost};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn show(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let wasm = std::fs::read(&args[1]).expect("read the component");
    let (manifest, _) = Manifest::from_file(Path::new(&args[2])).expect("read the manifest");
    let n: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let quiet = CallOptions::new().log(Arc::new(|_: &LogRecord| {}));
    let ctx = HookContext {
        name: "post-deploy".into(),
        env: vec![
            ("KAMAL_SERVICE".into(), "hello".into()),
            ("KAMAL_VERSION".into(), "abc123".into()),
            ("KAMAL_PERFORMER".into(), "alice".into()),
        ],
    };
    let grant = Grant::new();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut rows: Vec<(String, String, String)> = vec![];

    // Engine start (pooling reservation, linker, ticker thread).
    let mut starts = vec![];
    for _ in 0..20 {
        let t = Instant::now();
        let h = PluginHost::new(HostConfig { cache_dir: None, ..HostConfig::default() }).unwrap();
        starts.push(t.elapsed());
        drop(h);
    }
    let host = PluginHost::new(HostConfig { cache_dir: None, ..HostConfig::default() }).unwrap();
    rows.push((
        "engine start (`PluginHost::new`)".into(),
        show(median(starts)),
        format!("{:?} allocator", host.allocator()),
    ));

    // Cold: compile every time (no cache).
    let mut cold = vec![];
    for _ in 0..10 {
        let t = Instant::now();
        let p = host.load(manifest.clone(), &wasm).unwrap();
        cold.push(t.elapsed());
        assert_eq!(p.load_source(), LoadSource::Compiled);
    }
    rows.push((
        "cold load: compile with Cranelift + link".into(),
        show(median(cold)),
        format!("{} KB component", wasm.len() / 1024),
    ));

    // Cached: deserialize the precompiled file the host wrote.
    let dir = tempfile::tempdir().unwrap();
    let cached_host =
        PluginHost::new(HostConfig { cache_dir: Some(dir.path().to_path_buf()), ..HostConfig::default() }).unwrap();
    let first = cached_host.load(manifest.clone(), &wasm).unwrap();
    let size = std::fs::metadata(first.cache_file().unwrap()).unwrap().len();
    let mut warm_loads = vec![];
    for _ in 0..50 {
        let t = Instant::now();
        let p = cached_host.load(manifest.clone(), &wasm).unwrap();
        warm_loads.push(t.elapsed());
        assert_eq!(p.load_source(), LoadSource::Cache);
    }
    rows.push((
        "cached load: sha256 + deserialize_file + link".into(),
        show(median(warm_loads)),
        format!("{} KB precompiled file", size / 1024),
    ));

    // Warm call: fresh Store + instance from the InstancePre, call `run`, drop.
    let plugin = first;
    for _ in 0..50 {
        rt.block_on(plugin.run_hook(&ctx, &grant, &quiet)).unwrap();
    }
    let mut calls = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        rt.block_on(plugin.run_hook(&ctx, &grant, &quiet)).unwrap();
        calls.push(t.elapsed());
    }
    rows.push((
        "warm call: new Store + instantiate + `run` + drop".into(),
        show(median(calls)),
        format!("median of {n}"),
    ));

    // The same hook as a shell script, as Kamal runs hooks today.
    let script = dir.path().join("post-deploy");
    std::fs::write(&script, "#!/bin/sh\necho \"$KAMAL_SERVICE $KAMAL_VERSION deployed by $KAMAL_PERFORMER\"\n")
        .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut shells = vec![];
    for _ in 0..(n / 5).max(20) {
        let t = Instant::now();
        let out = std::process::Command::new(&script).envs(ctx.env.iter().map(|(k, v)| (k, v))).output().unwrap();
        shells.push(t.elapsed());
        assert!(out.status.success());
    }
    rows.push(("shell-script hook (fork + exec `/bin/sh` script)".into(), show(median(shells)), "same output".into()));

    println!("| step | median | notes |");
    println!("|---|---:|---|");
    for (a, b, c) in rows {
        println!("| {a} | {b} | {c} |");
    }
}
