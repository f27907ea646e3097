//! Resolving configured plugins: from their source, through the cache, against the lock file.

use std::path::{Path, PathBuf};

use wharf_plugin_host::{Manifest, Plugin, PluginHost};

use crate::builtin::BuiltinPlugin;
use crate::cache::BlobCache;
use crate::error::{Result, StoreError};
use crate::lock::{LockEntry, LockFile};
use crate::net::{chain, read_capped, NetOptions};
use crate::oci::{ArtifactInfo, Pushed, Reference, Registry};
use crate::pack::parse_sha256;
use crate::pack::{self, sha256_hex};
use crate::source::Source;

/// A plugin as configured (deploy.yml's `x-wharf.plugins`, or the command line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginSpec {
    /// The name the project knows it by.
    pub name: String,
    /// The source string (see [`Source`]).
    pub source: String,
    /// The expected sha256 of the packed file (`HEX` or `sha256:HEX`); required for URLs.
    pub sha256: Option<String>,
}

impl PluginSpec {
    pub fn new(name: impl Into<String>, source: impl Into<String>) -> PluginSpec {
        PluginSpec { name: name.into(), source: source.into(), sha256: None }
    }

    pub fn sha256(mut self, sha256: impl Into<String>) -> PluginSpec {
        self.sha256 = Some(sha256.into());
        self
    }
}

/// A plugin found and checked: its manifest and component, and the digests that pin it.
#[derive(Clone)]
pub struct Resolved {
    pub name: String,
    pub source: Source,
    /// The source string as configured.
    pub source_text: String,
    pub manifest_text: String,
    pub manifest: Manifest,
    /// The component without the manifest section.
    pub component: Vec<u8>,
    /// Size of the packed file, in bytes.
    pub size: usize,
    /// Hex sha256 of the packed file.
    pub sha256: String,
    /// Hex sha256 of the OCI manifest, for OCI sources.
    pub manifest_digest: Option<String>,
    /// Whether the bytes came from the blob cache.
    pub from_cache: bool,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolved")
            .field("name", &self.name)
            .field("source", &self.source_text)
            .field("manifest", &self.manifest)
            .field("size", &self.size)
            .field("sha256", &self.sha256)
            .field("manifest_digest", &self.manifest_digest)
            .field("from_cache", &self.from_cache)
            .finish_non_exhaustive()
    }
}

impl Resolved {
    /// The packed plugin file.
    pub fn packed(&self) -> Vec<u8> {
        pack::pack(&self.manifest_text, &self.component).expect("a resolved component packs")
    }

    /// The lock file entry pinning this plugin.
    pub fn lock_entry(&self) -> LockEntry {
        LockEntry {
            source: self.source_text.clone(),
            sha256: self.sha256.clone(),
            manifest_digest: self.manifest_digest.clone(),
        }
    }

    /// Compiles (or loads precompiled) the component in `host`. CPU-heavy on a cache miss.
    pub fn load(&self, host: &PluginHost) -> Result<Plugin> {
        host.load(self.manifest.clone(), &self.component).map_err(|error| StoreError::Manifest {
            plugin: self.name.clone(),
            source_text: self.source_text.clone(),
            error,
        })
    }
}

/// How much to trust the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Use cached blobs (verified); a corrupt one is an error.
    Load,
    /// Download remote sources again and refresh the cache.
    Refresh,
    /// No network: a remote source not in the cache is not resolved.
    Offline,
}

const OFFLINE: &str = "not fetched yet";

/// A name for a plugin known only by its source: `builtin:NAME`'s name, else the last path
/// segment without `.wasm`/`plugin.toml`, a tag or a digest.
fn guess_name(source: &str) -> String {
    if let Some(n) = source.strip_prefix("builtin:") {
        return n.to_string();
    }
    let s = source.split('@').next().unwrap_or(source).trim_end_matches('/');
    let s = s.strip_suffix("/plugin.toml").unwrap_or(s);
    let last = s.rsplit('/').next().unwrap_or(s);
    let last = if source.starts_with("oci://") { last.split(':').next().unwrap_or(last) } else { last };
    let last = last.strip_suffix(".wasm").unwrap_or(last);
    if last.is_empty() || last == "." || last == ".." {
        source.to_string()
    } else {
        last.to_string()
    }
}

/// One line of `verify`'s report.
#[derive(Debug)]
pub struct Verified {
    pub name: String,
    pub source: String,
    /// The pinned sha256 (from the lock file), if any.
    pub expected: Option<String>,
    /// Whether deploy.yml configures it (else it is a stale lock entry).
    pub configured: bool,
    /// What was found; `Err` for a mismatch, a missing entry or an unreachable source.
    pub result: Result<String>,
}

/// Finds plugins: the project directory (for relative paths), the blob cache, the network
/// settings and the built-in plugins.
#[derive(Clone, Debug)]
pub struct Store {
    project: PathBuf,
    cache: Option<BlobCache>,
    net: NetOptions,
    builtins: Vec<BuiltinPlugin>,
}

impl Store {
    /// A store for the project in `project`, with the user's cache and the environment's network
    /// settings, and no built-in plugins.
    pub fn new(project: &Path) -> Store {
        Store {
            project: project.to_path_buf(),
            cache: BlobCache::user_default(),
            net: NetOptions::from_env(),
            builtins: vec![],
        }
    }

    /// Uses this cache (`None`: no cache; remote sources are downloaded every time).
    pub fn with_cache(mut self, cache: Option<BlobCache>) -> Store {
        self.cache = cache;
        self
    }

    pub fn with_net(mut self, net: NetOptions) -> Store {
        self.net = net;
        self
    }

    pub fn with_builtins(mut self, builtins: impl IntoIterator<Item = BuiltinPlugin>) -> Store {
        self.builtins = builtins.into_iter().collect();
        self
    }

    pub fn builtins(&self) -> &[BuiltinPlugin] {
        &self.builtins
    }

    pub fn cache(&self) -> Option<&BlobCache> {
        self.cache.as_ref()
    }

    pub fn project(&self) -> &Path {
        &self.project
    }

    /// The project's lock file, if there is one.
    pub fn read_lock(&self) -> Result<Option<LockFile>> {
        LockFile::read(&LockFile::path(&self.project))
    }

    /// Resolves one plugin for use: with the lock file's pin when the lock has an entry for it.
    pub async fn load(&self, spec: &PluginSpec, lock: Option<&LockFile>) -> Result<Resolved> {
        self.load_mode(spec, lock, Mode::Load).await
    }

    async fn load_mode(&self, spec: &PluginSpec, lock: Option<&LockFile>, mode: Mode) -> Result<Resolved> {
        let pin = match lock.and_then(|l| l.plugins.get(&spec.name)) {
            Some(entry) if entry.source != spec.source => {
                return Err(StoreError::LockSource {
                    plugin: spec.name.clone(),
                    locked: entry.source.clone(),
                    configured: spec.source.clone(),
                })
            }
            // A lock file that does not know this plugin is refused (as `cargo --locked`
            // would): it was added to deploy.yml after the lock was written, unreviewed. A
            // built-in plugin is pinned by the binary itself.
            None if lock.is_some() && !spec.source.starts_with("builtin:") => {
                return Err(StoreError::Lock {
                    path: LockFile::path(&self.project).display().to_string(),
                    message: format!("no entry for plugin {}; run `wharf plugin fetch` to add it", spec.name),
                })
            }
            other => other,
        };
        self.resolve(spec, pin, mode).await
    }

    /// Like [`Store::load`] without the network: `Ok(None)` for a remote source that is not in
    /// the cache (for listings).
    pub async fn peek(&self, spec: &PluginSpec, lock: Option<&LockFile>) -> Result<Option<Resolved>> {
        match self.load_mode(spec, lock, Mode::Offline).await {
            Err(StoreError::Fetch { message, .. }) if message == OFFLINE => Ok(None),
            other => other.map(Some),
        }
    }

    /// Resolves every plugin afresh (downloading remote ones again), fills the cache and returns
    /// the lock file that pins them (the caller writes it).
    pub async fn fetch(&self, specs: &[PluginSpec]) -> Result<(Vec<Resolved>, LockFile)> {
        let mut lock = LockFile::new();
        let mut out = vec![];
        for spec in specs {
            let r = self.resolve(spec, None, Mode::Refresh).await?;
            lock.plugins.insert(spec.name.clone(), r.lock_entry());
            out.push(r);
        }
        Ok((out, lock))
    }

    /// Checks every configured plugin against the lock file (the cached blob when there is one,
    /// its content must match, else the source itself), then the lock's entries for plugins no
    /// longer configured (`configured: false`), against their locked source.
    pub async fn verify(&self, specs: &[PluginSpec], lock: &LockFile) -> Vec<Verified> {
        let mut out = vec![];
        for spec in specs {
            let entry = lock.plugins.get(&spec.name);
            let result = match entry {
                None => Err(StoreError::Lock {
                    path: LockFile::path(&self.project).display().to_string(),
                    message: format!("no entry for plugin {}; run `wharf plugin fetch`", spec.name),
                }),
                Some(_) => self.load(spec, Some(lock)).await.map(|r| r.sha256),
            };
            out.push(Verified {
                name: spec.name.clone(),
                source: spec.source.clone(),
                expected: entry.map(|e| e.sha256.clone()),
                configured: true,
                result,
            });
        }
        for (name, entry) in lock.plugins.iter().filter(|(n, _)| !specs.iter().any(|s| &&s.name == n)) {
            let spec = PluginSpec::new(name, &entry.source);
            out.push(Verified {
                name: name.clone(),
                source: entry.source.clone(),
                expected: Some(entry.sha256.clone()),
                configured: false,
                result: self.load(&spec, Some(lock)).await.map(|r| r.sha256),
            });
        }
        out
    }

    /// Resolves a source given on the command line (no configuration, no lock): for `inspect`,
    /// `pack` and `push`. Errors name the plugin after the source (its file or repository name)
    /// until its manifest is read.
    pub async fn open(&self, source: &str, sha256: Option<&str>) -> Result<Resolved> {
        let spec =
            PluginSpec { name: guess_name(source), source: source.to_string(), sha256: sha256.map(str::to_string) };
        let mut r = self.resolve(&spec, None, Mode::Load).await?;
        r.name = r.manifest.name.clone();
        Ok(r)
    }

    /// Pushes a resolved plugin's packed file to `reference` as a wasm OCI artifact.
    pub async fn push(&self, plugin: &Resolved, reference: &Reference) -> Result<Pushed> {
        let packed = plugin.packed();
        let target = format!("oci://{reference}");
        let err = StoreError::fetch(&plugin.name, &target);
        let (imports, exports) = pack::interface_names(&plugin.component).map_err(|e| err(e.to_string()))?;
        let m = &plugin.manifest;
        let info = ArtifactInfo {
            name: &m.name,
            version: &m.version,
            world: m.world.as_str(),
            api: &m.api,
            description: m.description.as_deref(),
            imports,
            exports,
        };
        let registry = Registry::new(reference, &self.net).map_err(&err)?;
        registry.push(&packed, &info, reference.tag.as_deref()).await.map_err(&err)
    }

    async fn resolve(&self, spec: &PluginSpec, pin: Option<&LockEntry>, mode: Mode) -> Result<Resolved> {
        let name = spec.name.as_str();
        let text = spec.source.as_str();
        let source = Source::parse(text, &self.project).map_err(|message| StoreError::BadSource {
            plugin: name.into(),
            source_text: text.into(),
            message,
        })?;
        let configured = match &spec.sha256 {
            Some(s) => Some(parse_sha256(s).map_err(|message| StoreError::BadSource {
                plugin: name.into(),
                source_text: text.into(),
                message: format!("sha256: {message}"),
            })?),
            None => None,
        };
        let digest_err = |what: &str, expected: &str, actual: &str| StoreError::Digest {
            plugin: name.into(),
            source_text: text.into(),
            what: what.into(),
            expected: expected.into(),
            actual: actual.into(),
        };
        // What the content must hash to, if anything says so.
        let want = pin.map(|p| p.sha256.clone()).or_else(|| configured.clone());

        let mut manifest_digest = None;
        let mut from_cache = false;
        let packed = match &source {
            Source::Path(path) => self.read_path(name, text, path)?,
            Source::Builtin(b) => {
                let builtin = self
                    .builtins
                    .iter()
                    .find(|p| p.name == b)
                    .ok_or_else(|| StoreError::NoBuiltin { plugin: name.into(), name: b.clone() })?;
                pack::pack(builtin.manifest, builtin.wasm).map_err(|e| StoreError::Pack {
                    plugin: name.into(),
                    source_text: text.into(),
                    message: e.to_string(),
                })?
            }
            Source::Url(url) => {
                let Some(sha) = configured.clone() else {
                    return Err(StoreError::Unpinned { plugin: name.into(), source_text: text.into() });
                };
                match self.cached(name, text, want.as_deref().unwrap_or(&sha), mode)? {
                    Some(bytes) => {
                        from_cache = true;
                        bytes
                    }
                    None => {
                        if mode == Mode::Offline {
                            return Err(StoreError::fetch(name, text)(OFFLINE.into()));
                        }
                        let bytes = self.download(name, text, url).await?;
                        let actual = sha256_hex(&bytes);
                        if actual != sha {
                            return Err(digest_err("the download (configured sha256)", &sha, &actual));
                        }
                        self.store_blob(name, text, &bytes)?;
                        bytes
                    }
                }
            }
            Source::Oci(reference) => {
                let cached = match &want {
                    Some(sha) => self.cached(name, text, sha, mode)?,
                    None => None,
                };
                match cached {
                    Some(bytes) => {
                        from_cache = true;
                        manifest_digest =
                            pin.and_then(|p| p.manifest_digest.clone()).or_else(|| reference.digest.clone());
                        bytes
                    }
                    None => {
                        if mode == Mode::Offline {
                            return Err(StoreError::fetch(name, text)(OFFLINE.into()));
                        }
                        let reference = match pin.and_then(|p| p.manifest_digest.as_deref()) {
                            Some(d) => reference.at_digest(d),
                            None => reference.clone(),
                        };
                        let err = StoreError::fetch(name, text);
                        let registry = Registry::new(&reference, &self.net).map_err(&err)?;
                        let pulled = registry.pull(&reference.selector()).await.map_err(&err)?;
                        if let Some(sha) = &want {
                            if &pulled.layer_digest != sha {
                                let what = if pin.is_some() { "the lock file" } else { "the configured sha256" };
                                return Err(digest_err(what, sha, &pulled.layer_digest));
                            }
                        }
                        self.store_blob(name, text, &pulled.layer)?;
                        manifest_digest = Some(pulled.manifest_digest);
                        pulled.layer
                    }
                }
            }
        };

        let actual = sha256_hex(&packed);
        if let Some(c) = &configured {
            if &actual != c {
                return Err(digest_err("the configured sha256", c, &actual));
            }
        }
        if let Some(p) = pin {
            if actual != p.sha256 {
                return Err(digest_err("the lock file", &p.sha256, &actual));
            }
        }
        let (manifest_text, component) = pack::unpack(&packed).map_err(|e| StoreError::Pack {
            plugin: name.into(),
            source_text: text.into(),
            message: e.to_string(),
        })?;
        let manifest = Manifest::from_toml(&manifest_text, name)
            .and_then(|m| m.with_component(&component))
            .map_err(|error| StoreError::Manifest { plugin: name.into(), source_text: text.into(), error })?;
        Ok(Resolved {
            name: name.into(),
            source,
            source_text: text.into(),
            manifest_text,
            manifest,
            component,
            size: packed.len(),
            sha256: actual,
            manifest_digest,
            from_cache,
        })
    }

    /// A local `plugin.toml`, a directory holding one, or a packed file; as a packed file.
    fn read_path(&self, name: &str, text: &str, path: &Path) -> Result<Vec<u8>> {
        let io = StoreError::io(name, text);
        let pack_err = |e: pack::PackError| StoreError::Pack {
            plugin: name.into(),
            source_text: text.into(),
            message: e.to_string(),
        };
        let toml_path = if path.is_dir() {
            Some(path.join("plugin.toml"))
        } else if path.extension().is_some_and(|e| e == "toml") {
            Some(path.to_path_buf())
        } else {
            None
        };
        match toml_path {
            Some(toml_path) => {
                let manifest_text = std::fs::read_to_string(&toml_path)
                    .map_err(|e| io(format!("cannot read {}: {e}", toml_path.display())))?;
                let (_, component) = Manifest::from_file(&toml_path).map_err(|error| StoreError::Manifest {
                    plugin: name.into(),
                    source_text: text.into(),
                    error,
                })?;
                let wasm =
                    std::fs::read(&component).map_err(|e| io(format!("cannot read {}: {e}", component.display())))?;
                pack::pack(&manifest_text, &wasm).map_err(pack_err)
            }
            None => {
                let bytes = std::fs::read(path).map_err(|e| io(format!("cannot read {}: {e}", path.display())))?;
                if !pack::is_packed(&bytes) {
                    // Say why: not a component, or a component without a manifest.
                    pack::unpack(&bytes).map_err(pack_err)?;
                }
                Ok(bytes)
            }
        }
    }

    fn cached(&self, name: &str, text: &str, sha: &str, mode: Mode) -> Result<Option<Vec<u8>>> {
        let Some(cache) = &self.cache else { return Ok(None) };
        if mode == Mode::Refresh {
            return Ok(None);
        }
        cache.get(sha).map_err(|c| StoreError::Digest {
            plugin: name.into(),
            source_text: text.into(),
            what: format!(
                "the cached file {} (tampered or damaged; `wharf plugin fetch` replaces it)",
                c.path.display()
            ),
            expected: c.expected,
            actual: c.actual,
        })
    }

    fn store_blob(&self, name: &str, text: &str, bytes: &[u8]) -> Result<()> {
        if let Some(cache) = &self.cache {
            cache
                .put(bytes)
                .map_err(|e| StoreError::io(name, text)(format!("cache {}: {e}", cache.dir().display())))?;
        }
        Ok(())
    }

    async fn download(&self, name: &str, text: &str, url: &str) -> Result<Vec<u8>> {
        let err = StoreError::fetch(name, text);
        let client = self.net.client().map_err(&err)?;
        let resp = client.get(url).send().await.map_err(|e| err(chain(&e)))?;
        if !resp.status().is_success() {
            return Err(err(format!("GET {url}: {}", resp.status())));
        }
        read_capped(resp).await.map_err(|e| err(format!("GET {url}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::guess_name;

    #[test]
    fn names_from_sources() {
        assert_eq!(guess_name("builtin:1password"), "1password");
        assert_eq!(guess_name("dist/notify.wasm"), "notify");
        assert_eq!(guess_name("plugins/notify/plugin.toml"), "notify");
        assert_eq!(guess_name("plugins/notify/"), "notify");
        assert_eq!(guess_name("oci://localhost:5000/acme/notify:1.0"), "notify");
        assert_eq!(guess_name("oci://r.io/acme/notify@sha256:abc"), "notify");
        assert_eq!(guess_name("https://e.com/x/check.wasm"), "check");
        assert_eq!(guess_name("."), ".");
    }
}
