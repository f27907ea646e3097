//! Logging through the host (`wharf:plugin/log`).
//!
//! The host prefixes each message with the plugin's name and masks every known secret value.
//! `println!` and `eprintln!` work too (captured line by line at `info` and `warn`). Messages,
//! stdout and stderr count against the call's output limit (1 MiB by default).

pub use crate::bindings::wharf::plugin::log::Level;

/// Writes `message` at `level`.
pub fn log(level: Level, message: &str) {
    crate::bindings::wharf::plugin::log::log(level, message)
}

pub fn trace(message: &str) {
    log(Level::Trace, message)
}

pub fn debug(message: &str) {
    log(Level::Debug, message)
}

pub fn info(message: &str) {
    log(Level::Info, message)
}

pub fn warn(message: &str) {
    log(Level::Warn, message)
}

pub fn error(message: &str) {
    log(Level::Error, message)
}

/// `info!("deployed {}", version)`: formats and logs at `info`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::info(&::std::format!($($arg)*)) };
}

/// Formats and logs at `warn`.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::warn(&::std::format!($($arg)*)) };
}

/// Formats and logs at `error`.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::error(&::std::format!($($arg)*)) };
}

/// Formats and logs at `debug`.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::debug(&::std::format!($($arg)*)) };
}
