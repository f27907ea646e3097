//! `Kamal::Configuration::Builder`: how the image is built (arches, local and remote builders,
//! buildpacks, cache, args, secrets, dockerfile, context, driver, ...).

use crate::error::ConfigError;
use crate::ruby::{get, string_list, to_s, truthy};
use crate::secrets::SecretLookup;
use serde_yaml::{Mapping, Value};
use std::sync::Arc;

/// The `builder` section.
#[derive(Clone)]
pub struct Builder {
    config: Value,
    image: Option<String>,
    server: Option<String>,
    service: Option<String>,
    docker_arch: DockerArch,
    secrets: Arc<dyn SecretLookup>,
}

/// The local docker's architecture: given, or asked of docker the first time a builder with a
/// `remote` needs it (Kamal's memoized `local_arches`), so that docker is asked when Kamal asks.
#[derive(Clone)]
pub struct DockerArch {
    value: Arc<std::sync::OnceLock<String>>,
    probe: Option<Arc<dyn Fn() -> String + Send + Sync>>,
}

impl DockerArch {
    pub(crate) fn known(arch: String) -> DockerArch {
        let value = std::sync::OnceLock::new();
        let _ = value.set(arch);
        DockerArch { value: Arc::new(value), probe: None }
    }

    pub(crate) fn probed(probe: impl Fn() -> String + Send + Sync + 'static) -> DockerArch {
        DockerArch { value: Arc::new(std::sync::OnceLock::new()), probe: Some(Arc::new(probe)) }
    }

    fn get(&self) -> &str {
        self.value.get_or_init(|| self.probe.as_ref().map(|p| p()).unwrap_or_default())
    }
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder").field("config", &self.config).finish()
    }
}

impl Builder {
    pub(crate) fn new(
        config: Option<&Value>,
        image: Option<String>,
        server: Option<String>,
        service: Option<String>,
        docker_arch: DockerArch,
        secrets: Arc<dyn SecretLookup>,
    ) -> Builder {
        Builder {
            config: config.cloned().unwrap_or(Value::Mapping(Mapping::new())),
            image,
            server,
            service,
            docker_arch,
            secrets,
        }
    }

    /// The raw section, as `kamal config` prints it.
    pub fn to_h(&self) -> &Value {
        &self.config
    }

    fn str(&self, key: &str) -> Option<String> {
        get(&self.config, key).filter(|v| !v.is_null()).map(to_s)
    }

    /// `remote`: the remote builder's docker host (`ssh://user@host`).
    pub fn remote(&self) -> Option<String> {
        self.str("remote")
    }

    /// The architectures to build (`arch`; default amd64 and arm64, none for the `docker`
    /// driver).
    pub fn arches(&self) -> Vec<String> {
        match get(&self.config, "arch") {
            Some(v) => string_list(Some(v)),
            None => {
                if self.docker_driver() {
                    vec![]
                } else {
                    vec!["amd64".into(), "arm64".into()]
                }
            }
        }
    }

    /// The architecture of the local docker (`docker info`), as given to [`crate::LoadOptions`].
    pub fn docker_arch(&self) -> &str {
        self.docker_arch.get()
    }

    /// Arches built locally: none when `local: false`; with a remote, only the local docker's
    /// arch; otherwise all.
    pub fn local_arches(&self) -> Vec<String> {
        if self.local_disabled() {
            vec![]
        } else if self.remote().is_some() {
            let arch = self.docker_arch();
            self.arches().into_iter().filter(|a| a == arch).collect()
        } else {
            self.arches()
        }
    }

    /// Arches built on the remote builder.
    pub fn remote_arches(&self) -> Vec<String> {
        if self.remote().is_some() {
            let local = self.local_arches();
            self.arches().into_iter().filter(|a| !local.contains(a)).collect()
        } else {
            vec![]
        }
    }

    /// `remote?`: some arch is built remotely.
    pub fn is_remote(&self) -> bool {
        !self.remote_arches().is_empty()
    }

    /// `local?`: some arch (or the default) is built locally.
    pub fn is_local(&self) -> bool {
        !self.local_disabled() && (self.arches().is_empty() || !self.local_arches().is_empty())
    }

    /// `cloud?`: the driver is `cloud org/name` (Docker Build Cloud).
    pub fn is_cloud(&self) -> bool {
        self.driver().starts_with("cloud")
    }

    /// `cached?`
    pub fn is_cached(&self) -> bool {
        truthy(get(&self.config, "cache"))
    }

    /// `pack?`: buildpacks instead of a Dockerfile.
    pub fn is_pack(&self) -> bool {
        truthy(get(&self.config, "pack"))
    }

    /// `args` (build args; empty when unset).
    pub fn args(&self) -> Mapping {
        match get(&self.config, "args") {
            Some(Value::Mapping(m)) => m.clone(),
            _ => Mapping::new(),
        }
    }

    /// The names of `secrets` (build secrets).
    pub fn secret_names(&self) -> Vec<String> {
        string_list(get(&self.config, "secrets"))
    }

    /// `secrets` resolved: `(NAME, value)`.
    pub fn secrets(&self) -> Result<Vec<(String, String)>, ConfigError> {
        self.secret_names()
            .into_iter()
            .map(|k| self.secrets.secret(&k).map(|v| (k, v)).map_err(ConfigError::configuration))
            .collect()
    }

    /// `dockerfile` (default `Dockerfile`).
    pub fn dockerfile(&self) -> String {
        self.str("dockerfile").unwrap_or_else(|| "Dockerfile".into())
    }

    /// `target` (build stage).
    pub fn target(&self) -> Option<String> {
        self.str("target")
    }

    /// `context` (default `.`).
    pub fn context(&self) -> String {
        self.str("context").unwrap_or_else(|| ".".into())
    }

    /// Whether `context` is set at all (when it isn't and git is used, Kamal builds from a clean
    /// clone).
    pub fn context_set(&self) -> bool {
        get(&self.config, "context").map(|v| !v.is_null()).unwrap_or(false)
    }

    /// `git_clone?`: build from a clean clone (git in use and no `context`).
    pub fn git_clone(&self, git_used: bool) -> bool {
        git_used && !self.context_set()
    }

    /// `driver` (default `docker-container`).
    pub fn driver(&self) -> String {
        match get(&self.config, "driver") {
            Some(v) => to_s(v),
            None => "docker-container".into(),
        }
    }

    /// `docker_driver?`
    pub fn docker_driver(&self) -> bool {
        self.driver() == "docker"
    }

    /// `pack.builder`.
    pub fn pack_builder(&self) -> Option<String> {
        get(&self.config, "pack").and_then(|p| get(p, "builder")).filter(|v| !v.is_null()).map(to_s)
    }

    /// `pack.buildpacks`.
    pub fn pack_buildpacks(&self) -> Option<Vec<String>> {
        get(&self.config, "pack")
            .and_then(|p| get(p, "buildpacks"))
            .filter(|v| !v.is_null())
            .map(|v| string_list(Some(v)))
    }

    /// `local == false`.
    pub fn local_disabled(&self) -> bool {
        matches!(get(&self.config, "local"), Some(Value::Bool(false)))
    }

    fn cache(&self) -> Option<&Value> {
        get(&self.config, "cache").filter(|c| truthy(Some(c)))
    }

    fn cache_type(&self) -> Option<String> {
        self.cache().and_then(|c| get(c, "type")).filter(|v| !v.is_null()).map(to_s)
    }

    fn cache_options(&self) -> Option<String> {
        self.cache().and_then(|c| get(c, "options")).filter(|v| !v.is_null()).map(to_s)
    }

    fn cache_image(&self) -> String {
        self.cache()
            .and_then(|c| get(c, "image"))
            .filter(|v| !v.is_null())
            .map(to_s)
            .unwrap_or_else(|| format!("{}-build-cache", self.image.clone().unwrap_or_default()))
    }

    fn cache_image_ref(&self) -> String {
        match &self.server {
            Some(s) => format!("{s}/{}", self.cache_image()),
            None => self.cache_image(),
        }
    }

    /// `--cache-from` value (`type=gha,...` or `type=registry,ref=...`).
    pub fn cache_from(&self) -> Option<String> {
        match self.cache_type()?.as_str() {
            "gha" => {
                let opts = self.cache_options().unwrap_or_default();
                let allowed: Vec<&str> = opts
                    .split(',')
                    .filter(|o| ["url=", "url_v2=", "token=", "scope=", "timeout="].iter().any(|p| o.starts_with(p)))
                    .collect();
                let mut parts = vec!["type=gha"];
                parts.extend(allowed);
                Some(parts.join(","))
            }
            "registry" => Some(format!("type=registry,ref={}", self.cache_image_ref())),
            _ => None,
        }
    }

    /// `--cache-to` value.
    pub fn cache_to(&self) -> Option<String> {
        match self.cache_type()?.as_str() {
            "gha" => Some(match self.cache_options() {
                Some(o) => format!("type=gha,{o}"),
                None => "type=gha".into(),
            }),
            "registry" => Some(match self.cache_options() {
                Some(o) => format!("type=registry,ref={},{o}", self.cache_image_ref()),
                None => format!("type=registry,ref={}", self.cache_image_ref()),
            }),
            _ => None,
        }
    }

    /// `ssh` (`--ssh` value for the build).
    pub fn ssh(&self) -> Option<String> {
        self.str("ssh")
    }

    /// `provenance` as given (string or boolean).
    pub fn provenance(&self) -> Option<Value> {
        get(&self.config, "provenance").filter(|v| !v.is_null()).cloned()
    }

    /// `sbom` as given (boolean or string).
    pub fn sbom(&self) -> Option<Value> {
        get(&self.config, "sbom").filter(|v| !v.is_null()).cloned()
    }

    /// The service name (used for the clone directory).
    pub fn service(&self) -> Option<&str> {
        self.service.as_deref()
    }
}
