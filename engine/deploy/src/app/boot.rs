//! `app boot`: start the new version on every app host and switch traffic to it (Kamal's
//! `Cli::App#boot` and `Cli::App::Boot`). Per host and role: rename a clashing container, upload
//! the env file (mode 0600), `docker run`, then hand the container to the proxy (proxied roles;
//! the proxy health-checks it) or poll its docker status (others), then stop the old version.
//! Before that, on every app host at once: the error pages, the assets and the custom SSL
//! certificates (`error_pages`, `assets`, `ssl_certificates`). Hosts boot in groups
//! (`boot.limit`, `boot.wait`); a barrier holds the other roles until the first primary-role
//! container is healthy; `latest` is tagged once all hosts run the version.
//!
//! With a fleet transaction (Wharf: `--fleet-transaction`, `x-wharf: fleet_transaction`), the
//! old version's stop is held until every host has booted; when any host fails, the hosts that
//! had switched are pointed back at their old container (still running, health-checked by the
//! proxy again) and the new one is stopped, so the fleet is never left on two versions.

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::output;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use wharf_commands::App;
use wharf_config::Role;

/// Opens when the first primary-role container is healthy; closes when it fails.
#[derive(Clone)]
struct Barrier {
    state: watch::Sender<Option<bool>>,
}

impl Barrier {
    fn new() -> Self {
        Self { state: watch::channel(None).0 }
    }
    fn open(&self) -> bool {
        let mut changed = false;
        self.state.send_if_modified(|s| {
            if s.is_none() {
                *s = Some(true);
                changed = true;
            }
            changed
        });
        changed
    }
    fn close(&self) -> bool {
        let mut changed = false;
        self.state.send_if_modified(|s| {
            if s.is_none() {
                *s = Some(false);
                changed = true;
            }
            changed
        });
        changed
    }
    async fn wait(&self) -> bool {
        let mut rx = self.state.subscribe();
        let result = rx.wait_for(|s| s.is_some()).await.map(|s| s.unwrap_or(false)).unwrap_or(false);
        result
    }
}

fn hostname_for(host: &str) -> String {
    let mut h: String = host.chars().take(51).collect();
    while h.ends_with('.') {
        h.pop();
    }
    format!("{h}-{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff)
}

/// Kamal's `Healthcheck::Poller`: `running` (then the readiness delay) or `healthy` within
/// `deploy_timeout`, retrying with 1, 2, 3... second pauses.
async fn wait_for_healthy(c: &Commander, host: &str, app: &App<'_>, version: &str) -> Result<()> {
    let timeout = Duration::from_secs(c.config.deploy_timeout());
    let deadline = Instant::now() + timeout;
    let readiness = c.config.readiness_delay();
    let mut attempt = 1u64;
    let role = app.role().map(|r| r.name().to_string()).unwrap_or_default();
    loop {
        let mut status = c.capture_unchecked(host, &app.status(version)).await?;
        if status == "running" && readiness > 0 && !c.plan {
            output::info(host, &format!("Container is running, waiting for readiness delay of {readiness} seconds"));
            tokio::time::sleep(Duration::from_secs(readiness)).await;
            status = c.capture_unchecked(host, &app.status(version)).await?;
        }
        let healthy = status == "running" || status == "healthy";
        crate::events::health_check(host, &role, attempt, &status, healthy);
        if healthy || c.plan {
            output::info(host, "Container is healthy!");
            return Ok(());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(CliError::new(
                "Kamal::Cli::Healthcheck::Error",
                format!("container not ready after {} seconds ({status})", timeout.as_secs()),
            ));
        }
        tokio::time::sleep(Duration::from_secs(attempt).min(left)).await;
        attempt += 1;
    }
}

/// Kamal's `KAMAL.primary_role`: of the selected roles on the primary host, the configured
/// primary role, else the first (with `-h` or `-r` it can be another role than the configured
/// one: the role that then opens the barrier).
fn primary_role_name(c: &Commander) -> String {
    c.primary_role().map(|r| r.name().to_string()).unwrap_or_else(|| c.primary_role_name())
}

/// A host and role that switched to the new version, and the version it ran before.
struct Switched<'c> {
    host: String,
    role: &'c Role,
    old: Option<String>,
}

async fn boot_one<'c>(
    c: &'c Commander,
    host: &str,
    role: &'c Role,
    version: &str,
    barrier: &Barrier,
    switched: &std::sync::Mutex<Vec<Switched<'c>>>,
) -> Result<()> {
    let app = App::new(&c.config, Some(role), Some(host));
    let primary_role = primary_role_name(c);
    let gatekeeper = role.name() == primary_role;

    // An existing container of this version is renamed out of the way. Both questions go in one
    // exchange, before the renaming: when the running container is the renamed one, the old
    // version is its new name (what the question would answer after the renaming).
    // (`stale_containers` may have asked for the running version already.)
    let clashing_query = app.container_id_for_version(version, false);
    let current_query = app.current_running_version();
    let (clashing, mut old_version) = match c.recall(host, &current_query) {
        Some(current) => (c.capture_unchecked(host, &clashing_query).await?, current),
        None => {
            let answers = c.capture_all(host, &[&clashing_query, &current_query]).await?;
            (answers[0].clone(), answers[1].clone())
        }
    };
    if !clashing.is_empty() {
        let renamed = format!("{version}_replaced_{:016x}", fastrand::u64(..));
        output::info(host, &format!("Renaming container {version} to {renamed} as already deployed on {host}"));
        c.audit(host, Some(role.name()), &format!("Renaming container {version} to {renamed}")).await?;
        c.defer(host, &app.rename_container(version, &renamed));
        if old_version == version {
            old_version = renamed;
        }
    }
    let old_version = (!old_version.is_empty()).then_some(old_version);

    if !gatekeeper {
        output::info(
            host,
            &format!(
                "Waiting for the first healthy {primary_role} container before booting {} on {host}...",
                role.name()
            ),
        );
        if !barrier.wait().await {
            output::info(
                host,
                &format!("First {primary_role} container is unhealthy, not booting {} on {host}", role.name()),
            );
            return Err(CliError::new(
                "Kamal::Cli::Healthcheck::Error",
                format!("first {primary_role} container is unhealthy"),
            ));
        }
        output::info(host, &format!("First {primary_role} container is healthy, booting {} on {host}...", role.name()));
    }

    let started = start_new_version(c, host, role, &app, version).await;
    if started.is_err() {
        // Kamal's `error "Failed to boot #{role} on #{host}"`, whatever failed (the run, the
        // proxy deploy, the health check).
        output::say_red(&format!("Failed to boot {} on {host}", role.name()));
    }
    if let Err(e) = started {
        super::diagnosis::diagnose(c, host, role, &app, version, &e.message).await;
        if gatekeeper && barrier.close() {
            output::info(
                host,
                &format!("First {primary_role} container is unhealthy on {host}, not booting any other roles"),
            );
            let cid = app.container_id_for_version(version, false);
            if let Ok(logs) = c
                .capture_unchecked(
                    host,
                    &app.logs(&wharf_commands::LogsOptions {
                        container_id: wharf_commands::ContainerId::Command(cid),
                        lines: Some("50".into()),
                        ..Default::default()
                    }),
                )
                .await
            {
                if !logs.is_empty() {
                    eprintln!("{logs}");
                }
            }
        }
        c.defer_unchecked(host, &app.stop(Some(version)));
        return Err(e);
    }
    if gatekeeper && barrier.open() {
        output::info(host, &format!("First {primary_role} container is healthy on {host}, booting any other roles"));
    }
    switched.lock().unwrap_or_else(|e| e.into_inner()).push(Switched {
        host: host.to_string(),
        role,
        old: old_version.clone(),
    });
    if let Some(old) = old_version {
        if super::warm::keeps(c, role, &old) {
            output::info(host, &format!("Keeping version {old} warm on {host}: `rollback {old}` switches back to it"));
            return Ok(());
        }
        c.defer_unchecked(host, &app.stop_by_name(&old));
        if role.assets() {
            c.defer_unchecked(host, &app.clean_up_assets());
        }
        if c.config.error_pages_path().is_some() {
            c.defer_unchecked(host, &app.clean_up_error_pages());
        }
    }
    Ok(())
}

async fn start_new_version(c: &Commander, host: &str, role: &Role, app: &App<'_>, version: &str) -> Result<()> {
    // The audit line, the env file and `docker run` go out with the next question (the new
    // container's id, or its status).
    c.audit(host, Some(role.name()), &format!("Booted app version {version}")).await?;
    if role.running_proxy() {
        let endpoint = run_container_for_proxy(c, host, role, app, version).await?;
        // The proxy health-checks the new container before it answers (`health_check`: its
        // verdict, or the last line of its error).
        let deployed = c.exec(host, &app.deploy(&endpoint)).await;
        if !c.plan {
            let answer = match &deployed {
                Ok(_) => "healthy".to_string(),
                Err(e) => e.message.lines().last().unwrap_or("").to_string(),
            };
            crate::events::health_check(host, role.name(), 1, &answer, deployed.is_ok());
        }
        deployed?;
    } else {
        run_container(c, host, role, app)?;
        wait_for_healthy(c, host, app, version).await?;
    }
    Ok(())
}

/// [`run_container`], then the new container's id, the proxy's target: read from what `docker
/// run --detach` prints (the id, whose first 12 characters Docker's DNS knows the container
/// by, as the `docker container ls --quiet` Kamal asks next answers), so no `docker` run of its
/// own; asked as Kamal asks when the output is not an id (under `--plan`, say).
async fn run_container_for_proxy(
    c: &Commander,
    host: &str,
    role: &Role,
    app: &App<'_>,
    version: &str,
) -> Result<String> {
    write_env_file(c, host, role, app)?;
    let out = c.exec(host, &app.run(Some(&hostname_for(host)))).await?;
    match short_container_id(out.stdout_str().trim()) {
        Some(id) => Ok(id.to_string()),
        None => endpoint_of(c, host, role, app, version).await,
    }
}

/// The short form (12 characters) of the full container id `docker run --detach` printed.
fn short_container_id(printed: &str) -> Option<&str> {
    let full = printed.lines().last()?.trim();
    (full.len() == 64 && full.bytes().all(|b| b.is_ascii_hexdigit())).then(|| &full[..12])
}

/// The env file (mode 0600) and `docker run` of the role's container, held for the host's next
/// exchange.
pub(crate) fn run_container(c: &Commander, host: &str, role: &Role, app: &App<'_>) -> Result<()> {
    write_env_file(c, host, role, app)?;
    c.defer(host, &app.run(Some(&hostname_for(host))));
    Ok(())
}

/// The role's env file (mode 0600) in its directory, held for the host's next exchange.
fn write_env_file(c: &Commander, host: &str, role: &Role, app: &App<'_>) -> Result<()> {
    c.defer(host, &app.ensure_env_directory());
    let env_file = role.secrets_io(host)?;
    c.defer_upload(host, env_file.as_bytes(), &role.secrets_path(), 0o600);
    Ok(())
}

/// The id of `version`'s new container on `host`, the proxy's target (Kamal's error when there is
/// none; a placeholder under `--plan`). A failing change held before it (`docker run`, say) is
/// the error.
pub(crate) async fn endpoint_of(
    c: &Commander,
    host: &str,
    role: &Role,
    app: &App<'_>,
    version: &str,
) -> Result<String> {
    let endpoint = c.capture_unchecked(host, &app.container_id_for_version(version, false)).await?;
    if endpoint.is_empty() && !c.plan {
        return Err(CliError::boot(format!(
            "Failed to get endpoint for {} on {host}, did the container boot?",
            role.name()
        )));
    }
    Ok(if endpoint.is_empty() { "<container-id>".to_string() } else { endpoint })
}

/// Kamal's first step of `app boot`: on every app host, the error pages, then per role the
/// assets and the custom SSL certificates, so that they are in place on all hosts before any
/// host boots the new version.
async fn prepare(c: &Commander, hosts: &[String]) -> Result<()> {
    let error_pages = super::error_pages::ErrorPages::load(c)?;
    let error_pages = error_pages.as_ref();
    // What they put in place is sent before any host boots; changes held from earlier steps
    // stay held when they have nothing to put in place.
    c.on_held(hosts, |host| async move {
        let held = c.held_changes(&host);
        if let Some(pages) = error_pages {
            pages.upload(c, &host).await?;
        }
        for role in c.roles_on(&host) {
            super::assets::run(c, &host, role).await?;
            super::ssl_certificates::run(c, &host, role).await?;
        }
        if c.held_changes(&host) > held {
            c.flush(&host).await?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// Boots `version` on the selected app hosts.
pub async fn boot(c: &Commander, version: &str) -> Result<()> {
    output::say(&format!("Start container with version {version} (or reboot if already running)..."));
    let hosts = c.app_hosts();
    prepare(c, &hosts).await?;
    let groups: Vec<Vec<String>> = match c.config.boot().limit() {
        Some(limit) if limit > 0 => hosts.chunks(limit).map(|g| g.to_vec()).collect(),
        _ => vec![hosts.clone()],
    };
    let barrier = Barrier::new();
    // With no primary role container among the selected roles, nothing would open the barrier.
    let primary_role = primary_role_name(c);
    if !c.roles().iter().any(|r| r.name() == primary_role) {
        barrier.open();
    }
    let parallel_roles = c.config.boot().parallel_roles().unwrap_or(false);
    // Stopping the old version is held for the tagging when nothing local comes in between
    // (a post-app-boot hook, or the pause between groups, sees the old version stopped), and
    // always in a fleet transaction (the old version must keep running until all hosts booted).
    let fleet = c.fleet_transaction();
    let hold = fleet || (groups.len() == 1 && !c.has_hook("post-app-boot"));
    let switched = std::sync::Mutex::new(vec![]);
    let switched = &switched;
    for group in groups {
        let list = group.join(",");
        c.run_hook("pre-app-boot", &[("hosts", list.clone())])?;
        let boot_group = |host: String| {
            let barrier = barrier.clone();
            let version = version.to_string();
            async move {
                let roles = c.roles_on(&host);
                if parallel_roles {
                    let all = roles.iter().map(|role| boot_one(c, &host, role, &version, &barrier, switched));
                    for r in futures::future::join_all(all).await {
                        r?;
                    }
                } else {
                    for role in roles {
                        boot_one(c, &host, role, &version, &barrier, switched).await?;
                    }
                }
                Ok(())
            }
        };
        let booted = if hold { c.on_held(&group, boot_group).await } else { c.on(&group, boot_group).await };
        if let Err(e) = booted {
            if fleet {
                let switched = std::mem::take(&mut *switched.lock().unwrap_or_else(|e| e.into_inner()));
                if let Err(revert_error) = revert(c, version, switched).await {
                    output::say_red(&format!("Fleet transaction: the revert failed too: {revert_error}"));
                }
            }
            return Err(e);
        }
        c.run_hook("post-app-boot", &[("hosts", list)])?;
        if let Some(wait) = c.config.boot().wait() {
            tokio::time::sleep(Duration::from_secs(wait)).await;
        }
    }
    tag_latest(c, &hosts).await
}

/// The hosts and roles behind the proxy, host by host (where canaries and warm versions live).
pub(crate) fn proxied_places(c: &Commander) -> Vec<(String, &Role)> {
    c.app_hosts()
        .into_iter()
        .flat_map(|h| c.roles_on(&h).into_iter().filter(|r| r.running_proxy()).map(move |r| (h.clone(), r)))
        .collect()
}

/// The end of a switch the proxy made on its own roles (a canary's promotion, a warm rollback):
/// the roles behind no proxy boot `version` (their boot tags `latest` on their hosts), and
/// `latest` is tagged on the hosts that have only proxied roles.
pub(crate) async fn boot_unproxied_roles(c: &Commander, version: &str) -> Result<()> {
    let others: Vec<String> = c.roles().iter().filter(|r| !r.running_proxy()).map(|r| r.name().to_string()).collect();
    if !others.is_empty() {
        c.with_specific_roles(others, || boot(c, version)).await?;
    }
    let only_proxied: Vec<String> =
        c.app_hosts().into_iter().filter(|h| c.roles_on(h).iter().all(|r| r.running_proxy())).collect();
    tag_latest(c, &only_proxied).await
}

/// `latest` tagged on `hosts` (audited), held for the next step (prune), or the flush before the
/// lock is released.
pub(crate) async fn tag_latest(c: &Commander, hosts: &[String]) -> Result<()> {
    let tag = App::new(&c.config, None, None).tag_latest_image();
    let image = c.config.absolute_image();
    c.on_held(hosts, |h| {
        let tag = tag.clone();
        let image = image.clone();
        async move {
            c.audit(&h, None, &format!("Tagging {image} as the latest image")).await?;
            c.defer(&h, &tag);
            Ok(())
        }
    })
    .await?;
    Ok(())
}

/// The fleet transaction's revert: on every host that switched to `version`, the proxy back on
/// the old container (which still runs: its stop was held, and is dropped), then the new
/// container stopped. A role with nothing to go back to (a first deploy) leaves the proxy.
async fn revert(c: &Commander, version: &str, switched: Vec<Switched<'_>>) -> Result<()> {
    let mut hosts: Vec<String> = switched.iter().map(|s| s.host.clone()).collect();
    hosts.sort();
    hosts.dedup();
    if hosts.is_empty() {
        return Ok(());
    }
    output::say_red(&format!(
        "Fleet transaction: reverting {} to the previous version, as not every host booted {version}",
        hosts.join(", ")
    ));
    crate::events::fleet_revert(&hosts, version);
    let switched = &switched;
    c.on(&hosts, |h| async move {
        c.discard_held(&h);
        for s in switched.iter().filter(|s| s.host == h) {
            let role = s.role;
            let app = App::new(&c.config, Some(role), Some(&h));
            match &s.old {
                Some(old) => {
                    c.audit(&h, Some(role.name()), &format!("Reverted to app version {old} (fleet transaction)"))
                        .await?;
                    if role.running_proxy() {
                        let id = c.capture(&h, &app.container_id_for_version(old, false)).await?;
                        c.exec(&h, &app.deploy(&id)).await?;
                    }
                }
                None if role.running_proxy() => {
                    c.exec_unchecked(&h, &app.remove()).await?;
                }
                None => {}
            }
            c.defer_unchecked(&h, &app.stop(Some(version)));
        }
        Ok(())
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::short_container_id;

    #[test]
    fn the_short_id_of_what_docker_run_printed() {
        let full = "3f2a9c1b7d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcd";
        assert_eq!(short_container_id(full), Some("3f2a9c1b7d4e"));
        // A warning before the id (a platform mismatch, say) is left out.
        assert_eq!(short_container_id(&format!("WARNING: something\n{full}")), Some("3f2a9c1b7d4e"));
        for not_an_id in ["", "3f2a9c1b7d4e", "Error: no such image", &full.replace('3', "x")] {
            assert_eq!(short_container_id(not_an_id), None, "{not_an_id}");
        }
    }
}
