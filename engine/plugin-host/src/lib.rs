//! Wharf's WebAssembly plugin host.
//!
//! Plugins are WebAssembly components implementing one world of the `wharf:plugin` WIT package
//! (`wit/wharf-plugin@0.1.0/`): a deploy **hook**, a **secrets adapter**, or an image
//! **builder**. A plugin is a [`Manifest`] (`plugin.toml`: its world, API version and the
//! capabilities it asks for) plus its component. The user's [`Grant`] (from deploy.yml) says
//! what it may actually use; only what both allow is available.
//!
//! ```ignore
//! let host = PluginHost::new(HostConfig::default())?;
//! let plugin = host.load_file(Path::new(".kamal/plugins/notify/plugin.toml"))?;
//! let grant = Grant::new().workdir(project).directory(".").program("git", ["rev-parse", "**"]);
//! let ctx = HookContext { name: "post-deploy".into(), env: kamal_env };
//! plugin.run_hook(&ctx, &grant, &CallOptions::new().secrets(secret_values)).await?;
//! ```
//!
//! The sandbox:
//! - One Wasmtime [`Engine`](wasmtime::Engine) per host (component model, async, epoch
//!   interruption with a 10 ms ticker thread, the pooling allocator when the address space
//!   allows, on-demand otherwise).
//! - Components are compiled once and kept precompiled on disk (see [`HostConfig::cache_dir`]),
//!   keyed by the wasm's SHA-256 and the engine's compatibility hash; an `InstancePre` is kept
//!   per plugin; every call gets a fresh `Store` and instance.
//! - Per call ([`Limits`]): memory (default 128 MiB), a wall-clock deadline (hooks 300 s,
//!   secrets adapters 30 s, builders 3600 s), output (1 MiB; 16 MiB for builders). Errors name
//!   the plugin and the limit: `plugin X exceeded its memory limit (128 MiB)`,
//!   `plugin X timed out after 2s`.
//! - WASI 0.2 with no preopened directory but the granted ones (read-only), no sockets, only
//!   the granted variables in the environment, no arguments, stdin closed; stdout and stderr
//!   go to the log. `wasi:http/outgoing-handler` reaches only hosts both declared and granted
//!   (`capabilities/http.rs`).
//! - The host's own imports: `log` (secret values masked), `process` (allow-listed programs, no
//!   shell, cleared environment, timeout, capped output), `files` (granted directories).
//!   A denial is an ordinary error value for the guest:
//!   `plugin X: capability program sh not granted`.
//!
//! Each capability (process, files, http, env, log, terminal) is a module of `capabilities/`
//! owning its manifest fields, its part of the grant, its check and its host implementation.

mod bindings;
mod cache;
mod capabilities;
mod error;
mod grant;
mod host;
mod manifest;
mod plugin;
mod state;

pub use cache::default_cache_key_file;
pub use capabilities::http::host_matches;
pub use capabilities::log::mask::Masker;
pub use capabilities::log::{stderr_sink, Level, LogRecord, LogSink, Stream};
pub use capabilities::process::{ProcessRunner, ProgramOutput, ProgramRule, ProgramRun, ANY_ARGUMENTS};
pub use capabilities::Capabilities;
pub use error::PluginError;
pub use grant::{Grant, Limits};
pub use host::{default_cache_dir, Allocator, HostConfig, PluginHost};
pub use manifest::{api_stamp, Manifest, World, API_VERSION_SECTION, SUPPORTED_APIS};
pub use plugin::{BuildRequest, BuildResult, CallOptions, HookContext, LoadSource, Plugin};
