//! Kamal's `server` commands (cli/server.rb): `exec` a command on every host, and `bootstrap`
//! (Docker present on every server, the run directory, the `docker-setup` hook).

use crate::commander::Commander;
use crate::error::Result;
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

/// `server bootstrap`: Docker must be installed (Wharf does not install it from the internet
/// unless the host can reach get.docker.com; the check is Kamal's), then the `docker-setup` hook.
pub async fn bootstrap(c: &Commander) -> Result<()> {
    let docker = wharf_commands::docker::Docker::new();
    let installed = docker.installed();
    let hosts = c.hosts();
    let missing: Vec<String> = c
        .on(&hosts, |h| {
            let installed = installed.clone();
            async move { Ok(c.query(&h, &installed).await?.success()) }
        })
        .await?
        .into_iter()
        .filter(|(_, ok)| !ok)
        .map(|(h, _)| h)
        .collect();
    if !missing.is_empty() {
        let install = docker.install();
        c.on(&missing, |h| {
            let install = install.clone();
            async move { c.exec(&h, &install).await.map(|_| ()) }
        })
        .await?;
    }
    let server = wharf_commands::server::Server::new(&c.config);
    let ensure = server.ensure_run_directory();
    c.on(&hosts, |h| {
        let ensure = ensure.clone();
        async move { c.exec(&h, &ensure).await.map(|_| ()) }
    })
    .await?;
    c.run_hook("docker-setup", &[])?;
    Ok(())
}
