//! Kamal's main commands: `deploy`, `redeploy`, `setup`, `rollback`, `remove`, and the steps
//! they share (`proxy boot`, `app stale_containers`, `prune all`).

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::{boot, build, lock, output};
use std::time::Instant;
use wharf_commands::docker::Docker;
use wharf_commands::proxy::Proxy;
use wharf_commands::prune::Prune;
use wharf_commands::registry::Registry;
use wharf_commands::App;

pub const MINIMUM_PROXY_VERSION: &str = "v0.9.2";

fn older_version(version: &str, minimum: &str) -> bool {
    let parse =
        |v: &str| -> Vec<u64> { v.trim_start_matches('v').split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parse(version) < parse(minimum)
}

/// `proxy boot`: the `kamal` network on every host, then the proxy container on proxy hosts.
pub async fn proxy_boot(c: &Commander) -> Result<()> {
    lock::with_lock(c, || async {
        let network = Docker::new().create_network();
        let hosts = c.hosts();
        c.on(&hosts, |h| {
            let network = network.clone();
            async move {
                match c.exec(&h, &network).await {
                    Err(e) if !e.message.contains("already exists") => Err(e),
                    _ => Ok(()),
                }
            }
        })
        .await?;
        let proxy_hosts = c.proxy_hosts();
        let login = Registry::new(&c.config).login_password_stdin(None)?;
        c.on(&proxy_hosts, |h| {
            let login = login.clone();
            async move {
                if let Some(login) = login {
                    c.exec(&h, &login).await?;
                }
                let proxy = Proxy::new(&c.config, &h);
                let version = c.capture_unchecked(&h, &proxy.version()).await?;
                if !version.is_empty() && older_version(&version, MINIMUM_PROXY_VERSION) {
                    return Err(CliError::runtime(format!(
                        "kamal-proxy version {version} is too old, run `kamal proxy reboot` in order to update to at least {MINIMUM_PROXY_VERSION}"
                    )));
                }
                c.exec(&h, &proxy.ensure_apps_config_directory()).await?;
                c.exec(&h, &proxy.start_or_run()).await?;
                Ok(())
            }
        })
        .await?;
        Ok(())
    })
    .await
}

/// `app stale_containers [--stop]`: containers of this service other than the running version.
pub async fn stale_containers(c: &Commander, stop: bool) -> Result<()> {
    let hosts = c.app_hosts();
    c.on(&hosts, |h| async move {
        for role in c.roles_on(&h) {
            let app = App::new(&c.config, Some(role), Some(&h));
            let versions = c.capture_unchecked(&h, &app.list_versions(&[], &[])).await?;
            let current = c.capture_unchecked(&h, &app.current_running_version()).await?;
            for version in versions.lines().filter(|v| !v.is_empty() && *v != current) {
                if stop {
                    output::info(&h, &format!("Stopping stale container for role {} with version {version}", role.name()));
                    c.exec_unchecked(&h, &app.stop(Some(version))).await?;
                } else {
                    output::info(&h, &format!("Detected stale container for role {} with version {version} (use `kamal app stale_containers --stop` to stop)", role.name()));
                }
            }
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// `prune all`: stopped containers beyond `retain_containers`, then unused images.
pub async fn prune_all(c: &Commander, retain: Option<u64>) -> Result<()> {
    let retain = retain.unwrap_or(c.config.retain_containers().max(0) as u64);
    if retain < 1 {
        return Err(CliError::runtime("retain must be at least 1"));
    }
    lock::with_lock(c, || async {
        let prune = Prune::new(&c.config);
        let hosts = c.hosts();
        let (containers, dangling, tagged) =
            (prune.app_containers(retain), prune.dangling_images(), prune.tagged_images());
        c.on(&hosts, |h| {
            let (containers, dangling, tagged) = (containers.clone(), dangling.clone(), tagged.clone());
            async move {
                c.audit(&h, None, "Pruned containers").await?;
                c.exec(&h, &containers).await?;
                c.audit(&h, None, "Pruned images").await?;
                c.exec(&h, &dangling).await?;
                c.exec(&h, &tagged).await?;
                Ok(())
            }
        })
        .await?;
        Ok(())
    })
    .await
}

pub struct DeployOptions {
    pub skip_push: bool,
    pub no_cache: bool,
    pub boot_accessories: bool,
    /// `redeploy`: no proxy boot, no prune.
    pub redeploy: bool,
}

pub async fn deploy(c: &Commander, o: DeployOptions) -> Result<()> {
    let started = Instant::now();
    if o.skip_push {
        output::say("Pull app image...");
        build::pull(c).await?;
    } else {
        output::say("Build and push app image...");
        build::deliver(c, o.no_cache).await?;
    }
    lock::with_lock(c, || async {
        c.run_hook("pre-deploy", &[])?;
        if !o.redeploy {
            output::say("Ensure kamal-proxy is running...");
            proxy_boot(c).await?;
        }
        if o.boot_accessories {
            crate::accessory::boot_all(c).await?;
        }
        output::say("Detect stale containers...");
        stale_containers(c, true).await?;
        boot::boot(c, &c.config.version()).await?;
        if !o.redeploy {
            output::say("Prune old containers and images...");
            prune_all(c, None).await?;
        }
        Ok(())
    })
    .await?;
    let runtime = started.elapsed().as_secs_f64();
    println!("  Finished all in {runtime:.1} seconds");
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
        c.run_hook("pre-deploy", &[])?;
        boot::boot(c, version).await
    })
    .await?;
    let runtime = started.elapsed().as_secs_f64();
    println!("  Finished all in {runtime:.1} seconds");
    c.run_hook("post-deploy", &[("runtime", format!("{}", runtime.round() as u64))])?;
    Ok(())
}

/// `remove`: the app, the proxy, accessories and the registry session, from every host.
pub async fn remove(c: &Commander) -> Result<()> {
    lock::with_lock(c, || async {
        crate::app::remove(c).await?;
        proxy_remove(c, false).await?;
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

/// `proxy remove`: refuses while other apps still use the proxy, unless `--force`.
pub async fn proxy_remove(c: &Commander, force: bool) -> Result<()> {
    lock::with_lock(c, || async {
        let hosts = c.proxy_hosts();
        let server = wharf_commands::server::Server::new(&c.config);
        c.on(&hosts, |h| {
            let count_cmd = server.app_directory_count();
            async move {
                let count: u64 = c.capture_unchecked(&h, &count_cmd).await?.trim().parse().unwrap_or(0);
                if force || count == 0 {
                    let proxy = Proxy::new(&c.config, &h);
                    c.audit(&h, None, "Removed proxy").await?;
                    c.exec_unchecked(&h, &proxy.stop(None)).await?;
                    c.exec_unchecked(&h, &proxy.remove_container()).await?;
                    c.exec_unchecked(&h, &proxy.remove_image()).await?;
                    c.exec_unchecked(&h, &proxy.remove_proxy_directory()).await?;
                } else {
                    output::info(&h, "Not removing the proxy, as other apps are installed, use --force to remove");
                }
                Ok(())
            }
        })
        .await?;
        Ok(())
    })
    .await
}
