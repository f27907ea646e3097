//! Warm versions (Wharf; `x-wharf: warm_versions: N`, docs/progressive-delivery.md): after a
//! deploy, the version it replaced keeps running on the roles behind the proxy (no traffic), and
//! the deploy's stale containers step keeps the `N` newest of them. `rollback` to a version
//! that still runs on every such server is then a proxy switch: the proxy health-checks the
//! running container and moves traffic to it, the newer versions stop, and the roles behind no
//! proxy boot the version as Kamal's rollback does. Otherwise `rollback` is Kamal's (a new
//! container from the image).
//!
//! Only the roles behind the proxy keep versions warm: another role's old container would go on
//! working (taking jobs from a queue, say) beside the new one.

use crate::app::boot;
use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::output;
use wharf_commands::App;
use wharf_config::Role;

/// Whether `old`, just replaced on a role, stays running.
pub fn keeps(c: &Commander, role: &Role, old: &str) -> bool {
    c.config.wharf().warm_versions > 0 && role.running_proxy() && !old.contains("_replaced_")
}

/// Whether `version` runs on every host of every role behind the proxy (a warm rollback can
/// switch back to it), and there is such a role.
pub async fn runs_everywhere(c: &Commander, version: &str) -> Result<bool> {
    let places = boot::proxied_places(c);
    if places.is_empty() {
        return Ok(false);
    }
    let hosts = c.app_hosts();
    let places = &places;
    let answers = c
        .on(&hosts, |h| async move {
            for (_, role) in places.iter().filter(|(ph, _)| *ph == h) {
                let app = App::new(&c.config, Some(role), Some(&h));
                if c.capture_unchecked(&h, &app.container_id_for_version(version, true)).await?.is_empty() {
                    return Ok(false);
                }
            }
            Ok(true)
        })
        .await?;
    Ok(answers.iter().all(|(_, runs)| *runs))
}

/// `rollback VERSION` to a warm version: per host, the proxy moved to its running container
/// (health-checked first) and the other versions of the role stopped; then the other roles
/// booted on it and `latest` tagged, as a rollback ends.
pub async fn switch_back(c: &Commander, version: &str) -> Result<()> {
    output::say(&format!("Switch back to the running container of version {version} (warm)..."));
    let places = boot::proxied_places(c);
    let hosts: Vec<String> = c.app_hosts();
    let places = &places;
    c.on(&hosts, |h| async move {
        for (_, role) in places.iter().filter(|(ph, _)| *ph == h) {
            let app = App::new(&c.config, Some(role), Some(&h));
            let endpoint = c.capture_unchecked(&h, &app.container_id_for_version(version, true)).await?;
            if endpoint.is_empty() && !c.plan {
                return Err(CliError::runtime(format!(
                    "Version {version} stopped running on {h} ({}) during the rollback",
                    role.name()
                )));
            }
            c.audit(&h, Some(role.name()), &format!("Booted app version {version}")).await?;
            c.exec(&h, &app.deploy(&endpoint)).await?;
            let running = c.capture_unchecked(&h, &app.list_versions(&[], &[])).await?;
            for newer in running.lines().map(str::trim).filter(|v| !v.is_empty() && *v != version) {
                c.defer_unchecked(&h, &app.stop(Some(newer)));
            }
            output::info(&h, &format!("Switched {} on {h} back to version {version}", role.name()));
        }
        Ok(())
    })
    .await?;
    boot::boot_unproxied_roles(c, version).await
}
