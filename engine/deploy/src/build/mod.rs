//! `wharf build`: Kamal's `Kamal::Cli::Build`. `push` builds the image from a clean git clone of
//! HEAD ([`clone`]; unless `builder.context` is set), tags it with the version and `latest`
//! and pushes it; [`pull`] pulls it on every app host with Kamal's service-label check;
//! `deliver` is both. `create`, `remove` and `details` manage Kamal's buildx builder; `dev`
//! builds the working directory as `<version>-dirty`. Every command on this machine goes
//! through the commander's executor ([`crate::local`]), the builder plugin's programs too.
//!
//! Where it is built:
//! - buildx installed: Kamal's builder (inspected, created when missing), then the builder
//!   plugin (the built-in `docker`, or `x-wharf.builder`) runs `docker buildx build` with it;
//!   export types other than `registry` and `docker` run Kamal's command as it is.
//! - no buildx (Debian's docker.io), local builder: the builder plugin runs `docker build`
//!   (classic builder) and one `docker push` per tag, on the local docker.
//! - no buildx, remote builder: see [`remote`] (`ssh://` remotes are built over Wharf's own SSH
//!   connection; other schemes run the local docker CLI with `DOCKER_HOST` set to the remote).
//!
//! Local registry (`registry.server: localhost:PORT`, see [`local_registry`]): the registry
//! container is started before the build, nothing logs in, a remote builder gets a tunnel to it
//! while it builds and pushes, and the app hosts get one while they pull.

pub mod clone;
mod dev;
pub mod local_registry;
mod pull;
mod remote;

pub use dev::dev;
pub use pull::pull;

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::execution::LOCAL;
use crate::{local, output};
use std::path::Path;
use wharf_commands::builder::BuilderKind;
use wharf_commands::registry::Registry;
use wharf_commands::{cmd, Builder};

/// The version and `latest` tags of the image.
fn tags(c: &Commander) -> [String; 2] {
    [c.config.absolute_image(), c.config.latest_image()]
}

/// Kamal's `ensure_docker_installed`: docker must be installed here. Whether buildx is (Wharf
/// builds without it, see the module docs).
fn ensure_docker_installed(c: &Commander) -> Result<bool> {
    if !local::succeeds(c, "docker --version") {
        return Err(CliError::new("Kamal::Cli::DependencyError", "Docker is not installed locally"));
    }
    Ok(local::succeeds(c, "docker buildx version"))
}

fn registry_login_locally(c: &Commander, env: &[(String, String)]) -> Result<()> {
    if let Some(login) = Registry::new(&c.config).login_password_stdin(None)? {
        local::exec(c, &login, &c.dir, env)?;
    }
    Ok(())
}

/// `build push [--output TYPE] [--no-cache]`.
pub async fn push(c: &Commander, output_type: &str, no_cache: bool) -> Result<()> {
    let buildx = ensure_docker_installed(c)?;
    if c.plan {
        output::say(&format!("Would build and push {}", c.config.absolute_image()));
        return Ok(());
    }
    let remote = remote::remote_builder(c)?;
    let registry = Registry::new(&c.config);
    let builder = Builder::new(&c.config);
    // A remote builder's docker (not the local one) talks to the registry.
    let login_locally = if buildx { builder.login_to_registry_locally() } else { remote.is_none() };
    let remote_env: Vec<(String, String)> = match &remote {
        Some(r) if !buildx && !r.is_ssh() => vec![("DOCKER_HOST".into(), r.uri.clone())],
        _ => vec![],
    };
    if registry.local() {
        local_registry::setup(c).await?;
    } else if login_locally || !remote_env.is_empty() {
        registry_login_locally(c, &remote_env)?;
    }
    c.run_hook("pre-build", &[])?;
    let uncommitted = crate::git::status(&c.dir);
    let build_dir = if c.config.builder().git_clone(crate::git::used(&c.dir)) {
        if !uncommitted.is_empty() {
            output::say(&format!(
                "Building from a local git clone, so ignoring these uncommitted changes:\n {uncommitted}"
            ));
        }
        clone::prepare(c)?
    } else {
        if !uncommitted.is_empty() {
            output::say(&format!("Building with uncommitted changes:\n {uncommitted}"));
        }
        c.dir.clone()
    };
    // Kamal's forward_local_registry_port_for_remote_builder.
    let tunnel_hosts: Vec<String> = match &remote {
        Some(r) if registry.local() => vec![r.ssh_host()],
        _ => vec![],
    };
    local_registry::with_forwarded_port(c, &tunnel_hosts, || async {
        if buildx {
            buildx_push(c, &build_dir, output_type, no_cache).await
        } else {
            match &remote {
                Some(r) if r.is_ssh() => remote::remote_ssh_push(c, r, &build_dir, no_cache).await,
                _ => plugin_build(c, &build_dir, output_type, no_cache, None, &remote_env),
            }
        }
    })
    .await
}

/// Whether a failed `inspect_builder` means the builder is missing (Kamal's test of the error).
fn builder_missing(message: &str) -> bool {
    ["context not found", "no builder", "no compatible builder", "does not exist"].iter().any(|m| message.contains(m))
}

/// buildx: Kamal's builder (created when missing), then the build.
async fn buildx_push(c: &Commander, build_dir: &Path, output_type: &str, no_cache: bool) -> Result<()> {
    let builder =
        Builder::new(&c.config).with_dockerfile_present(build_dir.join(c.config.builder().dockerfile()).exists());
    let mut env = builder.push_env();
    env.extend(c.config.builder().secrets()?);
    if let Some(inspect) = builder.inspect_builder() {
        if let Err(e) = local::exec(c, &inspect, build_dir, &env) {
            if !builder_missing(&e.message) {
                return Err(e);
            }
            output::warn(LOCAL, "Missing compatible builder, so creating a new one first");
            if let Err(removing) = remove(c) {
                let gone = ["context not found", "no builder", "does not exist"].iter().any(|m| e.message.contains(m));
                if !gone {
                    return Err(removing);
                }
            }
            create(c).await?;
        }
    }
    if builder.kind() == BuilderKind::Pack || !matches!(output_type, "registry" | "docker") {
        // Cloud Native Buildpacks (`pack build` + export), and export types a builder plugin is
        // not asked for: Kamal's command as it is.
        let push = builder.push(output_type, false, no_cache).map_err(|e| CliError::runtime(e.to_string()))?;
        local::exec_shown(c, &push, build_dir, &env, true)?;
        return Ok(());
    }
    plugin_build(c, build_dir, output_type, no_cache, Some(&builder), &builder.push_env())
}

/// Builds (and with `output_type` `registry`, pushes) through the builder plugin (the built-in
/// `docker`, or `x-wharf.builder`). `buildx`: the Kamal builder to build with (platforms,
/// `--builder`); `None` when buildx is missing. `extra_env`: `DOCKER_HOST` of a remote docker.
fn plugin_build(
    c: &Commander,
    build_dir: &Path,
    output_type: &str,
    no_cache: bool,
    buildx: Option<&Builder>,
    extra_env: &[(String, String)],
) -> Result<()> {
    let b = c.config.builder();
    if !build_dir.join(b.dockerfile()).exists() {
        return Err(CliError::new(
            "Kamal::Commands::Builder::Base::BuilderError",
            format!("Missing {}", b.dockerfile()),
        ));
    }
    if output_type != "registry" && buildx.is_none() {
        return Err(CliError::new(
            "Kamal::Cli::DependencyError",
            format!("--output={output_type} needs the docker buildx plugin, which is not installed locally"),
        ));
    }
    let secrets = b.secrets()?;
    let scalar = |v: &serde_yaml::Value| {
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| serde_yaml::to_string(v).unwrap_or_default().trim().to_string())
    };
    let req = wharf_plugin_host::BuildRequest {
        context_dir: build_dir.join(b.context()).display().to_string(),
        dockerfile: build_dir.join(b.dockerfile()).display().to_string(),
        tags: tags(c).to_vec(),
        build_args: b.args().iter().map(|(k, v)| (scalar(k), scalar(v))).collect(),
        labels: vec![("service".into(), c.config.service())],
        platforms: buildx.map(|x| x.platforms()).unwrap_or_default(),
        target: b.target().filter(|t| !t.trim().is_empty()),
        push: output_type == "registry",
        no_cache,
        cache_from: b.cache_from().filter(|_| b.cache_to().is_some()),
        cache_to: b.cache_to().filter(|_| b.cache_from().is_some()),
        secrets: secrets.iter().map(|(k, _)| k.clone()).collect(),
        builder: buildx.and_then(|x| x.buildx_builder()),
        ssh: b.ssh().filter(|s| !s.trim().is_empty()),
        provenance: b.provenance().map(|v| scalar(&v)),
        sbom: b.sbom().map(|v| scalar(&v)),
    };
    let mut env: Vec<(String, String)> = secrets.clone();
    env.extend(extra_env.iter().cloned());
    let mask: Vec<String> = secrets.into_iter().map(|(_, v)| v).collect();
    let builder = c.config.wharf().builder.clone().unwrap_or_else(|| "docker".into());
    output::say(&format!("Building {} with the {builder} builder plugin", c.config.absolute_image()));
    c.plugins.build(&req, build_dir, &env, &mask)?;
    Ok(())
}

/// `build deliver`: push, then pull.
pub async fn deliver(c: &Commander, no_cache: bool) -> Result<()> {
    push(c, "registry", no_cache).await?;
    pull(c).await
}

/// `build create`: checks that an `ssh://` remote builder answers, then creates Kamal's buildx
/// builder (nothing for the `docker` driver and for pack).
pub async fn create(c: &Commander) -> Result<()> {
    let builder = Builder::new(&c.config);
    if let Some(uri) = c.config.builder().remote() {
        let remote = remote::RemoteBuilder::parse(&uri)?;
        if remote.is_ssh() {
            c.exec(&remote.ssh_host(), &cmd!["true"]).await?;
        }
    }
    if c.global.verbose {
        output::debug(LOCAL, &format!("Using builder: {}", builder.name()));
    }
    let Some(create) = builder.create() else { return Ok(()) };
    local::exec(c, &create, &c.dir, &[]).map_err(|e| {
        let detail = e.message.split_once(":\n").map(|(_, d)| d.to_string()).unwrap_or(e.message);
        CliError::new("SSHKit::Command::Failed", format!("Couldn't create remote builder: {detail}"))
    })?;
    Ok(())
}

/// `build remove`: removes Kamal's buildx builder (and a remote builder's docker context).
pub fn remove(c: &Commander) -> Result<()> {
    let builder = Builder::new(&c.config);
    if c.global.verbose {
        output::debug(LOCAL, &format!("Using builder: {}", builder.name()));
    }
    if let Some(remove) = builder.remove() {
        local::exec(c, &remove, &c.dir, &[])?;
    }
    Ok(())
}

/// `build details`: the builder's name, then `docker context ls && docker buildx ls`.
pub fn details(c: &Commander) -> Result<()> {
    let builder = Builder::new(&c.config);
    output::line(&format!("Builder: {}", builder.name()));
    let info = builder.info();
    let out = local::query(c, &info.to_string())?;
    if !out.success {
        return Err(local::failed(&info.to_redacted_string(), &out));
    }
    output::line(out.stdout.trim_end());
    Ok(())
}
