//! `build push`, `build pull`, `build deliver`: the image is built on this machine (buildx when it
//! is installed, else `docker build` and `docker push`), from a clean git clone of HEAD unless
//! `builder.context` is set, tagged with the version and `latest`, pushed, then pulled on every
//! app host with Kamal's service-label check.

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::{local, output};
use std::path::{Path, PathBuf};
use wharf_commands::builder::GitClone;
use wharf_commands::registry::Registry;
use wharf_commands::{cmd, Builder, Cmd};

fn registry_login_locally(c: &Commander) -> Result<()> {
    if let Some(login) = Registry::new(&c.config).login(None)? {
        local::exec(&login, &c.dir, &[], c.global.verbose)?;
    }
    Ok(())
}

/// Prepares `<tmp>/kamal-clones/<service>-<hash>` at HEAD, as Kamal's `Clone#prepare`.
fn prepare_clone(c: &Commander) -> Result<PathBuf> {
    let root = crate::git::root(&c.dir).ok_or_else(|| CliError::runtime("Not a git repository"))?;
    let revision =
        crate::git::revision(&c.dir).ok_or_else(|| CliError::runtime("The git repository has no commits"))?;
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

pub fn push(c: &Commander, no_cache: bool) -> Result<()> {
    if !local::succeeds("docker --version", &c.dir) {
        return Err(CliError::new("Kamal::Cli::DependencyError", "Docker is not installed locally"));
    }
    if c.plan {
        output::say(&format!("Would build and push {}", c.config.absolute_image()));
        return Ok(());
    }
    c.run_hook("pre-build", &[])?;
    if !Registry::new(&c.config).local() {
        registry_login_locally(c)?;
    }
    let git_used = crate::git::used(&c.dir);
    let build_dir = if c.config.builder().git_clone(git_used) {
        if crate::git::uncommitted_changes(&c.dir) {
            output::say("Building from a local git clone, so ignoring uncommitted changes");
        }
        prepare_clone(c)?
    } else {
        c.dir.clone()
    };
    let builder =
        Builder::new(&c.config).with_dockerfile_present(build_dir.join(c.config.builder().dockerfile()).exists());
    let secrets_env: Vec<(String, String)> = c.config.builder().secrets()?;
    let mut env = builder.push_env();
    env.extend(secrets_env);
    if local::succeeds("docker buildx version", &c.dir) {
        if let Some(inspect) = builder.inspect_builder() {
            if local::exec(&inspect, &build_dir, &env, c.global.verbose).is_err() {
                output::say("Missing compatible builder, so creating a new one first");
                if let Some(remove) = builder.remove() {
                    let _ = local::exec(&remove, &build_dir, &env, c.global.verbose);
                }
                if let Some(create) = builder.create() {
                    local::exec(&create, &build_dir, &env, c.global.verbose)?;
                }
            }
        }
        let push = builder.push("registry", false, no_cache).map_err(|e| CliError::runtime(e.to_string()))?;
        local::exec(&push, &build_dir, &env, true)?;
    } else {
        // No buildx (Debian's docker.io): the classic builder, then one push per tag.
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
        let mut legacy_env = env.clone();
        legacy_env.push(("DOCKER_BUILDKIT".into(), "0".into()));
        output::say("buildx is not installed: building with `docker build`, then `docker push`");
        local::exec(&build, &build_dir, &legacy_env, c.global.verbose)?;
        for tag in [c.config.absolute_image(), c.config.latest_image()] {
            local::exec(&cmd!["docker", "push", tag], &build_dir, &env, c.global.verbose)?;
        }
    }
    Ok(())
}

pub async fn pull(c: &Commander) -> Result<()> {
    let registry = Registry::new(&c.config);
    let hosts = c.app_hosts();
    if !registry.local() {
        if let Some(login) = registry.login(None)? {
            c.on(&hosts, |h| {
                let login = login.clone();
                async move { c.exec(&h, &login).await.map(|_| ()) }
            })
            .await?;
        }
    }
    let builder = Builder::new(&c.config);
    let (clean, pull, validate) = (builder.clean(), builder.pull(), builder.validate_image());
    let version = c.config.version();
    c.on(&hosts, |h| {
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

pub async fn deliver(c: &Commander, no_cache: bool) -> Result<()> {
    push(c, no_cache)?;
    pull(c).await
}

#[allow(dead_code)]
fn _unused(_: Cmd) {}
