//! Remote builders (`builder.remote`): which one Kamal would build on, and, when this machine
//! has no buildx, building on an `ssh://` remote over Wharf's own SSH connection: the build
//! directory is sent as a gzipped tar on the command's stdin, unpacked into a temporary
//! directory on the builder, built there with `docker build` (so the builder's docker CLI
//! applies `.dockerignore` as a local build would) and pushed from there; the temporary
//! directory is removed whatever happens. The builder logs in to the registry (Kamal's remote
//! builders do not log in locally).

use super::tags;
use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::output;
use std::path::Path;
use wharf_commands::registry::Registry;
use wharf_commands::{cmd, Cmd};
use wharf_ssh::{shell_quote, Line};

/// `builder.remote`, parsed: `scheme://[user@]host[:port][/path]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RemoteBuilder {
    pub(super) uri: String,
    scheme: String,
    /// `[user@]host[:port]`, as Wharf's SSH pool takes it (`ssh://` remotes).
    authority: String,
    /// The host alone.
    host: String,
}

impl RemoteBuilder {
    pub(super) fn parse(uri: &str) -> Result<RemoteBuilder> {
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

    pub(super) fn is_ssh(&self) -> bool {
        self.scheme == "ssh"
    }

    /// The SSH host that gets the local registry's tunnel (Kamal: the remote URI's host).
    pub(super) fn ssh_host(&self) -> String {
        if self.is_ssh() {
            self.authority.clone()
        } else {
            self.host.clone()
        }
    }
}

/// The remote builder, when Kamal would build (some arch) on it: `builder.remote` is set, and
/// `local: false` or an arch differs from the local docker's (all do when there is no local
/// docker daemon).
pub(super) fn remote_builder(c: &Commander) -> Result<Option<RemoteBuilder>> {
    let b = c.config.builder();
    let Some(remote) = b.remote() else { return Ok(None) };
    let arch = if b.local_disabled() { String::new() } else { b.docker_arch().to_string() };
    if b.local_disabled() || b.arches().iter().any(|a| *a != arch) {
        return Ok(Some(RemoteBuilder::parse(&remote)?));
    }
    Ok(None)
}

/// `docker build` with the classic builder's options: both tags, the service label, build
/// args, `--no-cache`, `--target`, `--file <dockerfile> <context>` (relative to the build
/// directory), tagged `tags`.
pub(super) fn classic_build(c: &Commander, tags: &[String], no_cache: bool) -> Cmd {
    let b = c.config.builder();
    let mut build = cmd!["docker", "build"];
    for tag in tags {
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
pub(super) async fn remote_ssh_push(
    c: &Commander,
    remote: &RemoteBuilder,
    build_dir: &Path,
    no_cache: bool,
) -> Result<()> {
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
    let build = classic_build(c, &tags(c), no_cache);
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
