//! `build pull`: on every app host, the registry login, then `docker pull` of the version
//! (one host per registry mirror first, to seed the mirrors) and Kamal's check that the image
//! carries the service's label; a local registry's port is forwarded to the hosts meanwhile.

use super::local_registry;
use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::output;
use wharf_commands::registry::Registry;
use wharf_commands::Builder;

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
    let (pull, validate) = (builder.pull(), builder.validate_image());
    let version = c.config.version();
    c.on(hosts, |h| {
        let (pull, validate) = (pull.clone(), validate.clone());
        let version = version.clone();
        async move {
            // One exchange per host (the `on` block's end sends them). Kamal removes the image
            // first (`docker image rm --force`, Builder#clean); Wharf does not: `docker pull`
            // asks the registry whatever is there and moves the tag to what it answers, so the
            // server ends the same, one docker invocation sooner.
            c.audit(&h, None, &format!("Pulled image with version {version}")).await?;
            c.defer(&h, &pull);
            c.defer(&h, &validate);
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
            // Sent with each host's next exchange (the mirror probe or the pull), in this order.
            for h in &hosts {
                c.defer(h, &login);
                c.note_registry_login(h);
            }
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
