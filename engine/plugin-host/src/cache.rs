//! Precompiled components on disk.
//!
//! A component is compiled once per content and engine: the file is
//! `DIR/<sha256 of the wasm>-<engine compatibility hash>.cwasm`. The compatibility hash is a
//! SHA-256 of [`wasmtime::Engine::precompile_compatibility_hash`] (Wasmtime's version, the
//! compiler settings and the target), so a Wasmtime upgrade or a different configuration simply
//! misses and recompiles.
//!
//! Loading a precompiled file runs native code from it, so the host only loads files it wrote
//! itself: the directory is created with mode 0700, each file is written to a temporary name
//! with mode 0600 and renamed into place, and before loading the host checks that the directory
//! and the file are owned by the current user and writable by nobody else. A file that fails a
//! check, or that Wasmtime rejects, is ignored (and replaced by a fresh compile).

use std::hash::Hasher;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

pub(crate) struct Cache {
    dir: PathBuf,
}

/// A [`Hasher`] over SHA-256, so that the key is stable across processes and Rust versions.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        unreachable!("only the digest is used")
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// Hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Hex digest of the engine's precompile compatibility hash (first 16 bytes).
pub(crate) fn engine_hash(engine: &Engine) -> String {
    use std::hash::Hash;
    let mut h = ShaHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut h);
    hex::encode(&h.0.finalize()[..16])
}

fn uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

fn trusted(meta: &std::fs::Metadata) -> bool {
    meta.uid() == uid() && meta.mode() & 0o022 == 0
}

impl Cache {
    /// Opens (creating it, mode 0700) the cache directory. Fails when it exists but is not
    /// owned by the current user or is writable by others.
    pub fn open(dir: &Path) -> std::io::Result<Cache> {
        if !dir.exists() {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        }
        let meta = std::fs::metadata(dir)?;
        if !meta.is_dir() || !trusted(&meta) {
            return Err(std::io::Error::other(format!(
                "{} must be a directory owned by the current user and writable only by it",
                dir.display()
            )));
        }
        Ok(Cache { dir: dir.to_path_buf() })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file for a component whose wasm has SHA-256 `digest`, compiled by `engine`.
    pub fn path(&self, engine: &Engine, digest: &str) -> PathBuf {
        self.dir.join(format!("{digest}-{}.cwasm", engine_hash(engine)))
    }

    /// The precompiled component at `path`, if it is there, was written by this user, and
    /// Wasmtime accepts it.
    pub fn load(&self, engine: &Engine, path: &Path) -> Option<Component> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        if !meta.is_file() || !trusted(&meta) || !trusted(&std::fs::metadata(&self.dir).ok()?) {
            return None;
        }
        // SAFETY: the file is a regular file in a directory only this user can write, and was
        // written there by `store` below (from `Component::serialize`). Wasmtime checks its
        // header and version and rejects anything compiled for another engine configuration.
        match unsafe { Component::deserialize_file(engine, path) } {
            Ok(c) => Some(c),
            Err(_) => {
                let _ = std::fs::remove_file(path);
                None
            }
        }
    }

    /// Writes the precompiled form of `component` to `path` (atomically).
    pub fn store(&self, component: &Component, path: &Path) -> std::io::Result<()> {
        let bytes = component.serialize().map_err(|e| std::io::Error::other(e.to_string()))?;
        static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let tmp = self.dir.join(format!(
            ".{}.{}.{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("component"),
            std::process::id(),
            SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let result = (|| {
            let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}
