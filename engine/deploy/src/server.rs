//! Kamal's `server` commands (cli/server.rb): `exec` a command on every host, and `bootstrap`
//! (Docker present on every server, the run directory, the `docker-setup` hook).

use crate::commander::Commander;
use crate::error::Result;
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

/// `server bootstrap`: Docker must be installed (Wharf does not install it from the internet
/// unless the host can reach get.docker.com; the check is Kamal's), then the `docker-setup` hook.
pub async fn bootstrap(c: &Commander) -> Result<()> {
    let docker = wharf_commands::docker::Docker::new();
    let installed = docker.installed();
    let hosts = c.hosts();
    let server = wharf_commands::server::Server::new(&c.config);
    let ensure = server.ensure_run_directory();
    // Per host one exchange: whether Docker is there, and the run directory (which needs no
    // Docker, so it need not wait for an installation).
    let (installed, ensure) = (&installed, &ensure);
    let missing: Vec<String> = c
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
    if !missing.is_empty() {
        let install = docker.install();
        c.on(&missing, |h| {
            let install = install.clone();
            async move { c.exec(&h, &install).await.map(|_| ()) }
        })
        .await?;
    }
    c.run_hook("docker-setup", &[])?;
    Ok(())
}
