//! Canary deploys (Wharf; docs/progressive-delivery.md). `deploy --canary 10%` boots the new
//! version beside the running one on every host of the roles behind the proxy and makes it the
//! proxy's rollout target: the users whose `kamal-rollout` cookie is on the list, or hashes into
//! the share, get it (as upstream kamal-proxy splits rollouts); everyone else keeps the running
//! version. Each host records its canary in `.kamal/apps/<app>/canary-<role>`.
//!
//! - `canary status`: per host, what the proxy counted for the canary's users and for the rest
//!   (`kamal-proxy stats`).
//! - `canary promote`: the proxy switched to the canary container on every host (health-checked
//!   first), the rollout stopped, the old version stopped; the roles behind no proxy booted;
//!   `latest` tagged, then pruned, as a deploy ends.
//! - `canary abort`: the rollout stopped (everyone back on the running version), the canary
//!   containers stopped and removed.
//! - `deploy --canary-gate`: the canary judged by live traffic over the gate's window (thresholds
//!   under `x-wharf/canary/gate`), then promoted, or aborted with the reason and a non-zero exit.
//! - Blue/green: `deploy --no-switch` is a canary for nobody (booted and health-checked, no
//!   traffic); `promote` and `discard` are `canary promote` and `canary abort`.
//!
//! A canary that fails to start on any host is taken back on every host.

use crate::app::boot;
use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::{lock, output, prune};
use serde_json::Value;
use std::time::{Duration, Instant};
use wharf_commands::App;
use wharf_config::extension::CanaryGate;
use wharf_config::Role;

/// Who gets the canary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub percent: u8,
    /// `kamal-rollout` cookie values always in the canary.
    pub list: Vec<String>,
}

impl Split {
    /// `deploy --no-switch`: booted and health-checked, no user sent to it (blue/green).
    pub fn nobody() -> Split {
        Split { percent: 0, list: vec![] }
    }

    fn is_nobody(&self) -> bool {
        self.percent == 0 && self.list.is_empty()
    }

    fn describe(&self) -> String {
        let share = format!("{}% of users", self.percent);
        if self.list.is_empty() {
            share
        } else {
            format!("{share} and {}", self.list.join(", "))
        }
    }
}

/// `--canary 10%` (or `10`): the share, 0 to 100.
pub fn parse_percent(text: &str) -> Result<u8> {
    let number = text.trim().trim_end_matches('%');
    match number.parse::<u8>() {
        Ok(p) if p <= 100 => Ok(p),
        _ => Err(CliError::argument(format!("--canary: expected a share of users from 0% to 100%, got {text:?}"))),
    }
}

/// `deploy --canary`'s boot: `version` beside the running one on every proxied host, as the
/// rollout target for `split`. Under the deploy lock.
pub async fn start(c: &Commander, version: &str, split: &Split) -> Result<()> {
    let places = boot::proxied_places(c);
    if places.is_empty() {
        return Err(CliError::argument("No role runs behind the proxy: a canary needs one (proxy: in deploy.yml)"));
    }
    if split.is_nobody() {
        output::say(&format!("Boot version {version} beside the running one, without traffic..."));
    } else {
        output::say(&format!("Start canary of version {version} for {}...", split.describe()));
    }
    let hosts = hosts_of(&places);
    let outcomes = c
        .on(&hosts, |h| {
            let places = &places;
            async move {
                let mut started = vec![];
                for (_, role) in places.iter().filter(|(ph, _)| *ph == h) {
                    match start_one(c, &h, role, version, split).await {
                        Ok(()) => started.push(role.name().to_string()),
                        Err(e) => return Ok((started, Some(e))),
                    }
                }
                Ok((started, None))
            }
        })
        .await?;
    let started: Vec<(String, String)> =
        outcomes.iter().flat_map(|(h, (roles, _))| roles.iter().map(move |r| (h.clone(), r.clone()))).collect();
    if let Some(e) = outcomes.into_iter().find_map(|(_, (_, e))| e) {
        // Taken back everywhere it started: no host keeps a canary of a failed start.
        output::say_red(&format!("The canary of version {version} did not start everywhere: taking it back"));
        take_back(c, &started, version).await?;
        return Err(e);
    }
    if split.is_nobody() {
        output::say(&format!(
            "Version {version} is ready on {}: `wharf promote` switches everyone to it, `wharf discard` removes it",
            hosts.join(", ")
        ));
    } else {
        output::say(&format!(
            "Canary of version {version} serves {} on {}: `wharf canary status`, then `wharf canary promote` or `wharf canary abort`",
            split.describe(),
            hosts.join(", ")
        ));
    }
    Ok(())
}

/// The hosts of `(host, ...)` pairs, once each, in order.
fn hosts_of<'a, T: 'a>(pairs: impl IntoIterator<Item = &'a (String, T)>) -> Vec<String> {
    let mut hosts: Vec<String> = vec![];
    for (h, _) in pairs {
        if !hosts.contains(h) {
            hosts.push(h.clone());
        }
    }
    hosts
}

async fn start_one(c: &Commander, host: &str, role: &Role, version: &str, split: &Split) -> Result<()> {
    let app = App::new(&c.config, Some(role), Some(host));
    let (running_q, clash_q) = (app.current_running_version(), app.container_id_for_version(version, false));
    let answers = c.capture_all(host, &[&running_q, &clash_q]).await?;
    let (running, clashing) = (&answers[0], &answers[1]);
    if running.is_empty() {
        return Err(CliError::runtime(format!(
            "Nothing of {} runs on {host} yet: a canary is compared with the running version, so deploy once without --canary",
            role.name()
        )));
    }
    if running == version {
        return Err(CliError::runtime(format!(
            "Version {version} already runs on {host} ({}): a canary needs another version",
            role.name()
        )));
    }
    if !clashing.is_empty() {
        // A stopped container of this version (an earlier deploy of it) holds the name.
        let renamed = format!("{version}_replaced_{:016x}", fastrand::u64(..));
        c.defer(host, &app.rename_container(version, &renamed));
    }
    c.audit(host, Some(role.name()), &format!("Canary of app version {version} for {}", split.describe())).await?;
    boot::run_container(c, host, role, &app)?;
    let endpoint = boot::endpoint_of(c, host, role, &app, version).await?;
    // The proxy health-checks the canary before it gets any user.
    if let Err(e) = c.exec(host, &app.rollout_deploy(&endpoint)).await {
        output::say_red(&format!("Failed to boot the canary of {} on {host}", role.name()));
        crate::app::diagnosis::diagnose(c, host, role, &app, version, &e.message).await;
        c.defer_unchecked(host, &app.stop(Some(version)));
        c.defer_unchecked(host, &app.remove_container(version));
        return Err(e);
    }
    c.exec(host, &app.rollout_set(split.percent, &split.list)).await?;
    c.defer(host, &app.write_canary(version));
    output::info(host, &format!("Canary of version {version} serves {} on {host}", split.describe()));
    Ok(())
}

/// Asks, with each proxied host's next exchange, whether a canary is recorded there (what
/// [`ensure_none`] then reads without a round trip of its own).
pub fn ask_ahead(c: &Commander) {
    let places = boot::proxied_places(c);
    for h in hosts_of(&places) {
        let questions: Vec<_> = places
            .iter()
            .filter(|(ph, _)| *ph == h)
            .map(|(_, role)| App::new(&c.config, Some(role), Some(&h)).read_canary())
            .collect();
        c.prefetch(&h, questions);
    }
}

/// Refuses to go on while a canary is recorded on any proxied host: a deploy would take the
/// canary (the newest container) for the running version, and stop the version everyone else is
/// on as stale. (`deploy` asks ahead: see `app::facts::prefetch`.)
pub async fn ensure_none(c: &Commander) -> Result<()> {
    match recorded(c).await?.into_iter().next() {
        Some((host, role, version)) => Err(CliError::runtime(format!(
            "A canary of version {version} is on {host} ({}): `wharf canary promote` or `wharf canary abort` first",
            role.name()
        ))),
        None => Ok(()),
    }
}

/// Everyone back on the running version where the canary started, the canary containers gone.
async fn take_back(c: &Commander, started: &[(String, String)], version: &str) -> Result<()> {
    c.on(&hosts_of(started), |h| async move {
        for (_, role_name) in started.iter().filter(|(sh, _)| *sh == h) {
            let role = c.config.role(role_name).expect("a configured role");
            let app = App::new(&c.config, Some(role), Some(&h));
            c.exec(&h, &app.rollout_stop()).await?;
            c.defer_unchecked(&h, &app.stop(Some(version)));
            c.defer_unchecked(&h, &app.remove_container(version));
            c.defer(&h, &app.remove_canary());
            c.audit(&h, Some(role.name()), &format!("Aborted canary of app version {version}")).await?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// The canary recorded on each proxied host and role: `(host, role, version)`.
async fn recorded(c: &Commander) -> Result<Vec<(String, &Role, String)>> {
    let places = boot::proxied_places(c);
    let hosts = hosts_of(&places);
    // Held changes stay held: `deploy` asked ahead, so nothing need be sent now.
    let answers = c
        .on_held(&hosts, |h| {
            let places = &places;
            async move {
                let mut found = vec![];
                for (_, role) in places.iter().filter(|(ph, _)| *ph == h) {
                    let app = App::new(&c.config, Some(role), Some(&h));
                    let version = c.capture_unchecked(&h, &app.read_canary()).await?;
                    if !version.is_empty() {
                        found.push((role.name().to_string(), version));
                    }
                }
                Ok(found)
            }
        })
        .await?;
    Ok(answers
        .into_iter()
        .flat_map(|(h, found)| {
            found.into_iter().map(move |(r, v)| (h.clone(), c.config.role(&r).expect("a configured role"), v))
        })
        .collect())
}

/// The one canary version recorded, or why there is none.
fn the_version(found: &[(String, &Role, String)], what: &str) -> Result<String> {
    let mut versions: Vec<&str> = found.iter().map(|(_, _, v)| v.as_str()).collect();
    versions.sort();
    versions.dedup();
    match versions.as_slice() {
        [] => Err(CliError::runtime(format!("No canary to {what}: none is recorded on the hosts behind the proxy"))),
        [one] => Ok(one.to_string()),
        many => Err(CliError::runtime(format!(
            "The hosts record different canaries ({}): promote or abort them one host at a time (-h)",
            many.join(", ")
        ))),
    }
}

/// `canary promote` (and `promote`): every server's canary health-checked again, then every
/// server switched.
pub async fn promote(c: &Commander) -> Result<()> {
    lock::with_lock(c, || async { promote_locked(c).await }).await
}

async fn promote_locked(c: &Commander) -> Result<()> {
    let found = recorded(c).await?;
    let version = the_version(&found, "promote")?;
    output::say(&format!("Promote canary of version {version}..."));
    c.config.set_version(&version);
    let mut hosts: Vec<String> = found.iter().map(|(h, _, _)| h.clone()).collect();
    hosts.dedup(); // `found` comes host by host
    let (found, version) = (&found, version.as_str());
    // Every server's canary is health-checked again before any server switches: all switch, or
    // none does.
    let endpoints = c
        .on(&hosts, |h| async move {
            let mut endpoints = vec![];
            for (_, role, _) in found.iter().filter(|(fh, _, _)| *fh == h) {
                let app = App::new(&c.config, Some(role), Some(&h));
                let endpoint = c.capture_unchecked(&h, &app.container_id_for_version(version, true)).await?;
                if endpoint.is_empty() && !c.plan {
                    return Err(CliError::runtime(format!(
                        "The canary container of version {version} does not run on {h} ({}): `wharf canary abort`",
                        role.name()
                    )));
                }
                let endpoint = if endpoint.is_empty() { "<container-id>".to_string() } else { endpoint };
                c.exec(&h, &app.rollout_deploy(&endpoint)).await?;
                endpoints.push(endpoint);
            }
            Ok(endpoints)
        })
        .await?;
    let endpoints: std::collections::HashMap<String, Vec<String>> = endpoints.into_iter().collect();
    let endpoints = &endpoints;
    c.on(&hosts, |h| async move {
        // In the order the health checks went: `found`'s, for this host.
        let roles = found.iter().filter(|(fh, _, _)| *fh == h).map(|(_, role, _)| role);
        for (role, endpoint) in roles.zip(&endpoints[&h]) {
            let app = App::new(&c.config, Some(role), Some(&h));
            c.audit(&h, Some(role.name()), &format!("Booted app version {version}")).await?;
            // The proxy health-checks it again, then switches everyone to it.
            c.exec(&h, &app.deploy(endpoint)).await?;
            c.exec(&h, &app.rollout_stop()).await?;
            let running = c.capture_unchecked(&h, &app.list_versions(&[], &[])).await?;
            for old in running.lines().map(str::trim).filter(|v| !v.is_empty() && *v != version) {
                c.defer_unchecked(&h, &app.stop(Some(old)));
            }
            c.defer(&h, &app.remove_canary());
            output::info(&h, &format!("Canary of version {version} promoted on {h} ({})", role.name()));
        }
        Ok(())
    })
    .await?;
    // The roles behind no proxy had no canary: they boot the version now, as a deploy does.
    boot::boot_unproxied_roles(c, version).await?;
    output::say("Prune old containers and images...");
    prune::all(c, None).await
}

/// `canary abort`.
pub async fn abort(c: &Commander) -> Result<()> {
    lock::with_lock(c, || async { abort_locked(c).await }).await
}

async fn abort_locked(c: &Commander) -> Result<()> {
    let found = recorded(c).await?;
    let version = the_version(&found, "abort")?;
    output::say(&format!("Abort canary of version {version}..."));
    let started: Vec<(String, String)> = found.iter().map(|(h, r, _)| (h.clone(), r.name().to_string())).collect();
    take_back(c, &started, &version).await?;
    output::say(&format!("Canary of version {version} aborted: everyone is on the running version"));
    Ok(())
}

/// What the proxy counted for one cohort between two snapshots.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Traffic {
    pub requests: u64,
    pub errors: u64,
    /// Per latency bucket: upper bound in seconds (`None`: beyond the last), count.
    pub buckets: Vec<(Option<f64>, u64)>,
}

impl Traffic {
    fn from_json(v: &Value) -> Traffic {
        Traffic {
            requests: v["requests"].as_u64().unwrap_or(0),
            errors: v["status"]["5xx"].as_u64().unwrap_or(0),
            buckets: v["latency_buckets"]
                .as_array()
                .map(|b| b.iter().map(|e| (e[0].as_f64(), e[1].as_u64().unwrap_or(0))).collect())
                .unwrap_or_default(),
        }
    }

    fn minus(&self, before: &Traffic) -> Traffic {
        Traffic {
            requests: self.requests.saturating_sub(before.requests),
            errors: self.errors.saturating_sub(before.errors),
            buckets: self
                .buckets
                .iter()
                .enumerate()
                .map(|(i, (le, n))| (*le, n.saturating_sub(before.buckets.get(i).map(|b| b.1).unwrap_or(0))))
                .collect(),
        }
    }

    fn plus(&self, other: &Traffic) -> Traffic {
        let mut buckets = self.buckets.clone();
        for (i, (le, n)) in other.buckets.iter().enumerate() {
            match buckets.get_mut(i) {
                Some(b) => b.1 += n,
                None => buckets.push((*le, *n)),
            }
        }
        Traffic { requests: self.requests + other.requests, errors: self.errors + other.errors, buckets }
    }

    /// The share of 5xx answers, in percent.
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            100.0 * self.errors as f64 / self.requests as f64
        }
    }

    /// The 95th percentile latency's bucket bound, in seconds (`None`: no requests; infinity
    /// beyond the last bound).
    pub fn p95(&self) -> Option<f64> {
        let total: u64 = self.buckets.iter().map(|b| b.1).sum();
        if total == 0 {
            return None;
        }
        let wanted = (total as f64 * 0.95).ceil() as u64;
        let mut seen = 0;
        for (le, n) in &self.buckets {
            seen += n;
            if seen >= wanted {
                return Some(le.unwrap_or(f64::INFINITY));
            }
        }
        Some(f64::INFINITY)
    }

    fn describe(&self) -> String {
        let p95 = match self.p95() {
            None => "-".to_string(),
            Some(s) if s.is_infinite() => "> 10 s".to_string(),
            Some(s) => format!("≤ {} ms", (s * 1000.0).round()),
        };
        format!("{} requests, {:.1}% 5xx, p95 {p95}", self.requests, self.error_rate())
    }
}

/// The canary's and the rest's traffic on one host, from `kamal-proxy stats`.
async fn traffic(c: &Commander, host: &str, role: &Role) -> Result<(Traffic, Traffic)> {
    let app = App::new(&c.config, Some(role), Some(host));
    let out = c.exec_unchecked(host, &app.proxy_stats()).await?;
    if !out.success() {
        return Err(CliError::runtime(format!(
            "The proxy on {host} did not give its request counts (`kamal-proxy stats`: {}): the canary gate and status need Wharf's proxy",
            out.stderr_str().trim()
        )));
    }
    let json: Value = serde_json::from_str(out.stdout_str().trim()).map_err(|e| {
        CliError::runtime(format!("The proxy on {host} answered `stats` with something else than JSON: {e}"))
    })?;
    let service = &json[role.container_prefix()];
    Ok((Traffic::from_json(&service["rollout"]), Traffic::from_json(&service["main"])))
}

/// [`traffic`] on every `(host, role)` at once, in the same order.
async fn traffic_on(c: &Commander, places: &[(String, &Role)]) -> Result<Vec<(Traffic, Traffic)>> {
    let answers = c
        .on(&hosts_of(places), |h| async move {
            let mut counts = vec![];
            for (_, role) in places.iter().filter(|(ph, _)| *ph == h) {
                counts.push(traffic(c, &h, role).await?);
            }
            Ok(counts)
        })
        .await?;
    let mut by_host: std::collections::HashMap<String, std::vec::IntoIter<(Traffic, Traffic)>> =
        answers.into_iter().map(|(h, counts)| (h, counts.into_iter())).collect();
    Ok(places.iter().filter_map(|(h, _)| by_host.get_mut(h).and_then(Iterator::next)).collect())
}

/// `canary status`.
pub async fn status(c: &Commander) -> Result<()> {
    let found = recorded(c).await?;
    if found.is_empty() {
        output::line("No canary: none is recorded on the hosts behind the proxy");
        return Ok(());
    }
    let places: Vec<(String, &Role)> = found.iter().map(|(h, r, _)| (h.clone(), *r)).collect();
    for ((host, role, version), (canary, rest)) in found.iter().zip(traffic_on(c, &places).await?) {
        output::line(&format!(
            "{host} {}: canary {version}: {}; everyone else: {}",
            role.name(),
            canary.describe(),
            rest.describe()
        ));
    }
    Ok(())
}

/// The gate's verdict on the traffic it saw: `Ok` to promote, `Err(why)` to abort.
pub fn verdict(gate: &CanaryGate, canary: &Traffic, rest: &Traffic) -> std::result::Result<String, String> {
    if canary.requests < gate.min_requests {
        return Err(format!(
            "the canary got {} requests in {} s, fewer than the {} needed to judge it",
            canary.requests, gate.window, gate.min_requests
        ));
    }
    let increase = canary.error_rate() - rest.error_rate();
    if increase > gate.max_error_rate_increase {
        return Err(format!(
            "the canary answered {:.1}% of its requests with 5xx, the rest {:.1}% ({:+.1} points, at most {} allowed)",
            canary.error_rate(),
            rest.error_rate(),
            increase,
            gate.max_error_rate_increase
        ));
    }
    if let (Some(c95), Some(r95)) = (canary.p95(), rest.p95()) {
        if r95 > 0.0 && c95 / r95 > gate.max_p95_ratio {
            return Err(format!(
                "the canary's p95 latency is {:.1}x the rest's (at most {}x allowed)",
                c95 / r95,
                gate.max_p95_ratio
            ));
        }
    }
    Ok(format!("canary: {}; everyone else: {}", canary.describe(), rest.describe()))
}

/// `deploy --canary-gate`: watches the canary's traffic on every host for the gate's window, then
/// promotes it or aborts it. An abort is an error (the deploy exits non-zero), with the reason.
pub async fn judge(c: &Commander, version: &str) -> Result<()> {
    let gate = c.config.wharf().canary.gate.clone();
    let places = boot::proxied_places(c);
    output::say(&format!("Watch canary of version {version} for {} s...", gate.window));
    let snapshot = || async {
        let (mut canary, mut rest) = (Traffic::default(), Traffic::default());
        for (ct, rt) in traffic_on(c, &places).await? {
            canary = canary.plus(&ct);
            rest = rest.plus(&rt);
        }
        Ok::<_, CliError>((canary, rest))
    };
    let watched = async {
        let (c0, r0) = snapshot().await?;
        let started = Instant::now();
        let window = Duration::from_secs(gate.window);
        while started.elapsed() < window && !c.plan {
            tokio::time::sleep((window - started.elapsed()).min(Duration::from_secs(5))).await;
        }
        let (c1, r1) = snapshot().await?;
        Ok::<_, CliError>((c1, r1, c0, r0))
    };
    let (c1, r1, c0, r0) = match watched.await {
        Ok(snapshots) => snapshots,
        Err(e) => {
            // Not judged, not kept: a canary nobody watches goes back.
            output::say_red(&format!("The canary of version {version} could not be judged: taking it back"));
            abort_locked(c).await?;
            return Err(e);
        }
    };
    let (canary, rest) = (c1.minus(&c0), r1.minus(&r0));
    let judged = verdict(&gate, &canary, &rest);
    crate::events::canary_verdict(version, judged.is_ok(), judged.as_ref().unwrap_or_else(|e| e), &canary, &rest);
    match judged {
        Ok(why) => {
            output::say(&format!("Canary of version {version} passed the gate ({why})"));
            promote_locked(c).await
        }
        Err(why) => {
            output::say_red(&format!("Canary of version {version} failed the gate: {why}"));
            abort_locked(c).await?;
            Err(CliError::new("Wharf::CanaryGate", format!("canary of version {version} aborted: {why}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traffic(requests: u64, errors: u64, buckets: &[u64]) -> Traffic {
        let bounds = [Some(0.005), Some(0.01), Some(0.025), None];
        Traffic { requests, errors, buckets: buckets.iter().enumerate().map(|(i, n)| (bounds[i], *n)).collect() }
    }

    #[test]
    fn shares_are_parsed_with_or_without_the_percent_sign() {
        assert_eq!(parse_percent("10%").unwrap(), 10);
        assert_eq!(parse_percent("100").unwrap(), 100);
        assert_eq!(
            parse_percent("120%").unwrap_err().message,
            "--canary: expected a share of users from 0% to 100%, got \"120%\""
        );
    }

    #[test]
    fn the_gate_promotes_a_canary_as_good_as_the_rest_and_aborts_a_worse_one() {
        let gate = CanaryGate { window: 30, min_requests: 20, max_error_rate_increase: 1.0, max_p95_ratio: 1.5 };
        let rest = traffic(1000, 2, &[900, 90, 10, 0]);
        assert!(verdict(&gate, &traffic(50, 0, &[45, 5, 0, 0]), &rest).is_ok());
        let errors = verdict(&gate, &traffic(50, 10, &[45, 5, 0, 0]), &rest).unwrap_err();
        assert!(errors.starts_with("the canary answered 20.0% of its requests with 5xx, the rest 0.2%"), "{errors}");
        let slow = verdict(&gate, &traffic(50, 0, &[0, 0, 10, 40]), &rest).unwrap_err();
        assert!(slow.contains("p95 latency is inf"), "{slow}");
        let few = verdict(&gate, &traffic(5, 0, &[5, 0, 0, 0]), &rest).unwrap_err();
        assert_eq!(few, "the canary got 5 requests in 30 s, fewer than the 20 needed to judge it");
    }

    #[test]
    fn traffic_between_snapshots_and_over_hosts() {
        let before = traffic(10, 1, &[5, 5, 0, 0]);
        let after = traffic(30, 2, &[15, 10, 5, 0]);
        let window = after.minus(&before);
        assert_eq!((window.requests, window.errors), (20, 1));
        assert_eq!(window.p95(), Some(0.025));
        let both = window.plus(&traffic(20, 0, &[20, 0, 0, 0]));
        assert_eq!((both.requests, both.error_rate()), (40, 2.5));
        // 38 of 40 requests (95%) took at most 25 ms; 35 at most 10 ms.
        assert_eq!(both.p95(), Some(0.025));
    }
}
