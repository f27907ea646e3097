//! Reading files under granted directories (`wharf:plugin/files`).
//!
//! Paths are absolute, or relative to the grant's working directory (the project, for hooks).
//! The same directories are readable with `std::fs` (mounted read-only at their host paths).

use crate::bindings::wharf::plugin::files as raw;
pub use raw::{DirEntry, Error};

/// The bytes of the file at `path`.
pub fn read(path: &str) -> Result<Vec<u8>, Error> {
    raw::read(path)
}

/// The text of the file at `path`.
pub fn read_string(path: &str) -> Result<String, Error> {
    raw::read_string(path)
}

/// The entries of the directory at `path`, sorted by name.
pub fn list_dir(path: &str) -> Result<Vec<DirEntry>, Error> {
    raw::list_dir(path)
}

/// Whether `path` exists inside a granted directory.
pub fn exists(path: &str) -> bool {
    raw::exists(path)
}

/// A one-line description of a files error.
pub fn describe(e: &Error) -> String {
    match e {
        Error::NotGranted(m) | Error::NotFound(m) | Error::Io(m) => m.clone(),
        Error::TooLarge(n) => format!("file too large ({n} bytes)"),
    }
}
