//! The state file: read on `run`, written after every change. Writes are atomic (a temp file in
//! the same directory, fsync, rename, fsync of the directory), so a crash mid-write leaves the old
//! state whole; upstream truncates and rewrites in place.

use serde::{de::DeserializeOwned, Serialize};
use std::io::Write;
use std::path::Path;

pub fn write_atomically<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".kamal-proxy.state.").tempfile_in(dir)?;
    let mut json = serde_json::to_vec(value)?;
    json.push(b'\n');
    tmp.write_all(&json)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// `Ok(None)` when there is no state file yet.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| format!("decoding {}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("reading {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips_and_replaces_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/kamal-proxy.state");
        super::write_atomically(&path, &vec![1, 2, 3]).unwrap();
        super::write_atomically(&path, &vec![4]).unwrap();
        assert_eq!(super::read::<Vec<i32>>(&path).unwrap(), Some(vec![4]));
        assert_eq!(std::fs::read_dir(path.parent().unwrap()).unwrap().count(), 1, "no temp files left");
        assert_eq!(super::read::<Vec<i32>>(&dir.path().join("none")).unwrap(), None);
    }
}
