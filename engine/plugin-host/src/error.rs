//! The host's error type: every variant names the plugin.

use std::time::Duration;

/// Everything that can go wrong loading or calling a plugin. The message always starts with, or
/// names, the plugin; guest-provided text in it has had secret values masked.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The manifest is missing, unreadable or invalid.
    #[error("plugin {plugin}: invalid manifest: {message}")]
    Manifest { plugin: String, message: String },

    /// The component could not be compiled, or does not match its manifest.
    #[error("plugin {plugin}: {message}")]
    Load { plugin: String, message: String },

    /// The plugin was called through a world it does not implement.
    #[error("plugin {plugin} is a {actual} plugin, not a {expected}")]
    WrongWorld { plugin: String, expected: &'static str, actual: &'static str },

    /// A capability the plugin needs was not granted (or not declared in its manifest).
    #[error("plugin {plugin}: capability {capability} not granted")]
    NotGranted { plugin: String, capability: String },

    /// The guest tried to grow its memory past the call's memory limit.
    #[error("plugin {plugin} exceeded its memory limit ({})", bytes(*limit))]
    MemoryLimit { plugin: String, limit: u64 },

    /// The call ran past its wall-clock deadline.
    #[error("plugin {plugin} timed out after {}", duration(*after))]
    Timeout { plugin: String, after: Duration },

    /// The guest wrote more than the call's output limit (logs, stdout and stderr together).
    #[error("plugin {plugin} exceeded its output limit ({})", bytes(*limit as u64))]
    OutputLimit { plugin: String, limit: usize },

    /// The guest trapped (a panic, an `unreachable`, a failed host call ...).
    #[error("plugin {plugin} crashed: {message}")]
    Trap { plugin: String, message: String },

    /// The guest returned an error value (`err(message)`).
    #[error("plugin {plugin} failed: {message}")]
    Failed { plugin: String, message: String },

    /// The guest returned more than the host accepts (too many secrets, say).
    #[error("plugin {plugin} returned too much: {message}")]
    TooMuch { plugin: String, message: String },

    /// The host could not set up the call, or the engine could not be created.
    #[error("plugin {plugin}: {message}")]
    Host { plugin: String, message: String },
}

impl PluginError {
    /// The plugin the error is about (empty for engine-wide errors).
    pub fn plugin(&self) -> &str {
        match self {
            PluginError::Manifest { plugin, .. }
            | PluginError::Load { plugin, .. }
            | PluginError::WrongWorld { plugin, .. }
            | PluginError::NotGranted { plugin, .. }
            | PluginError::MemoryLimit { plugin, .. }
            | PluginError::Timeout { plugin, .. }
            | PluginError::OutputLimit { plugin, .. }
            | PluginError::Trap { plugin, .. }
            | PluginError::Failed { plugin, .. }
            | PluginError::TooMuch { plugin, .. }
            | PluginError::Host { plugin, .. } => plugin,
        }
    }
}

/// `128 MiB`, `64 KiB`, `1000 bytes`.
pub(crate) fn bytes(n: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    const GIB: u64 = 1024 * 1024 * 1024;
    if n >= GIB && n.is_multiple_of(GIB) {
        format!("{} GiB", n / GIB)
    } else if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= KIB && n.is_multiple_of(KIB) {
        format!("{} KiB", n / KIB)
    } else {
        format!("{n} bytes")
    }
}

/// `2s`, `300s`, `1500ms`.
pub(crate) fn duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(bytes(128 << 20), "128 MiB");
        assert_eq!(bytes(4 << 30), "4 GiB");
        assert_eq!(bytes(64 << 10), "64 KiB");
        assert_eq!(bytes(1000), "1000 bytes");
        assert_eq!(duration(Duration::from_secs(2)), "2s");
        assert_eq!(duration(Duration::from_millis(1500)), "1500ms");
        let e = PluginError::MemoryLimit { plugin: "bomb".into(), limit: 128 << 20 };
        assert_eq!(e.to_string(), "plugin bomb exceeded its memory limit (128 MiB)");
        let e = PluginError::Timeout { plugin: "loop".into(), after: Duration::from_secs(2) };
        assert_eq!(e.to_string(), "plugin loop timed out after 2s");
        let e = PluginError::NotGranted { plugin: "x".into(), capability: "program sh".into() };
        assert_eq!(e.to_string(), "plugin x: capability program sh not granted");
    }
}
