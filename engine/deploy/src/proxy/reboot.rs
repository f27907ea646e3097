//! `proxy reboot`: Kamal's commands, as Kamal runs them (`Kamal::Cli::Proxy#reboot`): under the
//! deploy lock, for all proxy hosts at once (or one at a time with `--rolling`), the
//! `pre-proxy-reboot` hook, then on each host the audit line, the registry login, `docker
//! container stop kamal-proxy`, `docker container prune --filter
//! label=org.opencontainers.image.title=kamal-proxy`, the apps-config directory and `docker run`
//! of the proxy, then `post-proxy-reboot`. The proxy restores its routes from its state volume.
//!
//! What Wharf adds is what it does when that `docker run` fails, since by then the proxy is
//! stopped and the host serves nothing:
//! - The stopped container was not pruned, because its image lacks the label (an image built
//!   without it, such as this project's proxy image before it had the label), so its name is
//!   still taken: Wharf moves it aside, runs the new one and removes the old one (a warning says
//!   so); if the new one still fails, the old one is renamed back and started.
//! - The old container was pruned and the configured image does not run (a version that does not
//!   exist, say): Wharf starts the proxy from the newest other kamal-proxy image on the host.
//!
//! The command still fails when the configured proxy is not what runs, and its error says what
//! the host runs now (or that it runs no proxy, when nothing could be started).

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::execution::Effect;
use crate::{lock, output};
use wharf_commands::proxy::Proxy;
use wharf_commands::registry::Registry;
use wharf_commands::{cmd, Cmd, Token};

/// The label Kamal finds the proxy container (and image) by.
const TITLE_LABEL: &str = "org.opencontainers.image.title";

pub async fn reboot(c: &Commander, rolling: bool) -> Result<()> {
    lock::with_lock(c, || async {
        in_groups(c, c.proxy_hosts(), rolling, |h, login| async move { reboot_host(c, &h, login.as_ref()).await }).await
    })
    .await
}

/// Kamal's reboot loop: `reboot_host` on all `hosts` at once (one at a time with `rolling`),
/// with the registry login, each group between the `pre-proxy-reboot` and `post-proxy-reboot`
/// hooks.
pub(super) async fn in_groups<F, Fut>(c: &Commander, hosts: Vec<String>, rolling: bool, reboot_host: F) -> Result<()>
where
    F: Fn(String, Option<Cmd>) -> Fut + Send + Sync,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let login = Registry::new(&c.config).login_password_stdin(None)?;
    for group in crate::commander::rolling_groups(hosts, rolling) {
        let list = group.join(",");
        c.run_hook("pre-proxy-reboot", &[("hosts", list.clone())])?;
        c.on(&group, |h| reboot_host(h, login.clone())).await?;
        c.run_hook("post-proxy-reboot", &[("hosts", list)])?;
    }
    Ok(())
}

pub(super) async fn reboot_host(c: &Commander, host: &str, login: Option<&Cmd>) -> Result<()> {
    let proxy = Proxy::new(&c.config, host);
    // One exchange: a failing step before the `docker run` is its own error; a failing `docker
    // run` is recovered from.
    c.audit(host, None, "Rebooted proxy").await?;
    if let Some(login) = login {
        c.defer(host, login);
    }
    c.defer_unchecked(host, &proxy.stop(None));
    c.defer(host, &proxy.remove_container());
    c.defer(host, &proxy.ensure_apps_config_directory());
    let run = proxy.run();
    let out = c.exchange(host, &[(&run, Effect::Change)]).await?.remove(0);
    if out.success() {
        return Ok(());
    }
    let failed = c.failure(host, &run, &out);
    recover(c, host, &proxy, failed).await
}

/// The proxy's `docker run` failed on `host`: bring a proxy back, and say what runs now.
async fn recover(c: &Commander, host: &str, proxy: &Proxy<'_>, failed: CliError) -> Result<()> {
    let name = c.config.proxy_boot().container_name();
    let by_name = docker_cmd(&["container", "ls", "--all", "--quiet", "--filter", &format!("name=^{name}$")]);
    if c.capture_unchecked(host, &by_name).await?.is_empty() {
        run_other_image(c, host, proxy, name, failed).await
    } else {
        replace_by_name(c, host, proxy, name).await
    }
}

/// The stopped container was not pruned (its image lacks the label) and holds the name: move it
/// aside, run the new one, remove the old one; if the new one fails, the old one comes back.
async fn replace_by_name(c: &Commander, host: &str, proxy: &Proxy<'_>, name: &str) -> Result<()> {
    let label = c.capture_unchecked(host, &label_of(name)).await?;
    let aside = format!("{name}_replaced_{:016x}", fastrand::u64(..));
    c.exec(host, &docker_cmd(&["container", "rename", name, &aside])).await?;
    c.exec_unchecked(host, &proxy.stop(Some(&aside))).await?;
    if let Err(again) = c.exec(host, &proxy.run()).await {
        c.exec(host, &docker_cmd(&["container", "rename", &aside, name])).await?;
        c.exec(host, &proxy.start()).await?;
        let state =
            format!("{host} runs its previous {name} container again (started after the new one failed to start)");
        return Err(with_state(again, &state));
    }
    c.exec_unchecked(host, &docker_cmd(&["container", "rm", &aside])).await?;
    let why = if label == "kamal-proxy" {
        String::new()
    } else {
        format!(" (its image has no {TITLE_LABEL}=kamal-proxy label, so `docker container prune` left it)")
    };
    output::warn(host, &format!("The stopped {name} container was still there{why}: replaced it by name"));
    if c.capture_unchecked(host, &label_of(name)).await? != "kamal-proxy" {
        output::warn(
            host,
            &format!(
                "The new {name} container's image has no {TITLE_LABEL}=kamal-proxy label either: Kamal's \
                 `proxy reboot` cannot remove it; use an image with the label (pull it again if its tag was rebuilt)"
            ),
        );
    }
    Ok(())
}

/// The old container is gone (pruned) and the configured image does not run: start the proxy
/// from the newest other kamal-proxy image on the host, so that the host keeps serving.
async fn run_other_image(c: &Commander, host: &str, proxy: &Proxy<'_>, name: &str, failed: CliError) -> Result<()> {
    let none = format!("{host} has no {name} container now: its apps get no traffic until `proxy boot` or `proxy reboot` succeeds there");
    let Some(configured) = proxy.proxy_run_config().map(|run| run.image()) else {
        return Err(with_state(failed, &none));
    };
    let images = docker_cmd(&[
        "image",
        "ls",
        "--filter",
        &format!("label={TITLE_LABEL}=kamal-proxy"),
        "--format",
        "'{{.Repository}}:{{.Tag}}'",
    ]);
    let listed = c.capture_unchecked(host, &images).await?;
    let Some(other) = listed.lines().map(str::trim).find(|i| *i != configured && !i.contains("<none>")) else {
        return Err(with_state(failed, &none));
    };
    let run = Cmd::from_words(proxy.run().tokens().iter().map(|t| {
        if t.as_str() == configured {
            Token::new(other)
        } else {
            t.clone()
        }
    }));
    if c.exec(host, &run).await.is_err() {
        return Err(with_state(failed, &none));
    }
    let state = format!(
        "{host} runs {name} from {other} (the newest other kamal-proxy image there), not the configured {configured}"
    );
    Err(with_state(failed, &state))
}

fn docker_cmd(words: &[&str]) -> Cmd {
    let mut c = cmd!["docker"];
    for w in words {
        c.push(*w);
    }
    c
}

/// The container's `org.opencontainers.image.title` label (empty when it has none).
fn label_of(container: &str) -> Cmd {
    cmd![
        "docker",
        "container",
        "inspect",
        "--format",
        format!("'{{{{index .Config.Labels \"{TITLE_LABEL}\"}}}}'"),
        container
    ]
}

/// `error`, with a line saying what state the host was left in.
fn with_state(error: CliError, state: &str) -> CliError {
    CliError { message: format!("{}\n{state}", error.message), ..error }
}
