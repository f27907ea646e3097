//! `wharf plugin ...`: where plugins come from (docs/plugin-sources.md).
//!
//! - `list`: the built-in plugins and those configured in deploy.yml (`x-wharf.plugins`), with
//!   world, version, API, source and digest (remote ones not fetched yet say so).
//! - `inspect NAME|SOURCE`: a plugin's manifest, declared capabilities, size, digest, and the
//!   imports and exports of its component as Wasmtime sees them.
//! - `fetch`: resolves every configured plugin, fills the cache, writes `.kamal/plugins.lock`.
//! - `verify`: checks every configured plugin against the lock file; exit 1 on any mismatch.
//! - `push SOURCE oci://REF`: packs SOURCE if needed and pushes it as a wasm OCI artifact.
//! - `pack plugin.toml -o out.wasm`: writes a self-contained plugin file.
//!
//! `inspect`, `pack` and `push` of a path or URL work outside a project. The CLI parses the
//! arguments and calls the function of each subcommand.

use std::path::Path;

use wharf_plugin_store::{LockFile, PluginSpec, Resolved, Source, Store};

use crate::error::{CliError, Result};
use crate::options::GlobalOptions as Global;

fn err(e: impl std::fmt::Display) -> CliError {
    CliError::runtime(e.to_string())
}

fn store(dir: &Path) -> Store {
    Store::new(dir).with_builtins(super::builtins())
}

/// The plugins configured in deploy.yml (`x-wharf.plugins`); `None` outside a project. Reads
/// only what plugins need (ERB, destination merge, `x-wharf`), not the whole Kamal model.
fn configured(global: &Global, dir: &Path) -> Result<Option<Vec<PluginSpec>>> {
    let file = dir.join(&global.config_file);
    if !file.exists() {
        return Ok(None);
    }
    let options = wharf_config::LoadOptions {
        config_file: file,
        destination: global.destination.clone(),
        env: std::env::vars().collect(),
        cache_renders: true,
        ..Default::default()
    };
    let raw = wharf_config::load::load_raw_config(&options)?;
    let ext = wharf_config::extension::WharfExtension::parse(&raw)?;
    Ok(Some(ext.plugins.into_iter().map(|p| PluginSpec { name: p.name, source: p.source, sha256: p.sha256 }).collect()))
}

fn short(sha: &str) -> String {
    format!("sha256:{}", &sha[..sha.len().min(12)])
}

pub async fn list(global: &Global, dir: &Path) -> Result<()> {
    let store = store(dir);
    let mut rows = vec![["NAME", "WORLD", "VERSION", "API", "SOURCE", "DIGEST"].map(String::from).to_vec()];
    let row = |name: &str, r: &Resolved, source: &str| {
        vec![
            name.to_string(),
            r.manifest.world.to_string(),
            r.manifest.version.clone(),
            r.manifest.api.clone(),
            source.to_string(),
            short(&r.sha256),
        ]
    };
    for b in store.builtins() {
        let source = format!("builtin:{}", b.name);
        let r = store.open(&source, None).await.map_err(err)?;
        rows.push(row(b.name, &r, &source));
    }
    let mut failed = 0;
    if let Some(specs) = configured(global, dir)? {
        let lock = store.read_lock().map_err(err)?;
        for spec in &specs {
            match store.peek(spec, lock.as_ref()).await {
                Ok(Some(r)) => rows.push(row(&spec.name, &r, &spec.source)),
                Ok(None) => rows.push(vec![
                    spec.name.clone(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    spec.source.clone(),
                    "(not fetched: wharf plugin fetch)".into(),
                ]),
                Err(e) => {
                    failed += 1;
                    rows.push(vec![
                        spec.name.clone(),
                        "-".into(),
                        "-".into(),
                        "-".into(),
                        spec.source.clone(),
                        format!("error: {e}"),
                    ]);
                }
            }
        }
    }
    print_table(&rows);
    if failed > 0 {
        return Err(CliError::runtime(format!("{failed} configured plugin(s) could not be resolved")));
    }
    Ok(())
}

fn print_table(rows: &[Vec<String>]) {
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().map(|r| r.get(c).map_or(0, |s| s.chars().count())).max().unwrap_or(0)).collect();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c + 1 == r.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[c]));
            }
        }
        println!("{}", line.trim_end());
    }
}

/// Finds what `inspect` means: a configured plugin, a built-in, or a source.
async fn resolve_arg(
    global: &Global,
    dir: &Path,
    store: &Store,
    arg: &str,
    sha256: Option<String>,
) -> Result<Resolved> {
    if let Some(specs) = configured(global, dir)? {
        if let Some(spec) = specs.iter().find(|s| s.name == arg) {
            let lock = store.read_lock().map_err(err)?;
            return store.load(spec, lock.as_ref()).await.map_err(err);
        }
    }
    let looks_like_source = arg.contains('/') || arg.contains(':') || arg.ends_with(".toml") || arg.ends_with(".wasm");
    if !looks_like_source && store.builtins().iter().any(|b| b.name == arg) {
        return store.open(&format!("builtin:{arg}"), None).await.map_err(err);
    }
    if !looks_like_source && !dir.join(arg).exists() {
        return Err(CliError::argument(format!(
            "No plugin named {arg:?} (not configured in x-wharf.plugins, not built in)"
        )));
    }
    store.open(arg, sha256.as_deref()).await.map_err(err)
}

pub async fn inspect(global: &Global, dir: &Path, arg: &str, sha256: Option<String>) -> Result<()> {
    let store = store(dir);
    let r = resolve_arg(global, dir, &store, arg, sha256).await?;
    let m = &r.manifest;
    let none = |v: Vec<String>| if v.is_empty() { "none".to_string() } else { v.join(", ") };
    println!("name:         {}", m.name);
    println!("version:      {}", m.version);
    println!("world:        {}", m.world);
    println!("api:          {}", m.api);
    if let Some(d) = &m.description {
        println!("description:  {d}");
    }
    println!("source:       {}", r.source_text);
    println!("size:         {} bytes (component {} bytes)", r.size, r.component.len());
    println!("sha256:       {}", r.sha256);
    if let Some(d) = &r.manifest_digest {
        println!("oci manifest: sha256:{d}");
    }
    let caps = &m.capabilities;
    println!("capabilities:");
    let programs =
        caps.programs.iter().map(|p| format!("{} {}", p.program, p.args.join(" ")).trim().to_string()).collect();
    println!("  programs:    {}", none(programs));
    println!("  directories: {}", none(caps.directories.clone()));
    println!("  hosts:       {}", none(caps.hosts.clone()));
    println!("  env:         {}", none(caps.env.clone()));
    let interfaces = tokio::task::spawn_blocking({
        let wasm = r.component.clone();
        move || wharf_plugin_store::interfaces(&wasm)
    })
    .await
    .map_err(err)?
    .map_err(|e| CliError::runtime(format!("plugin {}: {e}", m.name)))?;
    println!("imports:");
    for i in &interfaces.imports {
        println!("  {i}");
    }
    println!("exports:");
    for e in &interfaces.exports {
        println!("  {e}");
    }
    Ok(())
}

fn require_project(global: &Global, dir: &Path) -> Result<Vec<PluginSpec>> {
    configured(global, dir)?.ok_or_else(|| {
        CliError::runtime(format!(
            "Configuration file not found in {} (wharf plugin fetch/verify run in a project)",
            dir.join(&global.config_file).display()
        ))
    })
}

pub async fn fetch(global: &Global, dir: &Path) -> Result<()> {
    let specs = require_project(global, dir)?;
    let store = store(dir);
    let (resolved, lock) = store.fetch(&specs).await.map_err(err)?;
    for r in &resolved {
        let cached = if r.source.is_remote() { " (cached)" } else { "" };
        println!("{}  {}  sha256:{}{cached}", r.name, r.source_text, r.sha256);
    }
    let path = LockFile::path(dir);
    lock.write(&path).map_err(err)?;
    println!("Wrote {} ({} plugins)", wharf_plugin_store::LOCK_PATH, lock.plugins.len());
    Ok(())
}

pub async fn verify(global: &Global, dir: &Path) -> Result<()> {
    let specs = require_project(global, dir)?;
    let store = store(dir);
    let lock = store.read_lock().map_err(err)?.ok_or_else(|| {
        CliError::runtime(format!("No {}: run `wharf plugin fetch` first", wharf_plugin_store::LOCK_PATH))
    })?;
    let report = store.verify(&specs, &lock).await;
    let mut failed = 0;
    for v in &report {
        let stale = if v.configured { "" } else { " (stale: not configured; `wharf plugin fetch` removes it)" };
        match &v.result {
            Ok(sha) => println!("ok      {}  {}  sha256:{sha}{stale}", v.name, v.source),
            Err(e) => {
                failed += 1;
                println!("FAILED  {}  {}: {e}{stale}", v.name, v.source);
            }
        }
    }
    if failed > 0 {
        return Err(CliError::runtime(format!("{failed} of {} plugins failed verification", report.len())));
    }
    println!("{} plugins match {}", report.len(), wharf_plugin_store::LOCK_PATH);
    Ok(())
}

pub async fn push(dir: &Path, source: &str, reference: &str) -> Result<()> {
    let target = match Source::parse(reference, dir) {
        Ok(Source::Oci(r)) => r,
        _ => return Err(CliError::argument(format!("{reference}: expected oci://REGISTRY/REPOSITORY:TAG"))),
    };
    let store = store(dir);
    let r = store.open(source, None).await.map_err(err)?;
    let pushed = store.push(&r, &target).await.map_err(err)?;
    println!("Pushed {} {} ({}) to oci://{target}", r.manifest.name, r.manifest.version, r.manifest.world);
    println!("layer:  sha256:{}", pushed.layer_digest);
    println!("digest: sha256:{}", pushed.manifest_digest);
    Ok(())
}

pub async fn pack(dir: &Path, manifest: &str, output: Option<&str>) -> Result<()> {
    let store = store(dir);
    match Source::parse(manifest, dir) {
        Ok(Source::Path(_)) => {}
        _ => return Err(CliError::argument(format!("{manifest}: expected a plugin.toml or a directory holding one"))),
    }
    let r = store.open(manifest, None).await.map_err(err)?;
    let out = dir.join(output.map(str::to_string).unwrap_or_else(|| format!("{}.wasm", r.manifest.name)));
    let packed = r.packed();
    std::fs::write(&out, &packed).map_err(|e| CliError::runtime(format!("{}: {e}", out.display())))?;
    println!(
        "Packed {} {} ({}) into {}: {} bytes, sha256:{}",
        r.manifest.name,
        r.manifest.version,
        r.manifest.world,
        out.display(),
        packed.len(),
        r.sha256
    );
    Ok(())
}
