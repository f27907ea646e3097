//! `proxy reboot --zero-downtime` (Wharf; docs/progressive-delivery.md): Kamal's reboot with
//! the gap closed. On each host (all at once, or one at a time with `--rolling`), under the deploy
//! lock and between the same hooks:
//! 1. the *handover* container starts from the new proxy image beside the running kamal-proxy
//!    and restores the same services from the shared state volume; nothing changes until it
//!    answers (a new image that does not start leaves the host as it was);
//! 2. iptables rules send new connections for the published ports to it (open ones stay where
//!    they are);
//! 3. Kamal's reboot commands run (`reboot::reboot_host`): the old kamal-proxy drains and goes,
//!    the new one starts;
//! 4. once the new kamal-proxy answers, the rules go, and the handover container drains and goes.
//!
//! Before any host changes, every host is checked for what the rules need (iptables with root
//! rights, Docker's `DOCKER-USER` chain). A host whose kamal-proxy is not running or publishes
//! nothing has nothing to hand over: it is rebooted as Kamal does. A run stopped half-way is
//! finished by the next one: leftover rules and container are removed first, or, when the
//! handover container is what serves (kamal-proxy down), the reboot goes on from step 3.

use super::reboot::{in_groups, reboot_host as kamal_reboot_host};
use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::execution::Effect;
use crate::{lock, output};
use wharf_commands::proxy_handover::{parse_inspected, Handover, CONTAINER, RULE_COMMENT};
use wharf_commands::Cmd;

pub async fn reboot(c: &Commander, rolling: bool) -> Result<()> {
    lock::with_lock(c, || async {
        let hosts = c.proxy_hosts();
        c.on(&hosts, |h| async move { check_firewall(c, &h).await }).await?;
        in_groups(c, hosts, rolling, |h, login| async move { reboot_host(c, &h, login.as_ref()).await }).await
    })
    .await
}

/// Nothing changes anywhere unless every host can take the rules.
async fn check_firewall(c: &Commander, host: &str) -> Result<()> {
    let out = c.query(host, &Handover::new(&c.config, host).check_firewall()).await?;
    if out.success() {
        return Ok(());
    }
    let why = format!("{} {}", out.stderr_str().trim(), out.stdout_str().trim());
    Err(CliError::runtime(format!(
        "{host}: `proxy reboot --zero-downtime` needs iptables there, with root rights (sudo -n for a non-root SSH \
         user), and Docker's DOCKER-USER chain: {}\nNothing was changed. `proxy reboot` without --zero-downtime \
         reboots as Kamal does, with a brief outage.",
        why.trim()
    )))
}

async fn reboot_host(c: &Commander, host: &str, login: Option<&Cmd>) -> Result<()> {
    let handover = Handover::new(&c.config, host);
    let name = c.config.proxy_boot().container_name();
    let answers = c.capture_all(host, &[&handover.inspect(name), &handover.inspect(CONTAINER)]).await?;
    let (current, serving) = (parse_inspected(&answers[0]), parse_inspected(&answers[1]));
    let mut login = login;
    if current.running || !serving.running {
        c.defer_unchecked(host, &handover.undivert());
        c.defer_unchecked(host, &handover.remove_leftover());
        if !current.running || current.bindings.is_empty() {
            output::info(host, &format!("{name} is not running or publishes no port: nothing to hand over"));
            return kamal_reboot_host(c, host, login).await;
        }
        if let Some(l) = login.take() {
            c.defer(host, l);
        }
        let address = start_handover(c, host, &handover).await?;
        for rule in handover.divert(&current.bindings, &address) {
            c.defer(host, &rule);
        }
        if let Err(e) = c.flush(host).await {
            c.exec_unchecked(host, &handover.undivert()).await?;
            c.exec_unchecked(host, &handover.remove_leftover()).await?;
            return Err(e);
        }
        let ports: Vec<String> = current.bindings.iter().map(|b| b.host_port.to_string()).collect();
        output::info(host, &format!("New connections to port {} go to {CONTAINER} ({address})", ports.join(", ")));
    } else {
        output::info(host, &format!("{name} is down and {CONTAINER} serves (a reboot stopped half-way): going on"));
    }
    let rebooted = kamal_reboot_host(c, host, login).await;
    let ready = c.exec_unchecked(host, &handover.wait_until_ready(name)).await?;
    if !ready.success() {
        let state = format!(
            "{host} serves through the {CONTAINER} container, which iptables rules tagged {RULE_COMMENT} send new \
             connections to, since {name} does not answer; `proxy reboot --zero-downtime` finishes the reboot once \
             {name} can start"
        );
        let error = rebooted.err().unwrap_or_else(|| CliError::runtime(format!("{host}: {name} did not get ready")));
        return Err(CliError { message: format!("{}\n{state}", error.message), ..error });
    }
    c.defer(host, &handover.undivert());
    c.exec(host, &handover.remove()).await?;
    rebooted
}

/// Starts the handover container, waits until it answers and asks its address, in one
/// exchange; when it does not answer, it is removed (the host is as it was) and its last log
/// lines are in the error.
async fn start_handover(c: &Commander, host: &str, handover: &Handover<'_>) -> Result<String> {
    let (run, wait, address) = (handover.run(), handover.wait_until_ready(CONTAINER), handover.address());
    let outputs =
        c.exchange(host, &[(&run, Effect::Change), (&wait, Effect::Change), (&address, Effect::Change)]).await?;
    let address = outputs[2].stdout_str().trim().to_string();
    if c.plan {
        return Ok("<its address>".into());
    }
    if outputs[0].success() && outputs[1].success() && !address.is_empty() {
        return Ok(address);
    }
    let logs = c.capture_unchecked(host, &handover.logs(CONTAINER)).await?;
    c.exec_unchecked(host, &handover.remove_leftover()).await?;
    let why = if outputs[0].success() {
        format!("it did not answer on its command socket; its last log lines:\n{logs}")
    } else {
        c.failure(host, &run, &outputs[0]).message
    };
    Err(CliError::runtime(format!(
        "{host}: the new proxy did not start beside the running one, so nothing was handed over and the running \
         proxy was left as it was: {why}"
    )))
}
