//! `build push`, `build pull`, `build deliver`. The image is built from a clean git clone of HEAD
//! (unless `builder.context` is set), tagged with the version and `latest`, pushed, then pulled
//! on every app host with Kamal's service-label check.
//!
//! Where it is built:
//! - buildx installed: Kamal's way (`docker buildx build --push` with Kamal's builders, remote
//!   and hybrid ones included).
//! - no buildx (Debian's docker.io), local builder: `docker build` (classic builder) and one
//!   `docker push` per tag, on the local docker.
//! - no buildx, remote builder (`builder.remote`, and Kamal would build some arch remotely):
//!   `ssh://` remotes are built over Wharf's own SSH connection, the one deploy.yml's `ssh:`
//!   settings (user, keys, proxy, ssh_config) describe, not the system `ssh` binary that
//!   `docker -H ssh://` would need set up separately: the build directory is sent as a gzipped
//!   tar on the command's stdin, unpacked into a temporary directory on the builder, built there
//!   with `docker build` (so the builder's docker CLI applies `.dockerignore` as a local build
//!   would), and pushed from there; the temporary directory is removed whatever happens. The
//!   builder logs in to the registry (Kamal's remote builders do not log in locally). Other
//!   schemes (`tcp://`) run the local docker CLI with `DOCKER_HOST` set to the remote.
//!
//! Local registry (`registry.server: localhost:PORT`, see [`local_registry`]): the
//! registry container is started before the build, nothing logs in, a remote builder gets a
//! tunnel to it while it builds and pushes, and the app hosts get one while they pull.

use crate::commander::Commander;
use crate::error::{CliError, Result};
pub mod local_registry;

use crate::{local, output};
use std::path::{Path, PathBuf};
use wharf_commands::builder::GitClone;
use wharf_commands::registry::Registry;
use wharf_commands::{cmd, Builder, Cmd};
use wharf_ssh::{shell_quote, Line};

fn registry_login_locally(c: &Commander, env: &[(String, String)]) -> Result<()> {
    if let Some(login) = Registry::new(&c.config).login_password_stdin(None)? {
        local::exec(&login, &c.dir, env, c.global.verbose)?;
    }
    Ok(())
}

/// Prepares `<tmp>/kamal-clones/<service>-<hash>` at HEAD, as Kamal's `Clone#prepare`.
fn prepare_clone(c: &Commander) -> Result<PathBuf> {
    let root = crate::git::root(&c.dir).ok_or_else(|| CliError::runtime("Not a git repository"))?;
    let revision = crate::git::revision(&c.dir);
    let tmp = std::env::temp_dir().display().to_string();
    let pwd = c.dir.display().to_string();
    let clone = GitClone::new(&c.config, &root, &revision, &tmp, &pwd);
    let builder = Builder::new(&c.config);
    std::fs::create_dir_all(&clone.clone_directory)?;
    let clone_root = Path::new(&clone.clone_directory).join(Path::new(&root).file_name().unwrap_or_default());
    if !clone_root.exists() {
        output::say(&format!("Cloning repo into build directory `{}`...", clone.build_directory));
        local::exec(&builder.clone_repo(&clone), &c.dir, &[], c.global.verbose)?;
    } else {
        output::say(&format!("Resetting local clone as `{}` already exists...", clone.build_directory));
        for step in builder.clone_reset_steps(&clone) {
            local::exec(&step, &c.dir, &[], c.global.verbose)?;
        }
    }
    Ok(PathBuf::from(clone.build_directory))
}

/// `builder.remote`, parsed: `scheme://[user@]host[:port][/path]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RemoteBuilder {
    uri: String,
    scheme: String,
    /// `[user@]host[:port]`, as Wharf's SSH pool takes it (`ssh://` remotes).
    authority: String,
    /// The host alone.
    host: String,
}

impl RemoteBuilder {
    fn parse(uri: &str) -> Result<RemoteBuilder> {
        let bad = || CliError::runtime(format!("Invalid builder remote `{uri}`: expected ssh://[user@]host[:port]"));
        let (scheme, rest) = uri.split_once("://").ok_or_else(bad)?;
        let authority = rest.split('/').next().unwrap_or_default().to_string();
        let host_port = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(&authority);
        let host = if let Some(v6) = host_port.strip_prefix('[') {
            v6.split(']').next().unwrap_or_default().to_string()
        } else {
            host_port.split(':').next().unwrap_or_default().to_string()
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok(RemoteBuilder { uri: uri.to_string(), scheme: scheme.to_ascii_lowercase(), authority, host })
    }

    fn is_ssh(&self) -> bool {
        self.scheme == "ssh"
    }

    /// The SSH host that gets the local registry's tunnel (Kamal: the remote URI's host).
    fn ssh_host(&self) -> String {
        if self.is_ssh() {
            self.authority.clone()
        } else {
            self.host.clone()
        }
    }
}

/// The local docker's architecture, as Kamal's `Kamal::Utils.docker_arch` (`docker info`), ""
/// when there is no local docker daemon.
fn local_docker_arch(c: &Commander) -> String {
    let out = local::run_text("docker info --format '{{.Architecture}}'", "docker info", &c.dir, &[], false);
    match out {
        Ok(o) if o.success => match o.stdout.trim() {
            a if a.contains("aarch64") => "arm64".into(),
            a if a.contains("x86_64") => "amd64".into(),
            a => a.to_string(),
        },
        _ => String::new(),
    }
}

/// The remote builder, when Kamal would build (some arch) on it: `builder.remote` is set, and
/// `local: false` or an arch differs from the local docker's (all do when there is no local
/// docker daemon).
fn remote_builder(c: &Commander) -> Result<Option<RemoteBuilder>> {
    let b = c.config.builder();
    let Some(remote) = b.remote() else { return Ok(None) };
    let arch = if b.local_disabled() { String::new() } else { local_docker_arch(c) };
    if b.local_disabled() || b.arches().iter().any(|a| *a != arch) {
        return Ok(Some(RemoteBuilder::parse(&remote)?));
    }
    Ok(None)
}

/// `docker build` with the classic builder's options: both tags, the service label, build
/// args, `--no-cache`, `--target`, `--file <dockerfile> <context>` (relative to the build
/// directory).
fn classic_build(c: &Commander, no_cache: bool) -> Cmd {
    let b = c.config.builder();
    let mut build = cmd!["docker", "build"];
    for tag in [c.config.absolute_image(), c.config.latest_image()] {
        build.push(cmd!["-t", tag]);
    }
    build.push(cmd!["--label", format!("service=\"{}\"", c.config.service())]);
    for (k, v) in b.args().iter() {
        let key = k.as_str().map(str::to_string).unwrap_or_else(|| format!("{k:?}"));
        let value = v
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| serde_yaml::to_string(v).unwrap_or_default().trim().to_string());
        build.push(cmd!["--build-arg", format!("{key}={}", wharf_config::utils::escape_shell_value(&value))]);
    }
    if no_cache {
        build.push("--no-cache");
    }
    if let Some(target) = b.target() {
        build.push(cmd!["--target", target]);
    }
    build.push(cmd!["--file", b.dockerfile(), b.context()]);
    build
}

fn tags(c: &Commander) -> [String; 2] {
    [c.config.absolute_image(), c.config.latest_image()]
}

/// `build push`.
pub async fn push(c: &Commander, no_cache: bool) -> Result<()> {
    push_async(c, no_cache).await
}

async fn push_async(c: &Commander, no_cache: bool) -> Result<()> {
    if !local::succeeds("docker --version", &c.dir) {
        return Err(CliError::new("Kamal::Cli::DependencyError", "Docker is not installed locally"));
    }
    if c.plan {
        output::say(&format!("Would build and push {}", c.config.absolute_image()));
        return Ok(());
    }
    let buildx = local::succeeds("docker buildx version", &c.dir);
    let remote = remote_builder(c)?;
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
    let git_used = crate::git::used(&c.dir);
    let build_dir = if c.config.builder().git_clone(git_used) {
        if crate::git::uncommitted_changes(&c.dir) {
            output::say("Building from a local git clone, so ignoring uncommitted changes");
        }
        prepare_clone(c)?
    } else {
        c.dir.clone()
    };
    // Kamal's forward_local_registry_port_for_remote_builder.
    let tunnel_hosts: Vec<String> = match &remote {
        Some(r) if registry.local() => vec![r.ssh_host()],
        _ => vec![],
    };
    local_registry::with_forwarded_port(c, &tunnel_hosts, || async {
        if buildx {
            buildx_push(c, &build_dir, no_cache)
        } else {
            match &remote {
                Some(r) if r.is_ssh() => remote_ssh_push(c, r, &build_dir, no_cache).await,
                _ => classic_push(c, &build_dir, no_cache, &remote_env),
            }
        }
    })
    .await
}

/// buildx: Kamal's builder (created when missing), then `docker buildx build --push`.
fn buildx_push(c: &Commander, build_dir: &Path, no_cache: bool) -> Result<()> {
    let builder =
        Builder::new(&c.config).with_dockerfile_present(build_dir.join(c.config.builder().dockerfile()).exists());
    let mut env = builder.push_env();
    env.extend(c.config.builder().secrets()?);
    if let Some(inspect) = builder.inspect_builder() {
        if local::exec(&inspect, build_dir, &env, c.global.verbose).is_err() {
            output::say("Missing compatible builder, so creating a new one first");
            if let Some(remove) = builder.remove() {
                let _ = local::exec(&remove, build_dir, &env, c.global.verbose);
            }
            if let Some(create) = builder.create() {
                local::exec(&create, build_dir, &env, c.global.verbose)?;
            }
        }
    }
    if builder.kind() == wharf_commands::builder::BuilderKind::Pack {
        // Cloud Native Buildpacks: `pack build` + export, as Kamal runs them.
        let push = builder.push("registry", false, no_cache).map_err(|e| CliError::runtime(e.to_string()))?;
        local::exec(&push, build_dir, &env, true)?;
        return Ok(());
    }
    plugin_build(c, build_dir, no_cache, Some(&builder), &[])
}

/// Builds and pushes through the builder plugin (the built-in `docker`, or `x-wharf.builder`).
/// `buildx`: the Kamal builder to build with (platforms, `--builder`); `None` when buildx is
/// missing. `extra_env`: `DOCKER_HOST` of a remote docker.
fn plugin_build(
    c: &Commander,
    build_dir: &Path,
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
        push: true,
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

/// No buildx: the builder plugin builds with `docker build` and pushes each tag, on the local
/// docker (or the one `extra_env`'s `DOCKER_HOST` names).
fn classic_push(c: &Commander, build_dir: &Path, no_cache: bool, extra_env: &[(String, String)]) -> Result<()> {
    plugin_build(c, build_dir, no_cache, None, extra_env)
}

/// The build directory as a gzipped tar (everything in it, `.git` included: the builder's
/// `docker build` applies `.dockerignore`).
fn context_tarball(c: &Commander, build_dir: &Path) -> Result<Vec<u8>> {
    let context = build_dir.join(c.config.builder().context());
    let (dir, ctx) = (build_dir.canonicalize()?, context.canonicalize()?);
    if !ctx.starts_with(&dir) {
        return Err(CliError::runtime(format!(
            "builder context `{}` is outside the build directory `{}`, which is all a remote builder is sent",
            c.config.builder().context(),
            build_dir.display()
        )));
    }
    let out = std::process::Command::new("tar").arg("-C").arg(&dir).args(["-czf", "-", "."]).output()?;
    if !out.status.success() {
        return Err(CliError::runtime(format!(
            "tar of the build directory {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

/// No buildx, `ssh://` remote builder: build and push on it over Wharf's SSH connection.
async fn remote_ssh_push(c: &Commander, remote: &RemoteBuilder, build_dir: &Path, no_cache: bool) -> Result<()> {
    let host = remote.authority.as_str();
    let arches = c.config.builder().arches();
    output::say(&format!(
        "buildx is not installed: building on the remote builder {} with `docker build`{}, then `docker push` there",
        remote.uri,
        if arches.len() > 1 {
            format!(" for its own architecture only (not {})", arches.join(", "))
        } else {
            String::new()
        }
    ));
    // Kamal's connect_to_remote_host: fail early if the builder cannot be reached.
    c.exec(host, &cmd!["true"]).await?;
    let registry = Registry::new(&c.config);
    if !registry.local() {
        if let Some(login) = registry.login_password_stdin(None)? {
            c.exec(host, &login).await?;
        }
    }
    let tarball = context_tarball(c, build_dir)?;
    let build = classic_build(c, no_cache);
    // The builder's docker CLI uses BuildKit when it has buildx, the classic builder otherwise.
    let script = format!(
        "dir=$(mktemp -d \"${{TMPDIR:-/tmp}}/wharf-build.XXXXXX\") && trap 'rm -rf \"$dir\"' EXIT && \
         tar -xzf - -C \"$dir\" && cd \"$dir\" && \
         if docker buildx version >/dev/null 2>&1; then {build}; else DOCKER_BUILDKIT=0 {build}; fi"
    );
    let shown = format!("docker build on {} of the build directory ({} bytes, gzipped tar)", remote.uri, tarball.len());
    let verbose = c.global.verbose;
    if verbose {
        output::info(host, &format!("Running {}", build.to_redacted_string()));
    }
    let mut show = |line: Line<'_>| {
        if verbose {
            output::debug(line.host, line.text);
        }
    };
    let out = c
        .exec_script(host, &format!("sh -c {}", shell_quote(&script)), &shown, Some(&tarball), Some(&mut show))
        .await?;
    if !out.success() {
        let stderr = out.stderr_str();
        let detail = if stderr.trim().is_empty() { out.stdout_str().to_string() } else { stderr.to_string() };
        return Err(CliError::new(
            "SSHKit::Command::Failed",
            format!(
                "Exception while executing on host {host}: {shown} exit status: {}\n{}",
                out.exit_status,
                detail.trim()
            ),
        ));
    }
    for tag in tags(c) {
        c.exec(host, &cmd!["docker", "push", tag]).await?;
    }
    Ok(())
}

/// Kamal's `mirror_hosts`: with several app hosts, the first host behind each registry mirror
/// (`docker info`'s first mirror), pulled first to seed the mirror.
async fn mirror_hosts(c: &Commander, hosts: &[String]) -> Result<Vec<String>> {
    if hosts.len() < 2 {
        return Ok(vec![]);
    }
    let first_mirror = Builder::new(&c.config).first_mirror();
    let found = c
        .on(hosts, |h| {
            let first_mirror = first_mirror.clone();
            async move {
                let out = c.query(&h, &first_mirror).await?;
                let mirror = out.stdout_str().trim().to_string();
                if out.success() {
                    return Ok((!mirror.is_empty()).then_some(mirror));
                }
                if out.stderr_str().contains("index out of range") {
                    return Ok(None);
                }
                let stderr = out.stderr_str().trim().to_string();
                Err(CliError::new(
                    "SSHKit::Command::Failed",
                    format!(
                        "Exception while executing on host {h}: {first_mirror} exit status: {}\n{stderr}",
                        out.exit_status
                    ),
                ))
            }
        })
        .await?;
    let mut seen: Vec<String> = vec![];
    let mut first_hosts = vec![];
    // In host order, so that which host seeds a mirror does not depend on timing.
    for h in hosts {
        if let Some((_, Some(mirror))) = found.iter().find(|(fh, _)| fh == h) {
            if !seen.contains(mirror) {
                seen.push(mirror.clone());
                first_hosts.push(h.clone());
            }
        }
    }
    Ok(first_hosts)
}

async fn pull_on_hosts(c: &Commander, hosts: &[String]) -> Result<()> {
    let builder = Builder::new(&c.config);
    let (clean, pull, validate) = (builder.clean(), builder.pull(), builder.validate_image());
    let version = c.config.version();
    c.on(hosts, |h| {
        let (clean, pull, validate) = (clean.clone(), pull.clone(), validate.clone());
        let version = version.clone();
        async move {
            c.audit(&h, None, &format!("Pulled image with version {version}")).await?;
            c.exec_unchecked(&h, &clean).await?;
            c.exec(&h, &pull).await?;
            c.exec(&h, &validate).await?;
            Ok(())
        }
    })
    .await?;
    Ok(())
}

/// `build pull`: log in on the app hosts (not for a local registry), then pull there (one host
/// per registry mirror first), with the local registry's port forwarded to them meanwhile.
pub async fn pull(c: &Commander) -> Result<()> {
    let registry = Registry::new(&c.config);
    let hosts = c.app_hosts();
    if !registry.local() {
        if let Some(login) = registry.login_password_stdin(None)? {
            c.on(&hosts, |h| {
                let login = login.clone();
                async move { c.exec(&h, &login).await.map(|_| ()) }
            })
            .await?;
        }
    }
    local_registry::with_forwarded_port(c, &hosts, || async {
        let first_hosts = mirror_hosts(c, &hosts).await?;
        if first_hosts.is_empty() {
            return pull_on_hosts(c, &hosts).await;
        }
        output::say(&format!(
            "Pulling image on {} to seed the {}...",
            first_hosts.join(", "),
            if first_hosts.len() == 1 { "mirror" } else { "mirrors" }
        ));
        pull_on_hosts(c, &first_hosts).await?;
        output::say("Pulling image on remaining hosts...");
        let rest: Vec<String> = hosts.iter().filter(|h| !first_hosts.contains(h)).cloned().collect();
        pull_on_hosts(c, &rest).await
    })
    .await
}

/// `build deliver`: push, then pull.
pub async fn deliver(c: &Commander, no_cache: bool) -> Result<()> {
    push_async(c, no_cache).await?;
    pull(c).await
}

#[cfg(test)]
mod tests {
    use super::RemoteBuilder;

    #[test]
    fn remote_builder_uris() {
        let r = RemoteBuilder::parse("ssh://root@10.200.0.3").unwrap();
        assert_eq!(
            (r.scheme.as_str(), r.authority.as_str(), r.host.as_str()),
            ("ssh", "root@10.200.0.3", "10.200.0.3")
        );
        assert!(r.is_ssh());
        assert_eq!(r.ssh_host(), "root@10.200.0.3");
        let r = RemoteBuilder::parse("ssh://deploy@builder.example.com:2222/var/run/docker.sock").unwrap();
        assert_eq!((r.authority.as_str(), r.host.as_str()), ("deploy@builder.example.com:2222", "builder.example.com"));
        let r = RemoteBuilder::parse("ssh://[fd00::3]:22").unwrap();
        assert_eq!(r.host, "fd00::3");
        let r = RemoteBuilder::parse("tcp://10.0.0.5:2376").unwrap();
        assert!(!r.is_ssh());
        assert_eq!(r.ssh_host(), "10.0.0.5");
        assert!(RemoteBuilder::parse("10.0.0.5").is_err());
        assert!(RemoteBuilder::parse("ssh://").is_err());
    }
}
