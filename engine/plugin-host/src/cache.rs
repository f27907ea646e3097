//! Precompiled components on disk.
//!
//! A component is compiled once per content and engine: the file is
//! `DIR/<sha256 of the wasm>-<engine compatibility hash>.cwasm`. The compatibility hash is a
//! SHA-256 of [`wasmtime::Engine::precompile_compatibility_hash`] (Wasmtime's version, the
//! compiler settings and the target), so a Wasmtime upgrade or a different configuration simply
//! misses and recompiles.
//!
//! Loading a precompiled file runs native code from it, so the host only loads files it wrote
//! itself, and checks that twice:
//! - Ownership: the directory is created with mode 0700, each file is written to a temporary
//!   name with mode 0600 and renamed into place, and before loading the host checks that the
//!   directory and the file are owned by the current user and writable by nobody else.
//! - Authenticity: each file starts with an HMAC-SHA256 of its name and its precompiled bytes,
//!   under a random key kept apart from the cache (`$XDG_STATE_HOME/wharf/plugin-cache.key`,
//!   see [`default_cache_key_file`]). The host reads the file once, checks the MAC and
//!   deserializes those same bytes, so a file swapped for another one, patched, or restored
//!   from another machine's cache (whose key differs) is never run.
//!
//! A file that fails a check, or that Wasmtime rejects, is removed and replaced by a fresh
//! compile.

use std::hash::Hasher;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

pub(crate) struct Cache {
    dir: PathBuf,
    key: [u8; KEY_LEN],
}

const KEY_LEN: usize = 32;
/// What a cache file starts with, before its MAC and the precompiled bytes.
const MAGIC: &[u8; 8] = b"WHARFMAC";
const HEADER_LEN: usize = MAGIC.len() + 32;

/// `$XDG_STATE_HOME/wharf/plugin-cache.key`, else `~/.local/state/wharf/plugin-cache.key`:
/// the key of the cache's MACs, outside the cache so that a restored cache does not bring it.
pub fn default_cache_key_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local").join("state")))?;
    Some(base.join("wharf").join("plugin-cache.key"))
}

/// HMAC-SHA256 (RFC 2104) of `parts`, concatenated, under `key`.
fn hmac_sha256(key: &[u8; KEY_LEN], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut ipad = [0x36u8; BLOCK];
    let mut opad = [0x5cu8; BLOCK];
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    let mut inner = Sha256::new();
    inner.update(ipad);
    for p in parts {
        inner.update(p);
    }
    let mut outer = Sha256::new();
    outer.update(opad);
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Equality that takes the same time wherever the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The key in `file`, created (32 random bytes, mode 0600, in a 0700 directory) when missing.
/// Refused when the file or its directory is not this user's alone.
fn load_or_create_key(file: &Path) -> std::io::Result<[u8; KEY_LEN]> {
    let dir = file.parent().ok_or_else(|| std::io::Error::other("the key file has no directory"))?;
    if !dir.exists() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    }
    if !trusted(&std::fs::metadata(dir)?) {
        return Err(std::io::Error::other(format!(
            "{} must be owned by the current user and writable only by it",
            dir.display()
        )));
    }
    match std::fs::symlink_metadata(file) {
        Ok(meta) => {
            if !meta.is_file() || meta.uid() != uid() || meta.mode() & 0o077 != 0 {
                return Err(std::io::Error::other(format!(
                    "{} must be a file owned by the current user and readable only by it",
                    file.display()
                )));
            }
            let bytes = std::fs::read(file)?;
            bytes
                .try_into()
                .map_err(|_| std::io::Error::other(format!("{} is not a {KEY_LEN}-byte key", file.display())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; KEY_LEN];
            std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut key)?;
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(file);
            if let Err(e) = &f {
                // Another process created it first: use theirs.
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    return load_or_create_key(file);
                }
            }
            let f = f.as_mut().map_err(|e| std::io::Error::new(e.kind(), e.to_string()))?;
            f.write_all(&key)?;
            f.sync_all()?;
            Ok(key)
        }
        Err(e) => Err(e),
    }
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
    /// Opens (creating it, mode 0700) the cache directory, with the MAC key in `key_file`
    /// (created when missing). Fails when either exists but is not the current user's alone.
    pub fn open(dir: &Path, key_file: &Path) -> std::io::Result<Cache> {
        let key = load_or_create_key(key_file)
            .map_err(|e| std::io::Error::new(e.kind(), format!("key {}: {e}", key_file.display())))?;
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
        Ok(Cache { dir: dir.to_path_buf(), key })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file for a component whose wasm has SHA-256 `digest`, compiled by `engine`.
    pub fn path(&self, engine: &Engine, digest: &str) -> PathBuf {
        self.dir.join(format!("{digest}-{}.cwasm", engine_hash(engine)))
    }

    /// The MAC of a cache file named `path` holding `precompiled`.
    fn mac(&self, path: &Path, precompiled: &[u8]) -> [u8; 32] {
        let name = path.file_name().map(|n| n.as_encoded_bytes()).unwrap_or_default();
        hmac_sha256(&self.key, &[&(name.len() as u64).to_le_bytes(), name, precompiled])
    }

    /// The precompiled component at `path`, if it is there, was written by this user with
    /// this key, and Wasmtime accepts it. A file that fails a check is removed.
    pub fn load(&self, engine: &Engine, path: &Path) -> Option<Component> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        if !meta.is_file() || !trusted(&meta) || !trusted(&std::fs::metadata(&self.dir).ok()?) {
            return None;
        }
        let bytes = std::fs::read(path).ok()?;
        let authentic = bytes.len() > HEADER_LEN
            && bytes.starts_with(MAGIC)
            && same(&bytes[MAGIC.len()..HEADER_LEN], &self.mac(path, &bytes[HEADER_LEN..]));
        if !authentic {
            let _ = std::fs::remove_file(path);
            return None;
        }
        // SAFETY: these bytes carry a MAC under this user's key, so they are what `store`
        // below wrote (from `Component::serialize`); they are deserialized from memory, the
        // same bytes that were checked. Wasmtime checks their header and version and rejects
        // anything compiled for another engine configuration.
        match unsafe { Component::deserialize(engine, &bytes[HEADER_LEN..]) } {
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
            f.write_all(MAGIC)?;
            f.write_all(&self.mac(path, &bytes))?;
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
