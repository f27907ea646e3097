//! Canary deploys on real servers under continuous load (Wharf; docs/progressive-delivery.md):
//! a version that answers 500 to a fifth of its requests is aborted by the gate without a failed
//! request for the users outside the canary; a good one is promoted; a manual canary is shown by
//! `canary status` and taken back by `canary abort`; blue/green: `deploy --no-switch`, then
//! `promote` or `discard`.

use crate::WHARF;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use wharf_testkit::lab::*;

const HOSTS: [&str; 2] = ["10.200.0.1", "10.200.0.2"];
const HOST_HEADER: &str = "canary.test";

/// GET with the app's Host header, as a user in the canary (`kamal-rollout=beta`) or not.
fn get(host: &str, path: &str, canary_user: bool) -> (u16, String) {
    let mut curl = Command::new("curl");
    curl.args(["-s", "-m", "5", "-H", &format!("Host: {HOST_HEADER}"), "-w", "\n%{http_code}"]);
    if canary_user {
        curl.args(["-H", "Cookie: kamal-rollout=beta"]);
    }
    let out = curl.arg(format!("http://{host}{path}")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "000"));
    (code.trim().parse().unwrap_or(0), body.trim().to_string())
}

/// One request's outcome: whether the user was in the canary, the status.
type Outcome = (bool, u16);

/// Users in and out of the canary on every server, until stopped; every fifth request goes to
/// the page the bad version breaks.
struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
}

impl Load {
    fn start() -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let outcomes = Arc::new(Mutex::new(vec![]));
        let mut threads = vec![];
        for host in HOSTS {
            for canary_user in [true, false] {
                let (stop, outcomes) = (stop.clone(), outcomes.clone());
                threads.push(std::thread::spawn(move || {
                    let mut i = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let path = if i.is_multiple_of(5) { "/cgi-bin/flaky" } else { "/version" };
                        let (status, _) = get(host, path, canary_user);
                        outcomes.lock().unwrap().push((canary_user, status));
                        i += 1;
                    }
                }));
            }
        }
        Load { stop, threads, outcomes }
    }

    /// How many requests have been answered so far.
    fn count(&self) -> usize {
        self.outcomes.lock().unwrap().len()
    }

    fn stop(self) -> Vec<Outcome> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().unwrap();
        }
        let outcomes = self.outcomes.lock().unwrap().clone();
        outcomes
    }
}

/// start.sh with a CGI page answering `status` (the rest of the app as in examples/hello).
fn start_sh(original: &str, status: &str) -> String {
    let page = format!(
        "/bin/busybox mkdir -p /www/cgi-bin\nprintf '#!/bin/busybox sh\\necho \"Status: {status}\"\\necho\\necho page\\n' > /www/cgi-bin/flaky\n/bin/busybox chmod +x /www/cgi-bin/flaky\n"
    );
    original.replace("/bin/busybox httpd", &format!("{page}/bin/busybox httpd"))
}

/// The test app (service `canary`, the CGI page answering 200) with `extra` in deploy.yml, its
/// first version deployed on both servers: the app, start.sh as examples/hello has it, and that
/// version.
fn deployed_app(lab: &'static Lab, extra: &str) -> (AppDir, String, String) {
    let app = AppDir::new(lab, WHARF);
    app.write("config/deploy.yml", &deploy_yml("canary", HOST_HEADER, "", extra));
    let original = std::fs::read_to_string(app.path().join("start.sh")).unwrap();
    app.write("start.sh", &start_sh(&original, "200 OK"));
    let first = app.commit("first");
    for host in HOSTS {
        on_host(lab, host, "rm -f .kamal/apps/canary/canary-web"); // a run stopped half-way
    }
    app.ok(&["deploy"]);
    (app, original, first)
}

fn canary_file_on(lab: &Lab, host: &str) -> String {
    on_host(lab, host, "cat .kamal/apps/canary/canary-web 2>/dev/null")
}

#[test]
fn canary_judged_by_live_traffic_is_aborted_when_bad_and_promoted_when_good() {
    let Some((_guard, lab)) = lab() else { return };
    let gate = "x-wharf:\n  canary:\n    gate:\n      window: 8\n      min_requests: 10\n      max_error_rate_increase: 1\n      max_p95_ratio: 50\n";
    let (app, original, v1) = deployed_app(lab, gate);

    // A bad canary: 500 on one page in five. The gate aborts it; nobody outside saw an error.
    app.write("start.sh", &start_sh(&original, "500 Internal Server Error"));
    let bad = app.commit("bad");
    let load = Load::start();
    let out = app.wharf(&["deploy", "--canary", "0%", "--canary-list", "beta", "--canary-gate", "--output", "json"]);
    let outcomes = load.stop();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("Canary of version {bad} failed the gate: the canary answered")),
        "{}",
        stderr(&out)
    );
    let events: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let verdict = events.iter().find(|e| e["event"] == "canary_verdict").expect("a canary_verdict event");
    assert_eq!(verdict["verdict"], "abort", "{verdict}");
    assert!(verdict["canary"]["errors_5xx"].as_u64().unwrap() > 0, "{verdict}");
    let others_failed = outcomes.iter().filter(|(canary, status)| !canary && *status != 200).count();
    let others = outcomes.iter().filter(|(canary, _)| !canary).count();
    assert!(others > 50, "the load ran: {others} requests outside the canary");
    assert_eq!(others_failed, 0, "requests outside the canary failed");
    assert!(outcomes.iter().any(|(canary, status)| *canary && *status == 500), "the canary served its users");
    for host in HOSTS {
        assert_eq!(get(host, "/version", true), (200, v1.clone()), "{host}: the canary's users are back");
        assert_eq!(on_host(lab, host, &format!("docker ps -aq --filter name=^canary-web-{bad}$")), "", "{host}");
        assert_eq!(canary_file_on(lab, host), "", "{host}");
    }

    // A good canary passes the gate and is promoted: everyone on it, the old version stopped.
    app.write("start.sh", &start_sh(&original, "200 OK"));
    let good = app.commit("good");
    let load = Load::start();
    let out = app.wharf(&["deploy", "--canary", "50%", "--canary-list", "beta", "--canary-gate"]);
    let outcomes = load.stop();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("Canary of version {good} passed the gate")), "{}", stdout(&out));
    let failed: Vec<&Outcome> = outcomes.iter().filter(|(_, status)| *status != 200).collect();
    assert!(failed.is_empty(), "{} of {} requests failed: {failed:?}", failed.len(), outcomes.len());
    for host in HOSTS {
        assert_eq!(get(host, "/version", false), (200, good.clone()), "{host}");
        assert_eq!(get(host, "/version", true), (200, good.clone()), "{host}");
        let running = on_host(lab, host, "docker ps --filter label=service=canary --format '{{.Names}}'");
        assert_eq!(running, format!("canary-web-{good}"), "{host}: only the promoted version runs");
        assert_eq!(canary_file_on(lab, host), "", "{host}");
    }

    // A manual canary: `canary status` shows it, `canary abort` takes it back.
    assert!(app.ok(&["canary", "status"]).contains("No canary"));
    let v4 = app.commit("v4");
    app.ok(&["deploy", "--canary", "--canary-list", "beta"]);
    for host in HOSTS {
        assert_eq!(get(host, "/version", true).1, v4, "{host}: the canary's user");
        assert_eq!(get(host, "/version", false).1, good, "{host}: everyone else");
        assert_eq!(canary_file_on(lab, host), v4, "{host}");
    }
    let status = app.ok(&["canary", "status"]);
    for host in HOSTS {
        assert!(
            status.contains(&format!("{host} web: canary {v4}: ")) && status.contains("everyone else: "),
            "{status}"
        );
    }
    let refused = app.wharf(&["deploy", "--canary"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains(&format!("A canary of version {v4} is on ")), "{}", stderr(&refused));
    // A plain deploy and a rollback are refused too: they would take the canary for the running
    // version.
    for args in [vec!["deploy", "-P"], vec!["rollback", v1.as_str()]] {
        let refused = app.wharf(&args);
        assert_eq!(refused.status.code(), Some(1), "{args:?}");
        assert!(stderr(&refused).contains(&format!("A canary of version {v4} is on ")), "{}", stderr(&refused));
    }
    app.ok(&["canary", "abort"]);
    for host in HOSTS {
        assert_eq!(get(host, "/version", true), (200, good.clone()), "{host}");
    }
    app.ok(&["remove", "-y"]);
}

#[test]
fn blue_green_no_switch_then_promote_or_discard() {
    let Some((_guard, lab)) = lab() else { return };
    let (app, _, blue) = deployed_app(lab, "");

    // Green booted and health-checked beside blue; nobody gets it, with the cookie or without.
    let green = app.commit("green");
    let load = Load::start();
    let out = app.ok(&["deploy", "--no-switch"]);
    assert!(out.contains(&format!("Version {green} is ready on 10.200.0.1, 10.200.0.2")), "{out}");
    for host in HOSTS {
        assert_eq!(get(host, "/version", true).1, blue, "{host}");
        assert_eq!(get(host, "/version", false).1, blue, "{host}");
        assert_eq!(
            on_host(lab, host, &format!("docker inspect -f '{{{{.State.Running}}}}' canary-web-{green}")),
            "true"
        );
    }
    // `promote`: every server switches, without a failed request.
    app.ok(&["promote"]);
    let outcomes = load.stop();
    let failed: Vec<&Outcome> = outcomes.iter().filter(|(_, status)| *status != 200).collect();
    assert!(outcomes.len() > 50 && failed.is_empty(), "{} of {} requests failed", failed.len(), outcomes.len());
    for host in HOSTS {
        assert_eq!(get(host, "/version", false), (200, green.clone()), "{host}");
        let running = on_host(lab, host, "docker ps --filter label=service=canary --format '{{.Names}}'");
        assert_eq!(running, format!("canary-web-{green}"), "{host}: blue is stopped");
    }

    // `discard`: the next version goes, everyone stays where they were.
    let next = app.commit("next");
    app.ok(&["deploy", "--no-switch"]);
    app.ok(&["discard"]);
    for host in HOSTS {
        assert_eq!(get(host, "/version", true), (200, green.clone()), "{host}");
        assert_eq!(on_host(lab, host, &format!("docker ps -aq --filter name=^canary-web-{next}$")), "", "{host}");
    }
    let nothing = app.wharf(&["promote"]);
    assert_eq!(nothing.status.code(), Some(1));
    assert!(stderr(&nothing).contains("No canary to promote"), "{}", stderr(&nothing));
    app.ok(&["remove", "-y"]);
}

#[test]
fn warm_rollback_is_a_proxy_switch_without_failed_requests() {
    let Some((_guard, lab)) = lab() else { return };
    let (app, _, v1) = deployed_app(lab, "x-wharf:\n  warm_versions: 1\n");
    let v2 = app.commit("v2");
    let out = app.ok(&["deploy"]);
    assert!(out.contains(&format!("Keeping version {v1} warm on 10.200.0.1")), "{out}");
    let running =
        |host: &str, v: &str| on_host(lab, host, &format!("docker inspect -f '{{{{.State.Running}}}}' canary-web-{v}"));
    let container_id =
        |host: &str, v: &str| on_host(lab, host, &format!("docker inspect -f '{{{{.Id}}}}' canary-web-{v}"));
    let mut warm_ids = vec![];
    for host in HOSTS {
        assert_eq!(get(host, "/version", false), (200, v2.clone()), "{host}");
        assert_eq!(running(host, &v1), "true", "{host}: v1 stays warm");
        warm_ids.push(container_id(host, &v1));
    }

    let load = Load::start();
    assert!(eventually(std::time::Duration::from_secs(10), || load.count() >= 8), "the load did not start");
    let before = load.count();
    let started = std::time::Instant::now();
    let out = app.ok(&["rollback", &v1]);
    let took = started.elapsed();
    let outcomes = load.stop();
    eprintln!("warm rollback took {took:?}; {before} requests before it, {} in all", outcomes.len());
    assert!(out.contains(&format!("Switch back to the running container of version {v1} (warm)")), "{out}");
    assert!(outcomes.len() > before, "no request was made during the rollback");
    let failed = outcomes.iter().filter(|(_, status)| *status != 200).count();
    assert_eq!(failed, 0, "{failed} of {} requests failed during the rollback", outcomes.len());
    for (host, warm_id) in HOSTS.iter().zip(&warm_ids) {
        assert_eq!(get(host, "/version", false), (200, v1.clone()), "{host}");
        assert_eq!(&container_id(host, &v1), warm_id, "{host}: the warm container serves, none was booted");
        assert_eq!(running(host, &v2), "false", "{host}: the version rolled back from stops");
    }
    app.ok(&["remove", "-y"]);
}
