//! `build pull`: on every app host, the registry login, then `docker pull` of the version
//! (one host per registry mirror first, to seed the mirrors) and Kamal's check that the image
//! carries the service's label; a local registry's port is forwarded to the hosts meanwhile.
//! A host without a mirror pulls in the exchange that asks it for one.

use super::local_registry;
use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::output;
use wharf_commands::registry::Registry;
use wharf_commands::{Builder, Cmd};
use wharf_ssh::Output;

/// What a host's `docker info` says of its first registry mirror (Kamal's `mirror_hosts`):
/// `None` when it has none ("index out of range"); any other failure is the error.
fn first_mirror_of(host: &str, question: &Cmd, out: &Output) -> Result<Option<String>> {
    let mirror = out.stdout_str().trim().to_string();
    if out.success() {
        return Ok((!mirror.is_empty()).then_some(mirror));
    }
    if out.stderr_str().contains("index out of range") {
        return Ok(None);
    }
    Err(CliError::new("SSHKit::Command::Failed", crate::commander::sshkit_failure(host, question.name(), out)))
}

/// With several app hosts, Kamal asks each for its first registry mirror (`docker info`), then
/// pulls on one host per mirror first, to seed it, then on the others. Wharf sends each host's
/// pull with its question, to run only when the host has no mirror (the usual case: nothing to
/// seed through it), one round trip sooner. The first host behind each mirror, in host order
/// (the hosts with a mirror have not pulled yet), and the hosts that pulled.
async fn ask_mirrors_pulling_without(c: &Commander, hosts: &[String]) -> Result<(Vec<String>, Vec<String>)> {
    let first_mirror = Builder::new(&c.config).first_mirror();
    let found = c
        .on(hosts, |h| {
            let first_mirror = first_mirror.clone();
            async move {
                let pull = pull_commands(c);
                let pull: Vec<&Cmd> = pull.iter().collect();
                let (out, pulled) = c.probe_then(&h, &first_mirror, &pull).await?;
                Ok((first_mirror_of(&h, &first_mirror, &out)?, pulled))
            }
        })
        .await?;
    let mut seen: Vec<String> = vec![];
    let mut first_hosts = vec![];
    // In host order, so that which host seeds a mirror does not depend on timing.
    for h in hosts {
        if let Some((_, (Some(mirror), _))) = found.iter().find(|(fh, _)| fh == h) {
            if !seen.contains(mirror) {
                seen.push(mirror.clone());
                first_hosts.push(h.clone());
            }
        }
    }
    let pulled = found.into_iter().filter(|(_, (_, pulled))| *pulled).map(|(h, _)| h).collect();
    Ok((first_hosts, pulled))
}

/// A host's pull: the audit line, `docker pull` of the version, and Kamal's check that the image
/// carries the service's label. Kamal removes the image first (`docker image rm --force`,
/// Builder#clean); Wharf does not: `docker pull` asks the registry whatever is there and moves
/// the tag to what it answers, so the server ends the same, one docker invocation sooner.
fn pull_commands(c: &Commander) -> [Cmd; 3] {
    let builder = Builder::new(&c.config);
    [
        c.audit_line(None, &format!("Pulled image with version {}", c.config.version())),
        builder.pull(),
        builder.validate_image(),
    ]
}

async fn pull_on_hosts(c: &Commander, hosts: &[String]) -> Result<()> {
    c.on(hosts, |h| async move {
        // One exchange per host (the `on` block's end sends them).
        for cmd in pull_commands(c) {
            c.defer(&h, &cmd);
        }
        Ok(())
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
        if hosts.len() < 2 {
            return pull_on_hosts(c, &hosts).await;
        }
        let (first_hosts, pulled) = ask_mirrors_pulling_without(c, &hosts).await?;
        if first_hosts.is_empty() {
            // (A `docker info` that answers no mirror without failing: pulled apart.)
            let rest: Vec<String> = hosts.iter().filter(|h| !pulled.contains(h)).cloned().collect();
            return pull_on_hosts(c, &rest).await;
        }
        output::say(&format!(
            "Pulling image on {} to seed the {}...",
            first_hosts.join(", "),
            if first_hosts.len() == 1 { "mirror" } else { "mirrors" }
        ));
        pull_on_hosts(c, &first_hosts).await?;
        output::say("Pulling image on remaining hosts...");
        let rest: Vec<String> =
            hosts.iter().filter(|h| !first_hosts.contains(h) && !pulled.contains(h)).cloned().collect();
        pull_on_hosts(c, &rest).await
    })
    .await
}
