//! Test support: builds the guest components once (the example hook and the attack plugins,
//! `cargo build --release --target wasm32-wasip2`, cached under `target/wasm-guests`), and
//! collects log records.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use wharf_plugin_host::{Level, LogRecord, LogSink, Manifest};

#[allow(unused_imports)] // each test module uses some of them
pub use wharf_testkit::plugins::{guest_target_dir, repo};

/// The guest crates' workspaces (or single crates) to build, relative to the repository.
const GUEST_MANIFESTS: &[&str] = &[
    "examples/hooks/rust-notify/Cargo.toml",
    "plugins/attacks/Cargo.toml",
    "engine/plugin-host/tests/fixtures/guests/Cargo.toml",
];

/// Builds every guest once per test process (cargo's own lock serializes concurrent test
/// binaries) and returns the directory holding the `.wasm` files.
pub fn guests() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let mut dir = PathBuf::new();
        for m in GUEST_MANIFESTS {
            dir = wharf_testkit::plugins::build_guest(m);
        }
        dir
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
