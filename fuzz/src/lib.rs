//! Helpers the fuzz targets share: turning fuzz bytes into text and into argument words, and a
//! scratch directory per process.

use std::path::PathBuf;

/// The input as text; `None` when it is not UTF-8 (the parsers under test take `&str`).
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Words of a command line: split on NUL when the input holds one (so a word may contain
/// spaces), else on ASCII whitespace (so seeds and dictionaries stay readable).
pub fn words(text: &str) -> Vec<String> {
    if text.contains('\0') {
        text.split('\0').map(str::to_string).collect()
    } else {
        text.split_ascii_whitespace().map(str::to_string).collect()
    }
}

/// An empty directory of this process's own under the system temp directory, created on first
/// use: the working directory and `HOME` the targets give the code under test, so that nothing
/// relative lands in the repository or the user's home.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wharf-fuzz-{name}-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create the fuzz scratch directory {}: {e}", dir.display());
    }
    dir
}
