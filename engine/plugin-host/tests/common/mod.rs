//! Test support: builds the guest components once (the example hook and the attack plugins,
//! `cargo build --release --target wasm32-wasip2`, cached under `target/wasm-guests`), and
//! collects log records.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use wharf_plugin_host::{Level, LogRecord, LogSink, Manifest};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Where guest builds go: `<target>/wasm-guests` (beside the host's own builds).
pub fn guest_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("wasm-guests")
}

/// The guest crates' workspaces (or single crates) to build, relative to the repository.
const GUEST_MANIFESTS: &[&str] = &[
    "examples/hooks/rust-notify/Cargo.toml",
    "plugins/attacks/Cargo.toml",
    "engine/plugin-host/tests/fixtures/guests/Cargo.toml",
];

fn cargo_build(manifest: &Path, target_dir: &Path) -> std::process::Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    Command::new(cargo)
        .args(["build", "--release", "--target", "wasm32-wasip2", "--manifest-path"])
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir)
        // Whatever the outer build was given is for the host, not for wasm.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .expect("run cargo")
}

/// Builds every guest once per test process (cargo's own lock serializes concurrent test
/// binaries) and returns the directory holding the `.wasm` files.
pub fn guests() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let target = guest_target_dir();
        for m in GUEST_MANIFESTS {
            let manifest = repo().join(m);
            let mut out = cargo_build(&manifest, &target);
            if !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("target may not be installed") {
                let _ = Command::new("rustup").args(["target", "add", "wasm32-wasip2"]).status();
                out = cargo_build(&manifest, &target);
            }
            assert!(
                out.status.success(),
                "building {m} for wasm32-wasip2 failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        target.join("wasm32-wasip2").join("release")
    })
}

/// The component built from crate `name` (underscored file name).
pub fn wasm(name: &str) -> Vec<u8> {
    let path = guests().join(format!("{}.wasm", name.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The manifest of a guest, from its `plugin.toml` (`dir` relative to the repository).
pub fn manifest(dir: &str) -> Manifest {
    Manifest::from_file(&repo().join(dir).join("plugin.toml")).unwrap().0
}

/// A log sink that keeps every record.
#[derive(Clone, Default)]
pub struct Logs(pub Arc<Mutex<Vec<LogRecord>>>);

impl Logs {
    pub fn sink(&self) -> LogSink {
        let records = self.0.clone();
        Arc::new(move |r: &LogRecord| records.lock().unwrap().push(r.clone()))
    }

    pub fn messages(&self) -> Vec<String> {
        self.0.lock().unwrap().iter().map(|r| r.message.clone()).collect()
    }

    /// Messages at `info` and above (what a user sees by default).
    pub fn said(&self) -> Vec<String> {
        self.0.lock().unwrap().iter().filter(|r| r.level >= Level::Info).map(|r| r.message.clone()).collect()
    }

    pub fn all(&self) -> String {
        self.messages().join("\n")
    }
}
