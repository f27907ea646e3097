//! Kamal's `server` commands (cli/server.rb): `exec` a command on every host, and `bootstrap`
//! (Docker present on every server, the run directory, the `docker-setup` hook).

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::execution::Effect;
use crate::output;

/// `server exec CMD`: runs `CMD` on every selected host (audited), printing each host's output.
pub async fn exec(c: &Commander, words: &[String]) -> Result<()> {
    let line = words.join(" ");
    let hosts = c.hosts();
    output::say(&format!("Running '{line}' on {}...", hosts.join(", ")));
    let answers = c
        .on(&hosts, |h| {
            let line = line.clone();
            async move {
                c.audit(&h, None, &format!("Executed cmd '{line}' on {h}")).await?;
                c.capture(&h, &wharf_commands::Cmd::from_words([line.as_str()])).await
            }
        })
        .await?;
    for (h, out) in answers {
        output::by_host(&h, &out, c.global.quiet);
    }
    Ok(())
}

/// `server bootstrap`, as Kamal's: on each host without Docker (`docker -v`), where the user is
/// root or may `sudo`, Docker is installed with the get.docker.com script and the user added to
/// the `docker` group (the session refreshed); hosts where it cannot be installed are named in
/// the error. Then the `docker-setup` hook.
///
/// With `x-wharf: docker_from_packages: true` (Wharf), a host where the script fails (it needs
/// the internet) gets the distribution's own Docker package instead.
pub async fn bootstrap(c: &Commander) -> Result<()> {
    let docker = wharf_commands::docker::Docker::new();
    let installed = docker.installed();
    let hosts = c.hosts();
    let server = wharf_commands::server::Server::new(&c.config);
    let ensure = server.ensure_run_directory();
    // Per host one exchange: whether Docker is there, and the run directory (which needs no
    // Docker, so it need not wait for an installation).
    let (installed, ensure) = (&installed, &ensure);
    let absent: Vec<String> = c
        .on(&hosts, |h| async move {
            let answers = c.exchange(&h, &[(installed, Effect::Query), (ensure, Effect::Change)]).await?;
            if !answers[1].success() {
                return Err(c.failure(&h, ensure, &answers[1]));
            }
            Ok(answers[0].success())
        })
        .await?
        .into_iter()
        .filter(|(_, ok)| !ok)
        .map(|(h, _)| h)
        .collect();
    let cannot: Vec<String> = c
        .on(&absent, |h| async move { install_docker(c, &h).await })
        .await?
        .into_iter()
        .filter(|(_, installed)| !installed)
        .map(|(h, _)| h)
        .collect();
    if !cannot.is_empty() {
        return Err(CliError::runtime(format!(
            "Docker is not installed on {} and can't be automatically installed without having root access and either `wget` or `curl`. Install Docker manually: https://docs.docker.com/engine/install/",
            cannot.join(", ")
        )));
    }
    c.run_hook("docker-setup", &[])?;
    Ok(())
}

/// Installs Docker on `host` (Kamal's steps, and the packages when configured); false when the
/// user there is neither root nor allowed `sudo`.
async fn install_docker(c: &Commander, host: &str) -> Result<bool> {
    let docker = wharf_commands::docker::Docker::new();
    if !c.exec_unchecked(host, &docker.superuser()).await?.success() {
        return Ok(false);
    }
    output::info(host, &format!("Missing Docker on {host}. Installing…"));
    let script = docker.install();
    let out = c.exec_unchecked(host, &script).await?;
    if !out.success() {
        if !c.config.wharf().docker_from_packages {
            return Err(c.failure(host, &script, &out));
        }
        output::info(
            host,
            "The get.docker.com script could not install Docker; installing the distribution's package (x-wharf: docker_from_packages)",
        );
        c.exec(host, &docker.install_from_packages()).await?;
    }
    let grouped = c.exec_unchecked(host, &docker.root()).await?.success()
        || c.exec_unchecked(host, &docker.in_docker_group()).await?.success();
    if !grouped {
        c.exec(host, &docker.add_to_docker_group()).await?;
        // The session ends, so that the next one has the new group (Kamal rescues the IOError);
        // the next command on the host reconnects.
        let _ = c.exec_unchecked(host, &docker.refresh_session()).await;
        output::info(host, "Session refreshed due to group change.");
    }
    Ok(true)
}
