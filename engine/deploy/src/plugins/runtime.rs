//! The machinery every plugin call shares: one plugin host for the process ([`shared_host`]),
//! the built-in plugins, running a plugin call from synchronous code ([`block_on`]), and where a
//! plugin's log lines go ([`terminal_sink`]).

use std::sync::{Arc, OnceLock};

use wharf_plugin_host::{HostConfig, Level, LogRecord, LogSink, PluginHost};
use wharf_plugin_store::BuiltinPlugin;

use crate::error::{CliError, Result};

/// The process's plugin host, created on first use.
pub fn shared_host() -> Result<&'static PluginHost> {
    static HOST: OnceLock<std::result::Result<PluginHost, String>> = OnceLock::new();
    HOST.get_or_init(|| PluginHost::new(HostConfig::default()).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| CliError::runtime(format!("cannot start the plugin host: {e}")))
}

/// The plugins compiled into this binary, for the store.
pub fn builtins() -> Vec<BuiltinPlugin> {
    wharf_builtin_plugins::all()
        .iter()
        .map(|b| BuiltinPlugin { name: b.name, manifest: b.manifest, wasm: b.wasm })
        .collect()
}

/// Runs `fut` to completion on a fresh current-thread runtime in a scoped thread.
pub fn block_on<F>(fut: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime for a plugin call");
            let out = runtime.block_on(fut);
            // A host call the plugin's deadline cut short (a read of a FIFO, say) may still
            // hold a blocking thread: do not wait for it.
            runtime.shutdown_background();
            out
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// How much of a plugin's log the user sees.
#[derive(Clone, Copy, Debug)]
pub struct Verbosity {
    /// `info` lines (otherwise only warnings and errors).
    pub info: bool,
    /// `debug` lines (docker's output, each program a plugin runs).
    pub debug: bool,
}

/// Plugin log lines on the terminal: `  [name] message`, warnings and errors to stderr.
pub fn terminal_sink(v: Verbosity) -> LogSink {
    Arc::new(move |r: &LogRecord| {
        let show = match r.level {
            Level::Error | Level::Warn => true,
            Level::Info => v.info,
            Level::Debug => v.debug,
            Level::Trace => false,
        };
        if !show {
            return;
        }
        for line in r.message.lines() {
            if r.level >= Level::Warn {
                eprintln!("  [{}] {line}", r.plugin);
            } else {
                crate::output::line(&format!("  [{}] {line}", r.plugin));
            }
        }
    })
}

/// The environment a plugin's programs start from: what a tool needs to find itself and its
/// configuration (`PATH`, `HOME`, `USER`, `LANG`, `TMPDIR`), plus the variables in `vars` that
/// are set in Wharf's environment.
pub fn base_env(vars: &[String]) -> Vec<(String, String)> {
    let mut names: Vec<&str> = vec!["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TMPDIR"];
    names.extend(vars.iter().map(String::as_str));
    let mut out: Vec<(String, String)> = vec![];
    for n in names {
        if let Ok(v) = std::env::var(n) {
            if !out.iter().any(|(k, _)| k == n) {
                out.push((n.to_string(), v));
            }
        }
    }
    out
}
