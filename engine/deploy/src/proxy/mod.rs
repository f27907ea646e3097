//! Kamal's `proxy` commands (cli/proxy.rb): boot, reboot (see [`reboot`]), start, stop,
//! restart, details, logs, remove and its steps, on the proxy hosts.

pub mod boot_config;
pub mod handover;
pub mod reboot;

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::execution::Effect;
use crate::{lock, output};
use wharf_commands::docker::Docker;
use wharf_commands::facts::ContainerFacts;
use wharf_commands::proxy::{Proxy, ProxyLogsOptions};
use wharf_commands::registry::Registry;
use wharf_commands::Cmd;
use wharf_config::model::PROXY_MINIMUM_VERSION;
use wharf_config::ruby::GemVersion;
use wharf_ssh::Output;

/// Kamal's `Utils.older_version?`: `version` (`v0.9.1`) compared with `minimum` as RubyGems
/// compares versions (a malformed version is Ruby's `ArgumentError`).
fn older_version(version: &str, minimum: &str) -> Result<bool> {
    let parse =
        |v: &str| GemVersion::parse(v.strip_prefix('v').unwrap_or(v)).map_err(|e| CliError::new("ArgumentError", e));
    Ok(parse(version)? < parse(minimum)?)
}

/// `proxy boot`: the `kamal` network on every host, then the proxy container on proxy hosts.
/// Per proxy host one exchange logs in to the registry (unless this run already did) and asks
/// for kamal-proxy's facts; when it runs on the `kamal` network, Kamal's `docker network create
/// kamal` and `docker container start kamal-proxy` would change nothing and are left out (Wharf),
/// else they run as Kamal runs them (the network in an exchange of its own). The start is held
/// for the host's next exchange.
pub async fn boot(c: &Commander) -> Result<()> {
    lock::with_lock(c, || async {
        let network = Docker::new().create_network();
        let network = &network;
        let hosts = c.hosts();
        let proxy_hosts = c.proxy_hosts();
        let proxy_hosts = &proxy_hosts;
        let login = Registry::new(&c.config).login_password_stdin(None)?;
        let login = &login;
        // The proxy's start is held for the host's next exchange (the next step's).
        let booted = c
            .on_held(&hosts, |h| async move {
                if !proxy_hosts.contains(&h) {
                    let created = c.exec_unchecked(&h, network).await?;
                    return ensure_network(c, &h, network, &created).map(|()| None);
                }
                // Wharf: one `docker inspect` of kamal-proxy says what Kamal's network creation
                // and version check would: when it runs on the `kamal` network, that network
                // exists and its start would change nothing.
                let proxy = Proxy::new(&c.config, &h);
                let facts_query = proxy.container_facts();
                let mut asks = vec![];
                let login = login.as_ref().filter(|_| !c.registry_login_done(&h));
                if let Some(login) = login {
                    asks.push((login, Effect::Change));
                }
                asks.push((&facts_query, Effect::Query));
                let answers = c.exchange(&h, &asks).await?;
                if let Some(login) = login {
                    if !answers[0].success() {
                        return Err(c.failure(&h, login, &answers[0]));
                    }
                    c.note_registry_login(&h);
                }
                let inspected = answers.last().expect("the facts answered");
                let name = c.config.proxy_boot().container_name();
                let facts = ContainerFacts::parse(&inspected.stdout_str()).into_iter().find(|f| f.name == name);
                let in_place = facts.as_ref().is_some_and(ContainerFacts::running_on_kamal_network);
                if !in_place {
                    let created = c.exec_unchecked(&h, network).await?;
                    ensure_network(c, &h, network, &created)?;
                }
                let version = facts.as_ref().map(|f| f.image_tag().to_string()).unwrap_or_default();
                if !version.is_empty() && older_version(&version, PROXY_MINIMUM_VERSION)? {
                    if c.config.wharf().upgrade_old_proxy {
                        return Ok(Some(h));
                    }
                    return Err(too_old(&version));
                }
                c.defer(&h, &proxy.ensure_apps_config_directory());
                if !in_place {
                    c.defer(&h, &proxy.start_or_run());
                }
                Ok(None)
            })
            .await?;
        let too_old: Vec<String> = booted.into_iter().filter_map(|(_, old)| old).collect();
        if !too_old.is_empty() {
            upgrade_old(c, too_old).await?;
        }
        Ok(())
    })
    .await
}

/// Kamal's `docker network create kamal`, which may fail only because the network exists.
fn ensure_network(c: &Commander, host: &str, network: &Cmd, created: &Output) -> Result<()> {
    if created.success() || created.stderr_str().contains("already exists") {
        Ok(())
    } else {
        Err(c.failure(host, network, created))
    }
}

/// Kamal's error for a running kamal-proxy older than it requires.
fn too_old(version: &str) -> CliError {
    CliError::runtime(format!(
        "kamal-proxy version {version} is too old, run `kamal proxy reboot` in order to update to at least {PROXY_MINIMUM_VERSION}"
    ))
}

/// `x-wharf: upgrade_old_proxy`: the `hosts` whose kamal-proxy is too old get the configured one
/// as `proxy reboot --zero-downtime` does it; a proxy still too old after that (the configured
/// image is) is Kamal's error.
async fn upgrade_old(c: &Commander, hosts: Vec<String>) -> Result<()> {
    output::say(&format!("Upgrading kamal-proxy without downtime on {}...", hosts.join(",")));
    c.with_specific_hosts(hosts.clone(), || handover::reboot(c, false)).await?;
    c.on(&hosts, |h| async move {
        let version = c.capture_unchecked(&h, &Proxy::new(&c.config, &h).version()).await?;
        if !version.is_empty() && older_version(&version, PROXY_MINIMUM_VERSION)? {
            return Err(too_old(&version));
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// `proxy details`: the proxy container on each proxy host.
pub async fn details(c: &Commander) -> Result<()> {
    let host = c.proxy_hosts().first().cloned().unwrap_or_default();
    c.print_by_host("Proxy", &c.proxy_hosts(), &Proxy::new(&c.config, &host).info(), false).await
}

/// `proxy start|stop|restart`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartStop {
    Start,
    Stop,
    Restart,
}

/// `proxy start|stop|restart` on every proxy host, under the lock, audited. The changes are
/// held for the next step on the host (`proxy remove`'s), or the flush before the lock is
/// released.
pub async fn start_stop(c: &Commander, what: StartStop) -> Result<()> {
    lock::with_lock(c, || async {
        c.on_held(&c.proxy_hosts(), |h| async move {
            let proxy = Proxy::new(&c.config, &h);
            match what {
                StartStop::Start => {
                    c.audit(&h, None, "Started proxy").await?;
                    c.defer(&h, &proxy.start());
                }
                StartStop::Stop => {
                    c.audit(&h, None, "Stopped proxy").await?;
                    c.defer_unchecked(&h, &proxy.stop(None));
                }
                // Kamal's `restart` is its `stop` then its `start`, each with its audit line.
                StartStop::Restart => {
                    c.audit(&h, None, "Stopped proxy").await?;
                    c.defer_unchecked(&h, &proxy.stop(None));
                    c.audit(&h, None, "Started proxy").await?;
                    c.defer(&h, &proxy.start());
                }
            }
            Ok(())
        })
        .await?;
        Ok(())
    })
    .await
}

/// `proxy logs`.
pub async fn logs(c: &Commander, options: &ProxyLogsOptions) -> Result<()> {
    // The logs command depends only on the options, not on the host.
    let host = c.proxy_hosts().first().cloned().unwrap_or_default();
    // As Kamal: the last 100 lines unless --lines, --since or --grep says otherwise.
    let mut options = options.clone();
    if options.lines.is_none() && options.since.is_none() && options.grep.is_none() {
        options.lines = Some("100".into());
    }
    let cmd = Proxy::new(&c.config, &host).logs(&options);
    // Kamal `capture`s it: a failure (no proxy container, a grep that matched nothing) is the error.
    c.print_by_host("Proxy", &c.proxy_hosts(), &cmd, true).await
}

/// `proxy logs --follow`: hands the terminal to `ssh -t` on the primary host, following the
/// proxy container's log (Kamal's `follow_logs`).
pub fn follow_logs(c: &Commander, options: &ProxyLogsOptions) -> Result<()> {
    let host = c.primary_host().ok_or_else(|| CliError::argument("No proxy hosts"))?;
    let line = Proxy::new(&c.config, &host).follow_logs(
        &host,
        options.timestamps,
        options.grep.as_deref(),
        options.grep_options.as_deref(),
    );
    output::line(&format!("  INFO Following logs on {host}..."));
    output::line(&format!("  INFO {line}"));
    c.hand_off(&host, &line)
}

/// One of `proxy remove`'s steps, run on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoveStep {
    Container,
    Image,
    ProxyDirectory,
}

/// `proxy remove_container|remove_image|remove_proxy_directory` (held as [`start_stop`]'s).
pub async fn remove_step(c: &Commander, step: RemoveStep) -> Result<()> {
    lock::with_lock(c, || async {
        c.on_held(&c.proxy_hosts(), |h| async move {
            let proxy = Proxy::new(&c.config, &h);
            // Kamal audits the container and image removals, not the directory's.
            let (line, cmd) = match step {
                RemoveStep::Container => (Some("Removed proxy container"), proxy.remove_container()),
                RemoveStep::Image => (Some("Removed proxy image"), proxy.remove_image()),
                RemoveStep::ProxyDirectory => (None, proxy.remove_proxy_directory()),
            };
            if let Some(line) = line {
                c.audit(&h, None, line).await?;
            }
            c.defer_unchecked(&h, &cmd);
            Ok(())
        })
        .await?;
        Ok(())
    })
    .await
}

/// `proxy remove`: as Kamal, refuses everywhere when another app is installed on any proxy
/// host, unless `force`; then stops the proxy, removes its container, image and directory (in
/// one exchange per host: none of these steps' failures stops the next).
pub async fn remove(c: &Commander, force: bool) -> Result<()> {
    lock::with_lock(c, || async {
        let hosts = c.proxy_hosts();
        let server = wharf_commands::server::Server::new(&c.config);
        let count_cmd = server.app_directory_count();
        let counts = c
            .on(&hosts, |h| {
                let count_cmd = count_cmd.clone();
                async move { Ok(c.capture_unchecked(&h, &count_cmd).await?.trim().parse::<u64>().unwrap_or(0)) }
            })
            .await?;
        if counts.iter().any(|(_, count)| *count > 0) {
            if !force {
                output::say("Not removing the proxy, as other apps are installed, ignore this check with kamal proxy remove --force");
                return Ok(());
            }
            output::say("Forcing, so removing the proxy, even though other apps are installed");
        }
        start_stop(c, StartStop::Stop).await?;
        remove_step(c, RemoveStep::Container).await?;
        remove_step(c, RemoveStep::Image).await?;
        remove_step(c, RemoveStep::ProxyDirectory).await
    })
    .await
}
