//! A loaded plugin and its calls: a fresh `Store` and instance per call, from the cached
//! `InstancePre`.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi::WasiCtxBuilder;

use crate::bindings::v0_1;
use crate::capabilities::log::mask::Masker;
use crate::capabilities::log::{LogSink, OutputLimitHit};
use crate::capabilities::process::ProcessRunner;
use crate::capabilities::{env, files, http, log, Effective};
use crate::error::{bytes, PluginError};
use crate::grant::{Grant, Limits};
use crate::host::HostInner;
use crate::manifest::{Manifest, World};
use crate::state::{Call, DeadlineHit, Limiter, State};

/// Where a loaded component came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadSource {
    /// Compiled now (and written to the cache, when there is one).
    Compiled,
    /// Loaded from a precompiled file in the cache.
    Cache,
}

pub(crate) enum WorldPre {
    HookV0_1(v0_1::hook::HookPre<State>),
    SecretsV0_1(v0_1::secrets_adapter::SecretsAdapterPre<State>),
    BuilderV0_1(v0_1::builder::BuilderPre<State>),
}

/// A loaded plugin, ready to be called any number of times (concurrently too). Cheap to clone.
#[derive(Clone)]
pub struct Plugin {
    pub(crate) inner: Arc<PluginInner>,
}

pub(crate) struct PluginInner {
    pub host: Arc<HostInner>,
    pub manifest: Manifest,
    pub api: String,
    pub pre: WorldPre,
    pub source: LoadSource,
    pub digest: String,
    pub cache_file: Option<PathBuf>,
}

/// What a hook receives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HookContext {
    /// The hook's name (`post-deploy`).
    pub name: String,
    /// The `KAMAL_*` variables (and secrets, for the hooks Kamal gives them to).
    pub env: Vec<(String, String)>,
}

/// What to build (see the `builder` world in the WIT for each field).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildRequest {
    pub context_dir: String,
    pub dockerfile: String,
    pub tags: Vec<String>,
    pub build_args: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
    pub platforms: Vec<String>,
    pub target: Option<String>,
    pub push: bool,
    pub no_cache: bool,
    pub cache_from: Option<String>,
    pub cache_to: Option<String>,
    pub secrets: Vec<String>,
    pub builder: Option<String>,
    pub ssh: Option<String>,
    pub provenance: Option<String>,
    pub sbom: Option<String>,
}

/// What a builder built.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildResult {
    pub image_id: Option<String>,
    pub digest: Option<String>,
}

/// Per-call options besides the grant.
#[derive(Clone, Default)]
pub struct CallOptions {
    /// Secret values to mask in everything the plugin logs and in its error messages.
    pub secrets: Masker,
    /// Where the plugin's log records go; `None`: the host's default sink.
    pub log: Option<LogSink>,
    /// Where its granted programs run; `None`: on this machine.
    pub runner: Option<Arc<dyn ProcessRunner>>,
}

impl CallOptions {
    pub fn new() -> CallOptions {
        CallOptions::default()
    }

    /// Masks these values (in addition to any given before).
    pub fn secrets<I, S>(mut self, values: I) -> CallOptions
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.secrets.extend(values);
        self
    }

    pub fn log(mut self, sink: LogSink) -> CallOptions {
        self.log = Some(sink);
        self
    }

    /// Runs the plugin's granted programs through `runner` instead of on this machine.
    pub fn runner(mut self, runner: Option<Arc<dyn ProcessRunner>>) -> CallOptions {
        self.runner = runner;
        self
    }
}

impl Plugin {
    pub fn name(&self) -> &str {
        &self.inner.manifest.name
    }

    pub fn manifest(&self) -> &Manifest {
        &self.inner.manifest
    }

    pub fn world(&self) -> World {
        self.inner.manifest.world
    }

    /// The `wharf:plugin` version the component imports (the manifest's when it imports none).
    pub fn api_version(&self) -> &str {
        &self.inner.api
    }

    /// Whether the component was compiled now or loaded precompiled from the cache.
    pub fn load_source(&self) -> LoadSource {
        self.inner.source
    }

    /// Hex SHA-256 of the component's wasm.
    pub fn digest(&self) -> &str {
        &self.inner.digest
    }

    /// The precompiled file in the cache, when there is one.
    pub fn cache_file(&self) -> Option<&Path> {
        self.inner.cache_file.as_deref()
    }

    /// The capabilities the manifest declares that `grant` does not allow (see
    /// [`Grant::missing`]); as errors, for an engine that refuses to run such a plugin.
    pub fn check_grant(&self, grant: &Grant) -> Result<(), PluginError> {
        match grant.missing(&self.inner.manifest).into_iter().next() {
            None => Ok(()),
            Some(capability) => Err(PluginError::NotGranted { plugin: self.name().to_string(), capability }),
        }
    }

    /// Runs a hook plugin. `Err(PluginError::Failed)` when the hook returned an error.
    pub async fn run_hook(&self, ctx: &HookContext, grant: &Grant, opts: &CallOptions) -> Result<(), PluginError> {
        let WorldPre::HookV0_1(pre) = &self.inner.pre else { return Err(self.wrong_world(World::Hook)) };
        let arg = v0_1::hook::HookContext { name: ctx.name.clone(), env: ctx.env.clone() };
        let (mut store, call) = self.store(grant, opts, &[])?;
        let fut = async {
            let hook = pre.instantiate_async(&mut store).await?;
            hook.call_run(&mut store, &arg).await
        };
        let res = guard(&call, fut).await;
        self.finish(&call, res)
    }

    /// Runs a secrets adapter's `fetch`. The values returned are secrets: the caller should
    /// mask them from now on (add them to later calls' [`CallOptions::secrets`]). What the
    /// adapter logs is held until it returns, then passed on with those values masked too.
    pub async fn fetch_secrets(
        &self,
        account: Option<&str>,
        from: Option<&str>,
        names: &[String],
        grant: &Grant,
        opts: &CallOptions,
    ) -> Result<Vec<(String, String)>, PluginError> {
        let WorldPre::SecretsV0_1(pre) = &self.inner.pre else {
            return Err(self.wrong_world(World::SecretsAdapter));
        };
        let (mut store, call) = self.store(grant, opts, &[])?;
        let fut = async {
            let adapter = pre.instantiate_async(&mut store).await?;
            adapter.call_fetch(&mut store, account, from, names).await
        };
        let res = guard(&call, fut).await;
        if let Ok(Ok(pairs)) = &res {
            if let Some(message) = too_many_secrets(pairs) {
                // What the adapter logged may hold the values it returned, which are not taken
                // and so cannot be masked: its output is withheld.
                drop(res);
                call.flush();
                call.discard("it may hold the secrets that were refused");
                return Err(PluginError::TooMuch { plugin: self.name().to_string(), message });
            }
        }
        // What the adapter logged while fetching is passed on only now, with the values it
        // returned masked too.
        let values: Vec<String> = match &res {
            Ok(Ok(pairs)) => pairs.iter().map(|(_, v)| v.clone()).collect(),
            _ => vec![],
        };
        call.flush();
        call.release(&values);
        self.finish(&call, res)
    }

    /// Runs a builder's `build`. The context directory is readable by the plugin (and the
    /// default working directory of the programs it runs is still the grant's).
    pub async fn build(
        &self,
        req: &BuildRequest,
        grant: &Grant,
        opts: &CallOptions,
    ) -> Result<BuildResult, PluginError> {
        let WorldPre::BuilderV0_1(pre) = &self.inner.pre else { return Err(self.wrong_world(World::Builder)) };
        let arg = v0_1::builder::BuildRequest {
            context_dir: req.context_dir.clone(),
            dockerfile: req.dockerfile.clone(),
            tags: req.tags.clone(),
            build_args: req.build_args.clone(),
            labels: req.labels.clone(),
            platforms: req.platforms.clone(),
            target: req.target.clone(),
            push: req.push,
            no_cache: req.no_cache,
            cache_from: req.cache_from.clone(),
            cache_to: req.cache_to.clone(),
            secrets: req.secrets.clone(),
            builder: req.builder.clone(),
            ssh: req.ssh.clone(),
            provenance: req.provenance.clone(),
            sbom: req.sbom.clone(),
        };
        let (mut store, call) = self.store(grant, opts, &[Path::new(&req.context_dir)])?;
        let fut = async {
            let builder = pre.instantiate_async(&mut store).await?;
            builder.call_build(&mut store, &arg).await
        };
        let res = guard(&call, fut).await;
        self.finish(&call, res).map(|r| BuildResult { image_id: r.image_id, digest: r.digest })
    }

    fn wrong_world(&self, expected: World) -> PluginError {
        PluginError::WrongWorld {
            plugin: self.name().to_string(),
            expected: expected.as_str(),
            actual: self.world().as_str(),
        }
    }

    /// A fresh store for one call: WASI with only the readable directories preopened
    /// (read-only), no network, no environment, no arguments, stdin closed, stdout/stderr to
    /// the log; the memory limiter; the epoch deadline.
    /// `extra_dirs` are readable for this call whatever the manifest and grant say.
    fn store(
        &self,
        grant: &Grant,
        opts: &CallOptions,
        extra_dirs: &[&Path],
    ) -> Result<(Store<State>, Arc<Call>), PluginError> {
        let manifest = &self.inner.manifest;
        let limits: Limits = grant.limits(manifest.world);
        let mut caps = Effective::new(manifest, grant);
        for d in extra_dirs {
            caps.files.add_dir(d);
        }
        let sink = opts.log.clone().unwrap_or_else(|| self.inner.host.log.clone());
        let hold = manifest.world == World::SecretsAdapter;
        let mut call = Call::new(manifest.name.clone(), opts.secrets.clone(), sink, caps, limits, hold);
        call.runner = opts.runner.clone();
        let call = Arc::new(call);

        let mut wasi = WasiCtxBuilder::new();
        wasi.allow_tcp(false).allow_udp(false).allow_ip_name_lookup(false);
        log::wasi(&mut wasi, &call);
        env::wasi(&mut wasi, &call.caps.env);
        files::preopen(&mut wasi, &call.caps.files, &manifest.name)?;
        let state = State {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: Limiter::new(limits.memory, call.clone()),
            call: call.clone(),
            http: http::HttpState::new(call.clone()),
        };
        let mut store = Store::new(&self.inner.host.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(1);
        let c = call.clone();
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= c.deadline {
                c.timed_out.store(true, Ordering::SeqCst);
                Err(wasmtime::Error::new(DeadlineHit))
            } else if c.output_exceeded.load(Ordering::SeqCst) {
                // the host's lines about the plugin went over its output limit
                Err(wasmtime::Error::new(OutputLimitHit))
            } else {
                // Give the executor a turn every tick: a busy guest never blocks other tasks.
                Ok(UpdateDeadline::Yield(1))
            }
        });
        Ok((store, call))
    }

    /// Turns the outcome of a call into the plugin's result, naming the limit that stopped it.
    fn finish<R>(&self, call: &Call, res: wasmtime::Result<Result<R, String>>) -> Result<R, PluginError> {
        call.flush();
        call.release(&[]);
        let plugin = self.name().to_string();
        match res {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(message)) => Err(PluginError::Failed { plugin, message: call.masker.mask(&message).into_owned() }),
            Err(_) if call.timed_out.load(Ordering::SeqCst) => {
                Err(PluginError::Timeout { plugin, after: call.limits.timeout })
            }
            Err(_) if call.memory_exceeded.load(Ordering::SeqCst) => {
                Err(PluginError::MemoryLimit { plugin, limit: call.limits.memory })
            }
            Err(_) if call.output_exceeded.load(Ordering::SeqCst) => {
                Err(PluginError::OutputLimit { plugin, limit: call.limits.output })
            }
            Err(e) => {
                let mut message = call.masker.mask(&e.root_cause().to_string()).into_owned();
                let tail = call.stderr_tail();
                if !tail.is_empty() {
                    message.push_str(&format!(" (stderr: {})", tail.join(" / ")));
                }
                Err(PluginError::Trap { plugin, message })
            }
        }
    }
}

/// The most secrets one `fetch` may return.
pub const MAX_SECRETS: usize = 10_000;
/// The most bytes one `fetch` may return, names and values together.
pub const MAX_SECRETS_BYTES: usize = 16 << 20;

/// Why `pairs` is more than a secrets adapter may return, if it is.
fn too_many_secrets(pairs: &[(String, String)]) -> Option<String> {
    if pairs.len() > MAX_SECRETS {
        return Some(format!("{} secrets (at most {MAX_SECRETS} are accepted)", pairs.len()));
    }
    let total: usize = pairs.iter().map(|(k, v)| k.len() + v.len()).sum();
    (total > MAX_SECRETS_BYTES).then(|| {
        format!("{} of secrets (at most {} are accepted)", bytes(total as u64), bytes(MAX_SECRETS_BYTES as u64))
    })
}

/// The call, bounded by the deadline even while it waits in a host function (a grace second
/// after the deadline, since the epoch check normally stops it first).
async fn guard<R>(call: &Call, fut: impl Future<Output = wasmtime::Result<R>>) -> wasmtime::Result<R> {
    let budget = call.deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(1);
    match tokio::time::timeout(budget, fut).await {
        Ok(r) => r,
        Err(_) => {
            call.timed_out.store(true, Ordering::SeqCst);
            Err(wasmtime::Error::new(DeadlineHit))
        }
    }
}
