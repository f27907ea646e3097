//! `Kamal::Commands::Builder` and its targets `Local`, `Remote`, `Hybrid`, `Pack` and `Cloud`,
//! plus the `Clone` module (building from a clean git clone).

use crate::base;
use crate::cmd::{
    and, any, argumentize, argumentize_list, chain, docker, git, grep, pack, pipe, shellescape, Cmd, Token,
};
use crate::{cmd, parts, Error};
use serde_yaml::Value;
use wharf_config::ruby::{blank_str, file_join, to_s};
use wharf_config::Configuration;

/// `ENDPOINT_DOCKER_HOST_INSPECT`.
pub const ENDPOINT_DOCKER_HOST_INSPECT: &str = "'{{.Endpoints.docker.Host}}'";

/// Which builder class Kamal picks (`Kamal::Commands::Builder#target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuilderKind {
    /// Builds locally (`buildx` with the configured driver).
    Local,
    /// Builds on a remote docker host.
    Remote,
    /// Local arches locally, the others on the remote docker host.
    Hybrid,
    /// Cloud Native Buildpacks (`pack`).
    Pack,
    /// Docker Build Cloud.
    Cloud,
}

impl BuilderKind {
    /// `name`: `local`, `remote`, `hybrid`, `pack` or `cloud`.
    pub fn name(self) -> &'static str {
        match self {
            BuilderKind::Local => "local",
            BuilderKind::Remote => "remote",
            BuilderKind::Hybrid => "hybrid",
            BuilderKind::Pack => "pack",
            BuilderKind::Cloud => "cloud",
        }
    }
}

/// What the `Clone` commands need from git and the file system (Kamal reads them itself:
/// `Kamal::Git.root`, `Kamal::Git.revision`, `config.builder.clone_directory`,
/// `config.builder.build_directory`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitClone {
    /// `git rev-parse --show-toplevel`.
    pub root: String,
    /// `git rev-parse HEAD`.
    pub revision: String,
    /// Where the clone lives (see [`clone_directory`]).
    pub clone_directory: String,
    /// Where to build in the clone (see [`build_directory`]).
    pub build_directory: String,
}

impl GitClone {
    /// From the git root and revision, the system temp directory (`Dir.tmpdir`) and the working
    /// directory (`Dir.pwd`), as Kamal computes the clone and build directories.
    pub fn new(config: &Configuration, root: &str, revision: &str, tmpdir: &str, pwd: &str) -> GitClone {
        let clone_dir = clone_directory(config.builder().service(), tmpdir, pwd);
        let build_dir = build_directory(config, &clone_dir, root, pwd, true);
        GitClone {
            root: root.into(),
            revision: revision.into(),
            clone_directory: clone_dir,
            build_directory: build_dir,
        }
    }
}

/// `Configuration::Builder#clone_directory`:
/// `<tmpdir>/kamal-clones/<service>-<first 13 hex digits of sha256(pwd)>`.
pub fn clone_directory(service: Option<&str>, tmpdir: &str, pwd: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(pwd.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let mut name = vec![];
    if let Some(s) = service {
        name.push(s.to_string());
    }
    name.push(hex[..13].to_string());
    file_join(&[tmpdir, "kamal-clones", &name.join("-")])
}

/// `Configuration::Builder#build_directory`: in the clone, the working directory's place in
/// the repository (`<clone>/<repo basename>/<pwd relative to the root>`) when building from a
/// clone (`git_clone?`: git used and no `context`), else `.`.
pub fn build_directory(
    config: &Configuration,
    clone_directory: &str,
    git_root: &str,
    pwd: &str,
    git_used: bool,
) -> String {
    if config.builder().git_clone(git_used) {
        let repo_basename = crate::cmd::basename(git_root);
        let relative = pwd.strip_prefix(git_root).unwrap_or(pwd);
        file_join(&[clone_directory, &repo_basename, relative])
    } else {
        ".".into()
    }
}

/// The builder commands (`KAMAL.builder`, delegating to its target).
#[derive(Debug, Clone)]
pub struct Builder<'a> {
    config: &'a Configuration,
    kind: BuilderKind,
    dockerfile_present: bool,
}

impl<'a> Builder<'a> {
    /// `Kamal::Commands::Builder.new(config)`: picks the target.
    pub fn new(config: &'a Configuration) -> Builder<'a> {
        let b = config.builder();
        let kind = if b.is_remote() {
            if b.is_local() {
                BuilderKind::Hybrid
            } else {
                BuilderKind::Remote
            }
        } else if b.is_pack() {
            BuilderKind::Pack
        } else if b.is_cloud() {
            BuilderKind::Cloud
        } else {
            BuilderKind::Local
        };
        Builder { config, kind, dockerfile_present: true }
    }

    /// Whether the Dockerfile exists locally (`Pathname.new(File.expand_path(dockerfile)).exist?`,
    /// which the caller checks); without it, [`build_options`](Self::build_options) and
    /// [`push`](Self::push) fail with `Missing <dockerfile>`. Assumed present by default.
    pub fn with_dockerfile_present(mut self, present: bool) -> Builder<'a> {
        self.dockerfile_present = present;
        self
    }

    /// The target's kind.
    pub fn kind(&self) -> BuilderKind {
        self.kind
    }

    /// `name`.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    fn builder_config(&self) -> &'a wharf_config::Builder {
        self.config.builder()
    }

    fn local_registry(&self) -> bool {
        self.config.registry().local()
    }

    fn driver(&self) -> String {
        self.builder_config().driver()
    }

    fn docker_driver(&self) -> bool {
        self.builder_config().docker_driver()
    }

    /// `create`: sets up the buildx builder (`None` for the `docker` driver and for pack).
    pub fn create(&self) -> Option<Cmd> {
        match self.kind {
            BuilderKind::Local => {
                if self.docker_driver() {
                    None
                } else {
                    Some(docker(cmd![
                        "buildx",
                        "create",
                        "--name",
                        self.builder_name(),
                        format!("--driver={}", self.driver()),
                        self.driver_options()
                    ]))
                }
            }
            BuilderKind::Remote => Some(chain(parts![self.create_remote_context(), self.create_buildx()])),
            BuilderKind::Hybrid => {
                Some(and(parts![self.create_local_buildx(), self.create_remote_context(), self.append_remote_buildx()]))
            }
            BuilderKind::Cloud => Some(docker(cmd!["buildx", "create", "--driver", self.driver()])),
            BuilderKind::Pack => None,
        }
    }

    /// `remove`: removes the buildx builder (`None` for the `docker` driver and for pack).
    pub fn remove(&self) -> Option<Cmd> {
        match self.kind {
            BuilderKind::Local => (!self.docker_driver()).then(|| docker(cmd!["buildx", "rm", self.builder_name()])),
            BuilderKind::Remote | BuilderKind::Hybrid => {
                Some(chain(parts![self.remove_remote_context(), self.remove_buildx()]))
            }
            BuilderKind::Cloud => Some(docker(cmd!["buildx", "rm", self.builder_name()])),
            BuilderKind::Pack => None,
        }
    }

    /// `push(export_action, tag_as_dirty:, no_cache:)`: builds and pushes (export action
    /// `registry` by default) the version and latest tags.
    pub fn push(&self, export_action: &str, tag_as_dirty: bool, no_cache: bool) -> Result<Cmd, Error> {
        if self.kind == BuilderKind::Pack {
            return Ok(and(parts![self.pack_build(tag_as_dirty, no_cache)?, self.pack_export(export_action)]));
        }
        Ok(docker(cmd![
            "buildx",
            "build",
            format!("--output=type={export_action}"),
            self.platform_options(&self.builder_config().arches()),
            (!self.docker_driver()).then(|| cmd!["--builder", self.builder_name()]),
            self.build_tag_options(tag_as_dirty),
            self.build_options()?,
            no_cache.then_some("--no-cache"),
            self.build_context(),
            "2>&1"
        ]))
    }

    /// The buildx builder `push` uses (`--builder NAME`), `None` for the `docker` driver: what
    /// a builder plugin is told to build with.
    pub fn buildx_builder(&self) -> Option<String> {
        (!self.docker_driver() && self.kind != BuilderKind::Pack).then(|| self.builder_name())
    }

    /// The platforms `push` builds for (`linux/<arch>` of `builder.arch`).
    pub fn platforms(&self) -> Vec<String> {
        self.builder_config().arches().iter().map(|a| format!("linux/{a}")).collect()
    }

    /// `clean`: `docker image rm --force <image>`.
    pub fn clean(&self) -> Cmd {
        docker(cmd!["image", "rm", "--force", self.config.absolute_image()])
    }

    /// `pull`: `docker pull <image>`.
    pub fn pull(&self) -> Cmd {
        docker(cmd!["pull", self.config.absolute_image()])
    }

    /// `info`.
    pub fn info(&self) -> Cmd {
        match self.kind {
            BuilderKind::Pack => self.pack_info(),
            BuilderKind::Remote | BuilderKind::Hybrid => {
                chain(parts![docker(cmd!["context", "ls"]), docker(cmd!["buildx", "ls"])])
            }
            _ => and(parts![docker(cmd!["context", "ls"]), docker(cmd!["buildx", "ls"])]),
        }
    }

    /// `inspect_builder`: checks the builder exists (`None` for the `docker` driver).
    pub fn inspect_builder(&self) -> Option<Cmd> {
        match self.kind {
            BuilderKind::Pack => Some(self.pack_info()),
            BuilderKind::Remote | BuilderKind::Hybrid => Some(any(parts![
                and(parts![self.inspect_buildx(), self.inspect_remote_context()]),
                cmd!["(echo no compatible builder && exit 1)"]
            ])),
            _ => (!self.docker_driver()).then(|| docker(cmd!["buildx", "inspect", self.builder_name()])),
        }
    }

    /// `validate_image`: the pulled image carries the `service` label of this service.
    pub fn validate_image(&self) -> Cmd {
        let image = self.config.absolute_image();
        pipe(parts![
            docker(cmd!["inspect", "-f", "'{{ .Config.Labels.service }}'", &image]),
            any(parts![
                cmd!["grep", "-x", self.config.service()],
                format!("(echo \"Image {image} is missing the 'service' label\" && exit 1)")
            ])
        ])
    }

    /// `first_mirror`.
    pub fn first_mirror(&self) -> Cmd {
        docker(cmd!["info", "--format '{{index .RegistryConfig.Mirrors 0}}'"])
    }

    /// `login_to_registry_locally?`: false for remote (and hybrid) builders.
    pub fn login_to_registry_locally(&self) -> bool {
        !matches!(self.kind, BuilderKind::Remote | BuilderKind::Hybrid)
    }

    /// `push_env`: `BUILDKIT_NO_CLIENT_TOKEN=1` for remote (and hybrid) builders.
    pub fn push_env(&self) -> Vec<(String, String)> {
        match self.kind {
            BuilderKind::Remote | BuilderKind::Hybrid => vec![("BUILDKIT_NO_CLIENT_TOKEN".into(), "1".into())],
            _ => vec![],
        }
    }

    /// `ensure_docker_installed`.
    pub fn ensure_docker_installed(&self) -> Cmd {
        base::ensure_docker_installed()
    }

    /// `build_options`: cache, labels, build args, secrets, dockerfile, target, ssh,
    /// provenance, sbom.
    pub fn build_options(&self) -> Result<Vec<Token>, Error> {
        let b = self.builder_config();
        let mut out = vec![];
        if let (Some(to), Some(from)) = (b.cache_to(), b.cache_from()) {
            out.extend([Token::new("--cache-to"), Token::new(to), Token::new("--cache-from"), Token::new(from)]);
        }
        let service = Value::String(self.config.service());
        out.extend(argumentize("--label", [("service".to_string(), &service)], false));
        let args = b.args();
        out.extend(argumentize("--build-arg", args.iter().map(|(k, v)| (to_s(k), v)), true));
        let secrets = b.secrets().map_err(Error::Config)?;
        let ids: Vec<Value> = secrets.iter().map(|(k, _)| Value::String(k.clone())).collect();
        out.extend(argumentize("--secret", ids.iter().map(|v| ("id".to_string(), v)), false));
        if !self.dockerfile_present {
            return Err(Error::Builder(format!("Missing {}", b.dockerfile())));
        }
        out.extend(argumentize_list("--file", &[b.dockerfile()]));
        if let Some(t) = b.target().filter(|t| !blank_str(t)) {
            out.extend(argumentize_list("--target", &[t]));
        }
        if let Some(s) = b.ssh().filter(|s| !blank_str(s)) {
            out.extend(argumentize_list("--ssh", &[s]));
        }
        if let Some(p) = b.provenance() {
            out.extend(argumentize_list("--provenance", &[to_s(&p)]));
        }
        if let Some(s) = b.sbom() {
            out.extend(argumentize_list("--sbom", &[to_s(&s)]));
        }
        Ok(out)
    }

    /// `build_context` (`builder.context`, default `.`).
    pub fn build_context(&self) -> String {
        self.builder_config().context()
    }

    // ---- Clone --------------------------------------------------------------------------

    /// Kamal's `clone` (renamed: `clone` is `Clone::clone` in Rust):
    /// `git -C <clone directory> clone <root> --recurse-submodules`.
    pub fn clone_repo(&self, git_clone: &GitClone) -> Cmd {
        git(
            cmd!["clone", shellescape(&git_clone.root), "--recurse-submodules"],
            Some(&shellescape(&git_clone.clone_directory)),
        )
    }

    /// `clone_reset_steps`: brings an existing clone to the current revision.
    pub fn clone_reset_steps(&self, git_clone: &GitClone) -> Vec<Cmd> {
        let dir = shellescape(&git_clone.build_directory);
        let root = shellescape(&git_clone.root);
        vec![
            git(cmd!["remote", "set-url", "origin", root], Some(&dir)),
            git(cmd!["fetch", "origin"], Some(&dir)),
            git(cmd!["reset", "--hard", &git_clone.revision], Some(&dir)),
            git(cmd!["clean", "-fdx"], Some(&dir)),
            git(cmd!["submodule", "update", "--init"], Some(&dir)),
            git(cmd!["gc", "--auto", "--quiet"], Some(&dir)),
        ]
    }

    /// `clone_status`: `git -C <build directory> status --porcelain`.
    pub fn clone_status(&self, git_clone: &GitClone) -> Cmd {
        git(cmd!["status", "--porcelain"], Some(&shellescape(&git_clone.build_directory)))
    }

    /// `clone_revision`: `git -C <build directory> rev-parse HEAD`.
    pub fn clone_revision(&self, git_clone: &GitClone) -> Cmd {
        git(cmd!["rev-parse", "HEAD"], Some(&shellescape(&git_clone.build_directory)))
    }

    // ---- private ------------------------------------------------------------------------

    fn builder_name(&self) -> String {
        match self.kind {
            BuilderKind::Local => {
                if self.local_registry() {
                    format!("kamal-local-registry-{}", self.driver())
                } else {
                    format!("kamal-local-{}", self.driver())
                }
            }
            BuilderKind::Remote => format!("kamal-remote-{}", self.remote_builder_name_suffix()),
            BuilderKind::Hybrid => format!("kamal-hybrid-{}-{}", self.driver(), self.remote_builder_name_suffix()),
            BuilderKind::Cloud => self.driver().replace([' ', '/'], "-"),
            // Pack has no builder name in Kamal (it would raise); pack commands don't use it.
            BuilderKind::Pack => String::new(),
        }
    }

    fn remote(&self) -> String {
        self.builder_config().remote().unwrap_or_default()
    }

    fn remote_context_name(&self) -> String {
        format!("{}-context", self.builder_name())
    }

    fn remote_builder_name_suffix(&self) -> String {
        let remote: String = self
            .remote()
            .chars()
            .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' { c } else { '-' })
            .collect();
        format!("{remote}{}", if self.local_registry() { "-local-registry" } else { "" })
    }

    fn inspect_buildx(&self) -> Cmd {
        pipe(parts![
            docker(cmd!["buildx", "inspect", self.builder_name()]),
            grep(cmd!["-q", format!("Endpoint:.*{}", self.remote_context_name())])
        ])
    }

    fn inspect_remote_context(&self) -> Cmd {
        pipe(parts![
            docker(cmd!["context", "inspect", self.remote_context_name(), "--format", ENDPOINT_DOCKER_HOST_INSPECT]),
            grep(cmd!["-xq", self.remote()])
        ])
    }

    fn create_remote_context(&self) -> Cmd {
        docker(cmd![
            "context",
            "create",
            self.remote_context_name(),
            "--description",
            format!("'{} host'", self.builder_name()),
            "--docker",
            format!("'host={}'", self.remote())
        ])
    }

    fn remove_remote_context(&self) -> Cmd {
        docker(cmd!["context", "rm", self.remote_context_name()])
    }

    fn create_buildx(&self) -> Cmd {
        docker(cmd![
            "buildx",
            "create",
            "--name",
            self.builder_name(),
            self.driver_options(),
            self.remote_context_name()
        ])
    }

    fn remove_buildx(&self) -> Cmd {
        docker(cmd!["buildx", "rm", self.builder_name()])
    }

    fn create_local_buildx(&self) -> Cmd {
        docker(cmd![
            "buildx",
            "create",
            self.platform_options(&self.builder_config().local_arches()),
            "--name",
            self.builder_name(),
            format!("--driver={}", self.driver()),
            self.driver_options()
        ])
    }

    fn append_remote_buildx(&self) -> Cmd {
        docker(cmd![
            "buildx",
            "create",
            self.platform_options(&self.builder_config().remote_arches()),
            "--append",
            "--name",
            self.builder_name(),
            self.driver_options(),
            self.remote_context_name()
        ])
    }

    fn driver_options(&self) -> Option<Cmd> {
        self.local_registry().then(|| cmd!["--driver-opt", "network=host"])
    }

    fn platform_options(&self, arches: &[String]) -> Option<Cmd> {
        if arches.is_empty() {
            return None;
        }
        let platforms: Vec<String> = arches.iter().map(|a| format!("linux/{a}")).collect();
        Some(cmd!["--platform", platforms.join(",")])
    }

    fn build_tag_options(&self, tag_as_dirty: bool) -> Cmd {
        let mut c = Cmd::new();
        for name in [self.config.absolute_image(), self.config.latest_image()] {
            let name = if tag_as_dirty { format!("{name}-dirty") } else { name };
            c.push(cmd!["-t", name]);
        }
        c
    }

    fn pack_build(&self, tag_as_dirty: bool, no_cache: bool) -> Result<Cmd, Error> {
        let b = self.builder_config();
        let mut buildpacks = b.pack_buildpacks().unwrap_or_default();
        buildpacks.push("paketo-buildpacks/image-labels".into());
        let args = b.args();
        let secrets = b.secrets().map_err(Error::Config)?;
        let secret_values: Vec<(String, Value)> = secrets.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        Ok(pack(cmd![
            "build",
            self.config.repository(),
            "--platform",
            format!("linux/{}", b.local_arches().first().cloned().unwrap_or_default()),
            "--creation-time",
            "now",
            "--builder",
            b.pack_builder(),
            argumentize_list("--buildpack", &buildpacks),
            self.build_tag_options(tag_as_dirty),
            no_cache.then_some("--clear-cache"),
            "--env",
            format!("BP_IMAGE_LABELS=service={}", self.config.service()),
            argumentize("--env", args.iter().map(|(k, v)| (to_s(k), v)), false),
            argumentize("--env", secret_values.iter().map(|(k, v)| (k.clone(), v)), true),
            "--path",
            self.build_context()
        ]))
    }

    fn pack_export(&self, export_action: &str) -> Option<Cmd> {
        (export_action == "registry").then(|| {
            and(parts![
                docker(cmd!["push", self.config.absolute_image()]),
                docker(cmd!["push", self.config.latest_image()])
            ])
        })
    }

    fn pack_info(&self) -> Cmd {
        pack(cmd!["builder", "inspect", self.builder_config().pack_builder()])
    }
}
