//! `.kamal/plugins.lock`: what each configured plugin resolved to, so that every machine and
//! every later deploy runs the same bytes.
//!
//! ```toml
//! # Written by `wharf plugin fetch`. Commit it; `wharf plugin verify` checks it.
//! version = 1
//!
//! [plugins.notify]
//! source = "oci://ghcr.io/acme/notify:1.0"
//! sha256 = "9f2c..."            # of the packed plugin file
//! manifest_digest = "41ab..."   # OCI sources: the manifest pulled
//! ```
//!
//! With a lock file present, loading a plugin uses the pinned digests (an OCI source is pulled
//! by its pinned manifest digest, not its tag), and content with another digest is refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};

/// Where the lock file is, relative to the project directory.
pub const LOCK_PATH: &str = ".kamal/plugins.lock";

/// One plugin's pin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockEntry {
    /// The source as configured.
    pub source: String,
    /// Hex sha256 of the packed plugin file.
    pub sha256: String,
    /// Hex sha256 of the OCI manifest (OCI sources only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
}

/// The whole lock file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockFile {
    pub version: u32,
    #[serde(default)]
    pub plugins: BTreeMap<String, LockEntry>,
}

const HEADER: &str = "# Written by `wharf plugin fetch`: the digest each plugin resolved to. Commit it;\n\
# `wharf plugin verify` checks it. See docs/plugin-sources.md.\n";

impl LockFile {
    pub fn new() -> LockFile {
        LockFile { version: 1, plugins: BTreeMap::new() }
    }

    /// The lock file of the project in `project`.
    pub fn path(project: &Path) -> PathBuf {
        project.join(LOCK_PATH)
    }

    /// Reads the lock file at `path`; `Ok(None)` when there is none.
    pub fn read(path: &Path) -> Result<Option<LockFile>> {
        let err = |message: String| StoreError::Lock { path: path.display().to_string(), message };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(err(e.to_string())),
        };
        let lock: LockFile = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
        if lock.version != 1 {
            return Err(err(format!("version {} is not supported (1 is)", lock.version)));
        }
        for (name, entry) in &lock.plugins {
            for d in std::iter::once(&entry.sha256).chain(entry.manifest_digest.as_ref()) {
                crate::pack::parse_sha256(d).map_err(|e| err(format!("plugin {name}: {e}")))?;
            }
        }
        Ok(Some(lock))
    }

    /// Writes the lock file atomically (creating `.kamal/` if needed).
    pub fn write(&self, path: &Path) -> Result<()> {
        let err = |message: String| StoreError::Lock { path: path.display().to_string(), message };
        let body = toml::to_string_pretty(self).map_err(|e| err(e.to_string()))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        }
        let tmp = path.with_extension(format!("lock.tmp{}", std::process::id()));
        std::fs::write(&tmp, format!("{HEADER}{body}")).map_err(|e| err(e.to_string()))?;
        std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = LockFile::path(dir.path());
        assert_eq!(LockFile::read(&path).unwrap(), None);
        let mut lock = LockFile::new();
        lock.plugins.insert(
            "notify".into(),
            LockEntry { source: "oci://r/a:1".into(), sha256: "a".repeat(64), manifest_digest: Some("b".repeat(64)) },
        );
        lock.plugins.insert(
            "x".into(),
            LockEntry { source: "builtin:x".into(), sha256: "c".repeat(64), manifest_digest: None },
        );
        lock.write(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("[plugins.notify]"), "{text}");
        assert_eq!(LockFile::read(&path).unwrap(), Some(lock));
        std::fs::write(&path, "version = 1\n[plugins.x]\nsource = \"a\"\nsha256 = \"zz\"\n").unwrap();
        assert!(LockFile::read(&path).unwrap_err().to_string().contains("plugin x"));
    }
}
