//! How to load a configuration ([`LoadOptions`]): the files, destination, version, environment,
//! secrets and ERB settings that [`crate::load`] reads and the model keeps.

use crate::secrets::{NoSecrets, SecretLookup};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// How to load a configuration.
#[derive(Clone)]
pub struct LoadOptions {
    /// The `-c` path (default `config/deploy.yml`). Kamal expands it to an absolute path first
    /// (`File.expand_path`), so its "not found" message names the absolute path; pass the same
    /// for identical messages.
    pub config_file: PathBuf,
    /// `-d`: merges `deploy.<destination>.yml` over the base file.
    pub destination: Option<String>,
    /// `--version`; else `VERSION` from `env`; else set it later with
    /// [`crate::Configuration::set_version`] (Kamal uses the git revision).
    pub version: Option<String>,
    /// The environment ERB reads (`ENV[...]`), and `VERSION`. Usually `std::env::vars()`.
    pub env: HashMap<String, String>,
    /// Where secrets come from (`.kamal/secrets*` in Kamal).
    pub secrets: Arc<dyn SecretLookup>,
    /// The local docker's architecture (`docker info`, `amd64`/`arm64`), which decides which
    /// arches a builder with a `remote` builds locally. `None`: asked of docker when
    /// `probe_docker_arch` is set and the builder has a `remote` (as Kamal asks), else this
    /// machine's architecture.
    pub docker_arch: Option<String>,
    /// Ask the local docker for its architecture (`docker info`) when a builder with a `remote`
    /// needs it, as Kamal does (its errors pass through to stderr).
    pub probe_docker_arch: bool,
    /// Where the ERB runs (`Dir.pwd`, relative paths, commands). `None`: the process's working
    /// directory, as in Kamal.
    pub cwd: Option<PathBuf>,
    /// Render each file once per process and reuse the result when the same file (and
    /// destination) is loaded again, as Kamal renders deploy.yml once per run: commands in the
    /// ERB run once. Off by default (library callers load with different environments).
    pub cache_renders: bool,
    /// Render the ERB in a sandbox ([`crate::erb::ErbSession::sandboxed`]: no commands, no system Ruby, a
    /// small step budget, output discarded), for text that is not the user's own deploy.yml
    /// (the fuzzer's input). Off by default: deploy.yml's ERB runs as in Kamal.
    pub sandbox_erb: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            config_file: PathBuf::from("config/deploy.yml"),
            destination: None,
            version: None,
            env: HashMap::new(),
            secrets: Arc::new(NoSecrets),
            docker_arch: None,
            probe_docker_arch: false,
            cwd: None,
            cache_renders: false,
            sandbox_erb: false,
        }
    }
}

impl std::fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadOptions")
            .field("config_file", &self.config_file)
            .field("destination", &self.destination)
            .field("version", &self.version)
            .field("sandbox_erb", &self.sandbox_erb)
            .finish()
    }
}
