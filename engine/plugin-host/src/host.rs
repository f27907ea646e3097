//! The engine: one Wasmtime `Engine`, its epoch ticker, the linker, the on-disk cache.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::v0_1;
use crate::cache::{default_cache_key_file, sha256_hex, Cache};
use crate::capabilities::log::{stderr_sink, LogSink};
use crate::error::PluginError;
use crate::manifest::{api_compatible, Manifest, World};
use crate::plugin::{LoadSource, Plugin, PluginInner, WorldPre};
use crate::state::State;

/// How the host is set up. `HostConfig::default()` is what Wharf uses.
#[derive(Clone)]
pub struct HostConfig {
    /// Where precompiled components are kept; `None` compiles every time.
    /// Default: [`default_cache_dir`].
    pub cache_dir: Option<PathBuf>,
    /// The key that authenticates the cache's files, kept apart from them; created when
    /// missing. Default: [`default_cache_key_file`].
    pub cache_key_file: Option<PathBuf>,
    /// How often the epoch advances: the granularity of deadlines, and how often a busy guest
    /// yields to the async executor. Default 10 ms.
    pub epoch_tick: Duration,
    /// Try the pooling instance allocator (falls back to on-demand allocation when the address
    /// space cannot be reserved). Default true.
    pub pooling: bool,
    /// Plugin calls that can run at once with the pooling allocator. Default 64.
    pub max_concurrent_calls: u32,
    /// Where log records go unless a call says otherwise. Default: stderr, `info` and above.
    pub log: LogSink,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            cache_dir: default_cache_dir(),
            cache_key_file: default_cache_key_file(),
            epoch_tick: Duration::from_millis(10),
            pooling: true,
            max_concurrent_calls: 64,
            log: stderr_sink(),
        }
    }
}

/// `$XDG_CACHE_HOME/wharf/plugins`, else `~/.cache/wharf/plugins`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("wharf").join("plugins"))
}

/// The instance allocator the engine ended up with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allocator {
    Pooling,
    OnDemand,
}

/// Loads and runs plugins. Cheap to clone; one per process is the intent.
#[derive(Clone)]
pub struct PluginHost {
    pub(crate) inner: Arc<HostInner>,
}

pub(crate) struct HostInner {
    pub engine: Engine,
    pub linker: Linker<State>,
    pub cache: Option<Cache>,
    pub cache_error: Option<String>,
    pub allocator: Allocator,
    pub log: LogSink,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for HostInner {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::SeqCst);
    }
}

fn host_error(message: impl std::fmt::Display) -> PluginError {
    PluginError::Host { plugin: "(host)".into(), message: message.to_string() }
}

impl PluginHost {
    /// Creates the engine, starts its epoch ticker, and opens the cache directory (a cache
    /// that cannot be opened is not an error: components are then compiled every time, and
    /// [`PluginHost::cache_error`] says why).
    pub fn new(config: HostConfig) -> Result<PluginHost, PluginError> {
        let mut cfg = Config::new();
        cfg.wasm_component_model(true);
        cfg.epoch_interruption(true);
        let (engine, allocator) = if config.pooling {
            let n = config.max_concurrent_calls.max(1);
            let mut pool = PoolingAllocationConfig::new();
            pool.total_component_instances(n)
                .total_core_instances(n * 8)
                .total_memories(n * 2)
                .total_tables(n * 4)
                .total_stacks(n)
                .max_memory_size(4 << 30);
            cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
            match Engine::new(&cfg) {
                Ok(e) => (e, Allocator::Pooling),
                Err(_) => {
                    cfg.allocation_strategy(InstanceAllocationStrategy::OnDemand);
                    (Engine::new(&cfg).map_err(host_error)?, Allocator::OnDemand)
                }
            }
        } else {
            cfg.allocation_strategy(InstanceAllocationStrategy::OnDemand);
            (Engine::new(&cfg).map_err(host_error)?, Allocator::OnDemand)
        };

        let mut linker: Linker<State> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(host_error)?;
        crate::capabilities::add_to_linker(&mut linker).map_err(host_error)?;

        let (cache, cache_error) = match (&config.cache_dir, &config.cache_key_file) {
            (None, _) => (None, None),
            (Some(dir), None) => (
                None,
                Some(format!("plugin cache {}: no place for its key (set HOME or XDG_STATE_HOME)", dir.display())),
            ),
            (Some(dir), Some(key)) => match Cache::open(dir, key) {
                Ok(c) => (Some(c), None),
                Err(e) => (None, Some(format!("plugin cache {}: {e}", dir.display()))),
            },
        };

        let stop = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = stop.clone();
            let tick = config.epoch_tick.max(Duration::from_millis(1));
            std::thread::Builder::new()
                .name("wharf-plugin-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        engine.increment_epoch();
                    }
                })
                .map_err(host_error)?;
        }

        Ok(PluginHost {
            inner: Arc::new(HostInner {
                engine,
                linker,
                cache,
                cache_error,
                allocator,
                log: config.log,
                ticker_stop: stop,
            }),
        })
    }

    /// The Wasmtime engine (shared by every plugin of this host).
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Which instance allocator is in use.
    pub fn allocator(&self) -> Allocator {
        self.inner.allocator
    }

    /// The cache directory in use, if any.
    pub fn cache_dir(&self) -> Option<&Path> {
        self.inner.cache.as_ref().map(|c| c.dir())
    }

    /// Why the configured cache directory is not used, if it is not.
    pub fn cache_error(&self) -> Option<&str> {
        self.inner.cache_error.as_deref()
    }

    /// Loads the plugin described by the `plugin.toml` at `manifest_path`.
    pub fn load_file(&self, manifest_path: &Path) -> Result<Plugin, PluginError> {
        let (manifest, component) = Manifest::from_file(manifest_path)?;
        let wasm = std::fs::read(&component).map_err(|e| PluginError::Load {
            plugin: manifest.name.clone(),
            message: format!("cannot read {}: {e}", component.display()),
        })?;
        self.load(manifest, &wasm)
    }

    /// Loads a plugin from its manifest and component bytes: from the cache when this
    /// component was compiled before by the same engine configuration, else compiling it (and
    /// caching the result). Checks that the component implements the manifest's world with
    /// imports this host provides. CPU-heavy on a cache miss (tens of milliseconds for a small
    /// Rust component, seconds for Python or JavaScript): call it from a blocking context.
    pub fn load(&self, manifest: Manifest, wasm: &[u8]) -> Result<Plugin, PluginError> {
        let inner = &self.inner;
        let name = manifest.name.clone();
        let load_err = |message: String| PluginError::Load { plugin: name.clone(), message };
        let digest = sha256_hex(wasm);
        let compile = || Component::new(&inner.engine, wasm).map_err(|e| load_err(format!("invalid component: {e:#}")));

        let (component, source, cache_file) = match &inner.cache {
            None => (compile()?, LoadSource::Compiled, None),
            Some(cache) => {
                let path = cache.path(&inner.engine, &digest);
                match cache.load(&inner.engine, &path) {
                    Some(c) => (c, LoadSource::Cache, Some(path)),
                    None => {
                        let c = compile()?;
                        let stored = cache.store(&c, &path).is_ok();
                        (c, LoadSource::Compiled, stored.then_some(path))
                    }
                }
            }
        };

        // The API version the SDK stamped (or plugin.toml's, for a component built without one).
        let manifest = manifest.with_component(wasm)?;
        // The wharf:plugin version the component was built against, from its import names.
        let mut api = None;
        for (import, _) in component.component_type().imports(&inner.engine) {
            if let Some(rest) = import.strip_prefix("wharf:plugin/") {
                if let Some((_, version)) = rest.split_once('@') {
                    if !api_compatible(&manifest.api, version) && !api_compatible(version, &manifest.api) {
                        return Err(load_err(format!(
                            "its manifest says api {} but the component imports {import}",
                            manifest.api
                        )));
                    }
                    api = Some(version.to_string());
                }
            }
        }

        let pre = inner.linker.instantiate_pre(&component).map_err(|e| {
            load_err(format!(
                "its component needs imports this host does not provide (of the network, only wasi:http to granted hosts is offered): {e:#}"
            ))
        })?;
        let world_err =
            |e: wasmtime::Error| load_err(format!("does not implement the {} world: {e:#}", manifest.world));
        let pre = match manifest.world {
            World::Hook => WorldPre::HookV0_1(v0_1::hook::HookPre::new(pre).map_err(world_err)?),
            World::SecretsAdapter => {
                WorldPre::SecretsV0_1(v0_1::secrets_adapter::SecretsAdapterPre::new(pre).map_err(world_err)?)
            }
            World::Builder => WorldPre::BuilderV0_1(v0_1::builder::BuilderPre::new(pre).map_err(world_err)?),
        };

        Ok(Plugin {
            inner: Arc::new(PluginInner {
                host: inner.clone(),
                api: api.unwrap_or_else(|| manifest.api.clone()),
                manifest,
                pre,
                source,
                digest,
                cache_file,
            }),
        })
    }
}
