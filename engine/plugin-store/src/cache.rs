//! Fetched plugin files, content-addressed: `ROOT/blobs/sha256/<hex>`, where ROOT is
//! `$XDG_CACHE_HOME/wharf/plugins` (else `~/.cache/wharf/plugins`; the same root as the plugin
//! host's precompiled components).
//!
//! Directories are created with mode 0700; a blob is written to a temporary file in the same
//! directory (mode 0600), synced and renamed into place, so a reader never sees half a file.
//! Every read recomputes the SHA-256 and refuses a blob whose content does not match its name.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::pack::sha256_hex;

/// The blob cache.
#[derive(Clone, Debug)]
pub struct BlobCache {
    dir: PathBuf,
}

/// A cached blob whose content does not match its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt {
    pub path: PathBuf,
    pub expected: String,
    pub actual: String,
}

impl BlobCache {
    /// The cache under `root` (`ROOT/blobs/sha256`).
    pub fn new(root: &Path) -> BlobCache {
        BlobCache { dir: root.join("blobs").join("sha256") }
    }

    /// The cache under the plugin host's default cache directory.
    pub fn user_default() -> Option<BlobCache> {
        wharf_plugin_host::default_cache_dir().map(|root| BlobCache::new(&root))
    }

    /// The directory holding the blobs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the blob with this hex sha256 is (or would be).
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(sha256)
    }

    /// The blob with this hex sha256: `Ok(None)` when absent, `Err` when its content does not
    /// match.
    pub fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, Corrupt> {
        let path = self.path(sha256);
        let Ok(bytes) = std::fs::read(&path) else { return Ok(None) };
        let actual = sha256_hex(&bytes);
        if actual != sha256 {
            return Err(Corrupt { path, expected: sha256.to_string(), actual });
        }
        Ok(Some(bytes))
    }

    /// Stores `bytes` (atomically) and returns their hex sha256.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let sha = sha256_hex(bytes);
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.dir)?;
        let tmp = self.dir.join(format!(".tmp-{sha}-{}-{}", std::process::id(), unique()));
        let result = (|| {
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, self.path(&sha))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map(|()| sha)
    }

    /// Removes the blob (a corrupt one, before fetching it again).
    pub fn remove(&self, sha256: &str) {
        let _ = std::fs::remove_file(self.path(sha256));
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn stores_verifies_and_detects_tampering() {
        let root = tempfile::tempdir().unwrap();
        let cache = BlobCache::new(root.path());
        assert_eq!(cache.get(&"0".repeat(64)), Ok(None));
        let sha = cache.put(b"hello").unwrap();
        assert_eq!(sha, sha256_hex(b"hello"));
        assert_eq!(cache.get(&sha).unwrap().unwrap(), b"hello");
        let mode = std::fs::metadata(cache.dir()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        std::fs::write(cache.path(&sha), b"jello").unwrap();
        let e = cache.get(&sha).unwrap_err();
        assert_eq!((e.expected, e.actual), (sha, sha256_hex(b"jello")));
    }
}
