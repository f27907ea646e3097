//! Wharf's built-in builder: what Kamal's `kamal build push` runs, as a plugin.
//!
//! With buildx (`docker buildx version` succeeds), one command in Kamal's order:
//! `docker buildx build --output=type=registry --platform P [--builder B] -t T... [--cache-to C
//! --cache-from C] --label K=V --build-arg K=V --secret id=S --file F [--target T] [--ssh S]
//! [--provenance P] [--sbom S] [--no-cache] CONTEXT`.
//!
//! Without buildx (Debian's docker.io, for instance): `docker build` with the legacy builder
//! (`DOCKER_BUILDKIT=0`), then `docker push` of each tag. Platforms other than the local one,
//! cache, secrets, ssh, provenance and sbom need buildx: asking for them without it fails with
//! a message saying so, before anything is built.
//!
//! docker's output is logged at `debug` (shown with `--verbose`); a failure returns its last
//! lines.

use wharf_plugin_sdk::process::{describe, Command, Output};
use wharf_plugin_sdk::{BuildRequest, BuildResult, Builder};

struct Docker;

/// How many lines of docker's output a failure message keeps.
const TAIL: usize = 20;

fn run(cmd: Command, what: &str) -> Result<Output, String> {
    let out = cmd.run().map_err(|e| describe(&e))?;
    for line in out.stdout.lines().chain(out.stderr.lines()) {
        wharf_plugin_sdk::debug!("{line}");
    }
    if out.exit_code != Some(0) {
        let all: Vec<&str> = out.stdout.lines().chain(out.stderr.lines()).collect();
        let tail = all[all.len().saturating_sub(TAIL)..].join("\n");
        let code = out.exit_code.map(|c| c.to_string()).unwrap_or_else(|| "a signal".into());
        return Err(format!("{what} failed (exit {code}):\n{tail}"));
    }
    Ok(out)
}

fn kv(pairs: &[(String, String)]) -> impl Iterator<Item = String> + '_ {
    pairs.iter().map(|(k, v)| format!("{k}={v}"))
}

fn buildx_args(req: &BuildRequest) -> Vec<String> {
    let mut a: Vec<String> = vec!["buildx".into(), "build".into()];
    a.push(format!("--output=type={}", if req.push { "registry" } else { "docker" }));
    if !req.platforms.is_empty() {
        a.extend(["--platform".into(), req.platforms.join(",")]);
    }
    if let Some(b) = &req.builder {
        a.extend(["--builder".into(), b.clone()]);
    }
    for t in &req.tags {
        a.extend(["-t".into(), t.clone()]);
    }
    if let (Some(to), Some(from)) = (&req.cache_to, &req.cache_from) {
        a.extend(["--cache-to".into(), to.clone(), "--cache-from".into(), from.clone()]);
    }
    for l in kv(&req.labels) {
        a.extend(["--label".into(), l]);
    }
    for b in kv(&req.build_args) {
        a.extend(["--build-arg".into(), b]);
    }
    for s in &req.secrets {
        a.extend(["--secret".into(), format!("id={s}")]);
    }
    a.extend(["--file".into(), req.dockerfile.clone()]);
    let mut opt = |flag: &str, v: &Option<String>| {
        if let Some(v) = v {
            a.extend([flag.to_string(), v.clone()]);
        }
    };
    opt("--target", &req.target);
    opt("--ssh", &req.ssh);
    opt("--provenance", &req.provenance);
    opt("--sbom", &req.sbom);
    if req.no_cache {
        a.push("--no-cache".into());
    }
    a.push(req.context_dir.clone());
    a
}

/// What the legacy builder cannot do, named as in deploy.yml.
fn needs_buildx(req: &BuildRequest) -> Vec<&'static str> {
    let mut out = vec![];
    if req.platforms.len() > 1 {
        out.push("builder.arch (several platforms)");
    }
    if req.cache_from.is_some() || req.cache_to.is_some() {
        out.push("builder.cache");
    }
    if !req.secrets.is_empty() {
        out.push("builder.secrets");
    }
    if req.ssh.is_some() {
        out.push("builder.ssh");
    }
    if req.provenance.is_some() || req.sbom.is_some() {
        out.push("builder.provenance/sbom");
    }
    if req.builder.is_some() {
        out.push("a buildx builder (remote, hybrid or cloud builds)");
    }
    out
}

fn classic(req: &BuildRequest) -> Result<BuildResult, String> {
    let missing = needs_buildx(req);
    if !missing.is_empty() {
        let verb = if missing.len() == 1 { "needs" } else { "need" };
        return Err(format!("docker buildx is not installed, and {} {verb} it", missing.join(", ")));
    }
    wharf_plugin_sdk::info!("buildx is not installed: building with `docker build`, then `docker push`");
    let mut a: Vec<String> = vec!["build".into()];
    for t in &req.tags {
        a.extend(["-t".into(), t.clone()]);
    }
    for l in kv(&req.labels) {
        a.extend(["--label".into(), l]);
    }
    for b in kv(&req.build_args) {
        a.extend(["--build-arg".into(), b]);
    }
    if req.no_cache {
        a.push("--no-cache".into());
    }
    if let Some(t) = &req.target {
        a.extend(["--target".into(), t.clone()]);
    }
    a.extend(["--file".into(), req.dockerfile.clone(), req.context_dir.clone()]);
    run(Command::new("docker").args(a).env("DOCKER_BUILDKIT", "0"), "docker build")?;
    let image_id = run(
        Command::new("docker")
            .args(["image", "inspect", "--format", "{{.Id}}"])
            .arg(req.tags.first().cloned().unwrap_or_default()),
        "docker image inspect",
    )
    .ok()
    .map(|o| o.stdout.trim().to_string())
    .filter(|s| s.starts_with("sha256:"));
    let mut digest = None;
    if req.push {
        for t in &req.tags {
            let out = run(Command::new("docker").args(["push", t.as_str()]), &format!("docker push {t}"))?;
            // `latest: digest: sha256:... size: 528`
            digest = digest
                .or_else(|| out.stdout.split_whitespace().skip_while(|w| *w != "digest:").nth(1).map(str::to_string));
        }
    }
    Ok(BuildResult { image_id, digest })
}

impl Builder for Docker {
    fn build(req: BuildRequest) -> Result<BuildResult, String> {
        if req.tags.is_empty() {
            return Err("nothing to tag the image with".into());
        }
        let buildx = Command::new("docker").args(["buildx", "version"]).run().map(|o| o.exit_code == Some(0));
        match buildx {
            Ok(true) => {
                run(Command::new("docker").args(buildx_args(&req)), "docker buildx build")?;
                Ok(BuildResult { image_id: None, digest: None })
            }
            Ok(false) => classic(&req),
            Err(e) => Err(describe(&e)),
        }
    }
}

wharf_plugin_sdk::export_builder!(Docker);
