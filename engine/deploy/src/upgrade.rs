//! `upgrade`: servers set up by Kamal 1.x (Traefik in front of the app on Docker's default
//! network) moved to Kamal 2's layout (kamal-proxy, the `kamal` network), as Kamal's
//! `Main#upgrade`, `Proxy#upgrade` and `Accessory#upgrade` do it:
//!
//! - `proxy upgrade`, per group of hosts (all at once, or one at a time with `--rolling`): the
//!   `pre-proxy-reboot` hook; on each host the audit line, the registry login, Traefik stopped
//!   and its containers and images pruned, any kamal-proxy stopped and pruned with its image;
//!   then, for those hosts only, `proxy boot`, `app boot` of the `latest` image (what Kamal 1
//!   tagged last) and `prune all`; then `post-proxy-reboot`.
//! - `accessory upgrade NAME|all`: the accessories rebooted (`accessory reboot`), which puts them
//!   on the `kamal` network.
//! - `upgrade` runs both under one deploy lock, for all hosts or host by host.

use crate::commander::Commander;
use crate::error::Result;
use crate::{accessory, app, lock, output, proxy, prune};
use wharf_commands::proxy::Proxy;
use wharf_commands::registry::Registry;

/// `upgrade [--rolling]`.
pub async fn upgrade(c: &Commander, rolling: bool) -> Result<()> {
    lock::with_lock(c, || async {
        if rolling {
            for host in c.hosts() {
                c.with_specific_hosts(vec![host.clone()], || async {
                    output::say(&format!("Upgrading {host}..."));
                    if c.app_hosts().contains(&host) {
                        proxy_upgrade(c, false).await?;
                    }
                    if all_accessory_hosts(c).contains(&host) {
                        accessory_upgrade(c, "all", false).await?;
                    }
                    c.flush_all().await?;
                    output::say(&format!("Upgraded {host}"));
                    Ok(())
                })
                .await?;
            }
        } else {
            output::say("Upgrading all hosts...");
            proxy_upgrade(c, false).await?;
            accessory_upgrade(c, "all", false).await?;
            output::say("Upgraded all hosts");
        }
        Ok(())
    })
    .await
}

/// `proxy upgrade [--rolling]` (hidden in Kamal's help): Traefik replaced by kamal-proxy and the
/// app booted behind it. Unlike Kamal's, it holds the deploy lock throughout.
pub async fn proxy_upgrade(c: &Commander, rolling: bool) -> Result<()> {
    lock::with_lock(c, || async {
        let hosts = c.hosts();
        let groups = crate::commander::rolling_groups(hosts, rolling);
        let login = Registry::new(&c.config).login_password_stdin(None)?;
        for group in groups {
            let list = group.join(",");
            output::say(&format!("Upgrading proxy on {list}..."));
            c.run_hook("pre-proxy-reboot", &[("hosts", list.clone())])?;
            // Held for each host's next exchange: `proxy boot`'s.
            c.on_held(&group, |h| {
                let login = login.clone();
                async move {
                    let proxy = Proxy::new(&c.config, &h);
                    c.audit(&h, None, "Rebooted proxy").await?;
                    if let Some(login) = &login {
                        c.defer(&h, login);
                    }
                    c.defer(&h, &proxy.cleanup_traefik());
                    c.defer_unchecked(&h, &proxy.stop(None));
                    c.defer(&h, &proxy.remove_container());
                    c.defer(&h, &proxy.remove_image());
                    Ok(())
                }
            })
            .await?;
            c.with_specific_hosts(group.clone(), || async {
                proxy::boot(c).await?;
                boot_latest(c).await?;
                prune::all(c, None).await
            })
            .await?;
            // These hosts are done (their held changes sent) before the hook and the next group.
            c.flush_all().await?;
            c.run_hook("post-proxy-reboot", &[("hosts", list.clone())])?;
            output::say(&format!("Upgraded proxy on {list}"));
        }
        Ok(())
    })
    .await
}

/// `app boot` of the `latest` tag (Kamal passes `version: latest_tag` to it), the configured
/// version restored afterwards.
async fn boot_latest(c: &Commander) -> Result<()> {
    let configured = c.config.version();
    let latest = c.config.latest_tag();
    c.config.set_version(&latest);
    let booted = app::boot::boot(c, &latest).await;
    c.config.set_version(&configured);
    booted
}

/// `accessory upgrade NAME|all [--rolling]`: the accessories rebooted onto the `kamal` network,
/// on every accessory host at once or one host at a time.
pub async fn accessory_upgrade(c: &Commander, name: &str, rolling: bool) -> Result<()> {
    lock::with_lock(c, || async {
        let hosts = all_accessory_hosts(c);
        let groups = crate::commander::rolling_groups(hosts, rolling);
        for group in groups {
            let list = group.join(",");
            c.with_specific_hosts(group, || async {
                output::say(&format!("Upgrading {name} accessories on {list}..."));
                accessory::reboot(c, name).await?;
                c.flush_all().await?;
                output::say(&format!("Upgraded {name} accessories on {list}..."));
                Ok(())
            })
            .await?;
        }
        Ok(())
    })
    .await
}

/// Kamal's `KAMAL.accessory_hosts`: every accessory's hosts, in order, once each, among the
/// selected hosts.
fn all_accessory_hosts(c: &Commander) -> Vec<String> {
    let mut all: Vec<String> = vec![];
    for a in c.config.accessories() {
        for h in c.accessory_hosts(a.hosts()) {
            if !all.contains(&h) {
                all.push(h);
            }
        }
    }
    all
}
