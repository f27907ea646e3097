//! Kamal's main commands (cli/main.rb): `setup`, `deploy`, `redeploy`, `rollback`, `remove`,
//! `details`, `audit`. They run the other groups' steps: build, proxy boot, accessories, stale
//! containers, app boot, prune.

use crate::app::boot;
use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::{build, lock, output, proxy, prune};
use std::time::Instant;
use wharf_commands::registry::Registry;
use wharf_commands::App;

pub struct DeployOptions {
    pub skip_push: bool,
    pub no_cache: bool,
    pub boot_accessories: bool,
    /// `redeploy`: no proxy boot, no prune.
    pub redeploy: bool,
    /// `--canary` (Wharf): the new version beside the running one, for a share of users.
    pub canary: Option<CanaryRequest>,
}

/// `deploy --canary [PERCENT] --canary-list LIST --canary-gate` (defaults from `x-wharf/canary`).
#[derive(Debug, Clone, Default)]
pub struct CanaryRequest {
    pub percent: Option<u8>,
    pub list: Vec<String>,
    pub gate: bool,
    /// `deploy --no-switch` (blue/green): nobody gets it until `promote`.
    pub no_switch: bool,
}

pub async fn deploy(c: &Commander, o: DeployOptions) -> Result<()> {
    let started = Instant::now();
    if o.skip_push {
        output::say("Pull app image...");
    } else {
        output::say("Build and push app image...");
        // Wharf: the servers' connections (and a channel and a shell on each) are made while
        // the image builds, so the pull that follows costs one round trip, not nine or so.
        c.warm(&c.hosts());
        build::push(c, "registry", o.no_cache).await?;
    }
    // The deploy's facts need the lock held and nothing run in between: without a pre-deploy
    // hook they are asked as soon as the lock is, while the image is pulled.
    let facts_ahead = !c.has_hook("pre-deploy");
    let version = c.config.version();
    lock::with_lock_alongside(
        c,
        || build::pull(c),
        || async {
            if facts_ahead {
                crate::app::facts::prefetch(c, &version);
                c.send_ahead_all(&c.app_hosts()).await?;
            }
            Ok(())
        },
        || async {
            c.run_hook("pre-deploy", &[])?;
            if !facts_ahead {
                crate::app::facts::prefetch(c, &version);
            }
            if !o.redeploy {
                output::say("Ensure kamal-proxy is running...");
                proxy::boot(c).await?;
            }
            if o.boot_accessories {
                crate::accessory::boot_all(c).await?;
            }
            crate::canary::ensure_none(c).await?;
            output::say("Detect stale containers...");
            crate::app::stale_containers_keeping_warm(c, true, c.config.wharf().warm_versions).await?;
            let version = c.config.version();
            if let Some(request) = &o.canary {
                // The old version stays, and so does what prune would remove: the promotion prunes.
                let defaults = &c.config.wharf().canary;
                let split = if request.no_switch {
                    crate::canary::Split::nobody()
                } else {
                    crate::canary::Split {
                        percent: request.percent.unwrap_or(defaults.percent),
                        list: if request.list.is_empty() { defaults.list.clone() } else { request.list.clone() },
                    }
                };
                crate::canary::start(c, &version, &split).await?;
                if request.gate {
                    crate::canary::judge(c, &version).await?;
                }
                return Ok(());
            }
            boot::boot(c, &version).await?;
            if !o.redeploy {
                output::say("Prune old containers and images...");
                prune::all(c, None).await?;
            }
            Ok(())
        },
    )
    .await?;
    // Nothing held past the deploy (when an outer step, `setup`, holds the lock).
    c.flush_all().await?;
    let runtime = started.elapsed().as_secs_f64();
    output::line(&format!("  Finished all in {runtime:.1} seconds"));
    c.run_hook("post-deploy", &[("runtime", format!("{}", runtime.round() as u64))])?;
    Ok(())
}

/// `rollback VERSION`: boot a version whose container is still on every app host.
pub async fn rollback(c: &Commander, version: &str) -> Result<()> {
    let started = Instant::now();
    // The lock records the version being deployed from (git HEAD), as Kamal's does; the
    // rollback version is set once the lock is held.
    lock::with_lock(c, || async {
        c.config.set_version(version);
        let hosts = c.app_hosts();
        // (Wharf) A rollback during a canary is refused, as a deploy is; asked with the check below.
        crate::canary::ask_ahead(c);
        let missing = c
            .on(&hosts, |h| async move {
                for role in c.roles_on(&h) {
                    let app = App::new(&c.config, Some(role), Some(&h));
                    if c.capture_unchecked(&h, &app.container_id_for_version(version, false)).await?.is_empty() {
                        return Ok(true);
                    }
                }
                Ok(false)
            })
            .await?
            .into_iter()
            .any(|(_, missing)| missing);
        if missing {
            return Err(CliError::runtime(format!(
                "The app version '{version}' is not available as a container (use 'kamal app containers' for available versions)"
            )));
        }
        crate::canary::ensure_none(c).await?;
        c.run_hook("pre-deploy", &[])?;
        if c.config.wharf().warm_versions > 0 && crate::app::warm::runs_everywhere(c, version).await? {
            crate::app::warm::switch_back(c, version).await
        } else {
            boot::boot(c, version).await
        }
    })
    .await?;
    // Nothing held past the deploy (when an outer step, `setup`, holds the lock).
    c.flush_all().await?;
    let runtime = started.elapsed().as_secs_f64();
    output::line(&format!("  Finished all in {runtime:.1} seconds"));
    c.run_hook("post-deploy", &[("runtime", format!("{}", runtime.round() as u64))])?;
    Ok(())
}

/// `remove`: the app, the proxy, accessories and the registry session, from every host.
pub async fn remove(c: &Commander) -> Result<()> {
    lock::with_lock(c, || async {
        crate::app::remove(c).await?;
        proxy::remove(c, false).await?;
        crate::accessory::remove_all(c).await?;
        let logout = Registry::new(&c.config).logout(None);
        let hosts = c.hosts();
        c.on(&hosts, |h| {
            let logout = logout.clone();
            async move { c.exec_unchecked(&h, &logout).await.map(|_| ()) }
        })
        .await?;
        Ok(())
    })
    .await
}

/// `setup`: Docker on every server (see [`crate::server::bootstrap`]), then a deploy that also
/// boots the accessories.
///
/// As in Kamal, the whole of it runs under the deploy lock (bootstrap and build included); the
/// deploy's own lock is then already held.
pub async fn setup(c: &Commander, skip_push: bool, no_cache: bool) -> Result<()> {
    lock::with_lock(c, || async {
        output::say("Ensure Docker is installed...");
        crate::server::bootstrap(c).await?;
        deploy(c, DeployOptions { skip_push, no_cache, boot_accessories: true, redeploy: false, canary: None }).await
    })
    .await
}

/// `details`: the proxy, the app and the accessories on every host.
pub async fn details(c: &Commander) -> Result<()> {
    proxy::details(c).await?;
    crate::app::details(c).await?;
    if !c.config.accessories().is_empty() {
        crate::accessory::details(c, "all").await?;
    }
    Ok(())
}

/// `audit`: the audit log of every host.
pub async fn audit(c: &Commander) -> Result<()> {
    let auditor = wharf_commands::Auditor::new(&c.config, wharf_commands::tags::Details::new());
    c.print_by_host("App", &c.hosts(), &auditor.reveal(), true).await
}
