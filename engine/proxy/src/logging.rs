//! JSON log lines on stdout, as upstream's slog JSON handler writes them: `time`, `level`, `msg`,
//! then the attributes in order.

use serde_json::{Map, Value};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static DEBUG: AtomicBool = AtomicBool::new(false);

pub fn set_debug(on: bool) {
    DEBUG.store(on, Ordering::Relaxed);
}

pub fn debug_enabled() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

#[derive(Clone, Copy)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

pub fn log(level: Level, msg: &str, attrs: &[(&str, Value)]) {
    if matches!(level, Level::Debug) && !debug_enabled() {
        return;
    }
    let mut m = Map::with_capacity(attrs.len() + 3);
    m.insert("time".into(), Value::String(now_rfc3339()));
    let level = match level {
        Level::Debug => "DEBUG",
        Level::Info => "INFO",
        Level::Warn => "WARN",
        Level::Error => "ERROR",
    };
    m.insert("level".into(), Value::String(level.into()));
    m.insert("msg".into(), Value::String(msg.into()));
    for (k, v) in attrs {
        m.insert((*k).to_string(), v.clone());
    }
    write_line(&Value::Object(m));
}

/// Writes one already-built JSON object as a line.
pub fn write_line(v: &Value) {
    let mut line = serde_json::to_vec(v).unwrap_or_default();
    line.push(b'\n');
    let _ = std::io::stdout().lock().write_all(&line);
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

#[macro_export]
macro_rules! log_info {
    ($msg:expr $(, $k:expr => $v:expr)* $(,)?) => {
        $crate::logging::log($crate::logging::Level::Info, $msg, &[$(($k, serde_json::json!($v))),*])
    };
}

#[macro_export]
macro_rules! log_warn {
    ($msg:expr $(, $k:expr => $v:expr)* $(,)?) => {
        $crate::logging::log($crate::logging::Level::Warn, $msg, &[$(($k, serde_json::json!($v))),*])
    };
}

#[macro_export]
macro_rules! log_error {
    ($msg:expr $(, $k:expr => $v:expr)* $(,)?) => {
        $crate::logging::log($crate::logging::Level::Error, $msg, &[$(($k, serde_json::json!($v))),*])
    };
}

#[macro_export]
macro_rules! log_debug {
    ($msg:expr $(, $k:expr => $v:expr)* $(,)?) => {
        if $crate::logging::debug_enabled() {
            $crate::logging::log($crate::logging::Level::Debug, $msg, &[$(($k, serde_json::json!($v))),*])
        }
    };
}
