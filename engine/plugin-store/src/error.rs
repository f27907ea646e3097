//! The store's error type: every variant names the plugin (or the file) and the source.

use wharf_plugin_host::PluginError;

/// Everything that can go wrong finding, fetching, packing or pinning a plugin.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The source string cannot be understood.
    #[error("plugin {plugin}: invalid source {source_text:?}: {message}")]
    BadSource { plugin: String, source_text: String, message: String },

    /// A packed file or component is malformed.
    #[error("plugin {plugin} ({source_text}): {message}")]
    Pack { plugin: String, source_text: String, message: String },

    /// The manifest inside a source is invalid.
    #[error("plugin {plugin} ({source_text}): {error}")]
    Manifest { plugin: String, source_text: String, error: PluginError },

    /// A file could not be read or written.
    #[error("plugin {plugin} ({source_text}): {message}")]
    Io { plugin: String, source_text: String, message: String },

    /// A download or registry operation failed.
    #[error("plugin {plugin} ({source_text}): {message}")]
    Fetch { plugin: String, source_text: String, message: String },

    /// An `https://` source was given without a sha256.
    #[error("plugin {plugin}: source {source_text} needs a sha256 (add `sha256:` to its configuration); refusing to download it unpinned")]
    Unpinned { plugin: String, source_text: String },

    /// Content does not have the digest it was pinned to (by configuration, lock file or
    /// cache address).
    #[error(
        "plugin {plugin} ({source_text}): digest mismatch in {what}: expected sha256:{expected}, got sha256:{actual}"
    )]
    Digest { plugin: String, source_text: String, what: String, expected: String, actual: String },

    /// The lock file pins a plugin to another source than the configuration gives.
    #[error("plugin {plugin}: the lock file pins source {locked}, the configuration says {configured}; run `wharf plugin fetch` to update the lock")]
    LockSource { plugin: String, locked: String, configured: String },

    /// The lock file is malformed, or has no entry for a configured plugin.
    #[error("lock file {path}: {message}")]
    Lock { path: String, message: String },

    /// No built-in plugin has this name.
    #[error("plugin {plugin}: no built-in plugin named {name:?}")]
    NoBuiltin { plugin: String, name: String },
}

impl StoreError {
    /// Builds a `map_err` closure for I/O-like errors of `plugin` from `source`.
    pub(crate) fn io(plugin: &str, source: &str) -> impl Fn(String) -> StoreError {
        let (plugin, source) = (plugin.to_string(), source.to_string());
        move |message| StoreError::Io { plugin: plugin.clone(), source_text: source.clone(), message }
    }

    pub(crate) fn fetch(plugin: &str, source: &str) -> impl Fn(String) -> StoreError {
        let (plugin, source) = (plugin.to_string(), source.to_string());
        move |message| StoreError::Fetch { plugin: plugin.clone(), source_text: source.clone(), message }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
