//! Watching a run (docs/events.md): the JSON stream of real deploys on the hostlab (a good one,
//! and one whose new version never becomes healthy, with its diagnosis), the live view under a
//! pseudo-terminal, Kamal's output unchanged when stdout is not a terminal, `NO_COLOR`, and the
//! shell completions.

use crate::WHARF;
use serde_json::Value;
use std::process::Command;
use wharf_testkit::lab::*;
use wharf_testkit::runner::{stderr, stdout, Runner};

/// Every stdout line of a `--output json` run, parsed (each must be a JSON object of schema 1).
fn events(out: &str) -> Vec<Value> {
    out.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            assert_eq!(v["schema"], 1, "{line}");
            assert!(v["time_ms"].as_u64().is_some() && v["elapsed_ms"].as_u64().is_some(), "{line}");
            v
        })
        .collect()
}

fn of<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

const HOSTS: [&str; 2] = ["10.200.0.1", "10.200.0.2"];

#[test]
fn json_stream_of_a_good_deploy_and_of_a_broken_one_with_its_diagnosis() {
    let Some((_guard, lab)) = lab() else { return };
    let app = AppDir::new(lab, WHARF);
    app.write(
        "config/deploy.yml",
        &deploy_yml("events", "events.test", "", "").replace("deploy_timeout: 20", "deploy_timeout: 5"),
    );
    app.commit("first");
    app.ok(&["deploy"]);
    let good = app.commit("second");

    // A good deploy: stdout is the stream and nothing else; Kamal's lines are on stderr.
    let out = app.wharf(&["deploy", "--output", "json", "-v"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stream = stdout(&out);
    let evs = events(&stream);
    assert_eq!(evs.first().unwrap()["event"], "run_started");
    assert_eq!(evs.first().unwrap()["command"], "deploy");
    let configured = of(&evs, "run_configured");
    assert_eq!(configured[0]["version"], good.as_str());
    assert_eq!(configured[0]["hosts"], serde_json::json!(HOSTS));
    let phases: Vec<&str> = of(&evs, "phase_started").iter().map(|e| e["phase"].as_str().unwrap()).collect();
    assert_eq!(phases, ["build", "lock", "proxy", "stale_containers", "boot", "prune", "unlock"]);
    for host in HOSTS {
        let steps: Vec<&Value> = of(&evs, "step_finished").into_iter().filter(|e| e["host"] == host).collect();
        assert!(steps.len() >= 5, "{host}: {steps:?}");
        // Each step's end pairs with its start (exchanges in flight together interleave).
        let started: Vec<&Value> = of(&evs, "step_started").into_iter().filter(|e| e["host"] == host).collect();
        assert_eq!(started.len(), steps.len(), "{host}");
        for s in &steps {
            let matching = started.iter().filter(|b| b["step"] == s["step"] && b["phase"] == s["phase"]).count();
            assert_eq!(matching, 1, "{host}: {s}");
        }
        // The lock's exchange (on the primary, alongside the pull) counts to the lock.
        let locked = steps.iter().filter(|e| e["phase"] == "lock").count();
        assert_eq!(locked, usize::from(host == HOSTS[0]), "{host}: {steps:?}");
        // The exchange that moves traffic (the proxy's health checks, then the switch) is its own.
        assert_eq!(steps.iter().filter(|e| e["phase"] == "switch").count(), 1, "{host}: {steps:?}");
        assert!(steps.iter().all(|s| s["duration_ms"].as_u64().is_some()), "{steps:?}");
        // With -v the commands are in the stream, as -v shows them.
        assert!(
            of(&evs, "step_started")
                .iter()
                .any(|e| e["host"] == host && e["commands"].to_string().contains("docker run --detach")),
            "{host}"
        );
        let checks: Vec<&Value> = of(&evs, "health_check").into_iter().filter(|e| e["host"] == host).collect();
        assert_eq!(checks.len(), 1, "{checks:?}");
        assert_eq!(checks[0]["healthy"], true);
    }
    let lock: Vec<&str> = evs.iter().filter_map(|e| e["event"].as_str().filter(|k| k.starts_with("lock_"))).collect();
    assert_eq!(lock, ["lock_acquired", "lock_released"]);
    let last = evs.last().unwrap();
    assert_eq!(last["event"], "run_finished");
    assert_eq!((last["outcome"].as_str(), last["exit_code"].as_i64()), (Some("succeeded"), Some(0)));
    let timed: Vec<&str> = last["phases"].as_array().unwrap().iter().map(|p| p["phase"].as_str().unwrap()).collect();
    assert!(timed.contains(&"boot") && timed.contains(&"build"), "{timed:?}");
    assert_eq!(last["hosts"].as_array().unwrap().len(), 2);
    // Secrets never appear (the registry password, the app's secret).
    assert!(!stream.contains("NEKOT") && !stream.contains("not-checked-by-the-test-registry"), "{stream}");
    assert!(stderr(&out).contains("Build and push app image..."), "Kamal's lines go to stderr");

    // A version that never becomes healthy: the failure, the diagnosis per host, the outcome.
    let start = std::fs::read_to_string(app.path().join("start.sh")).unwrap();
    app.write("start.sh", &start.replace("echo ok > /www/up", "echo 'broken: no /up page' >&2"));
    let broken = app.commit("broken");
    let out = app.wharf(&["deploy", "--output", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let evs = events(&stdout(&out));
    let failed = of(&evs, "command_failed");
    assert!(
        failed.iter().any(|e| e["command"].as_str().unwrap().contains("kamal-proxy deploy events-web")),
        "{failed:?}"
    );
    assert!(failed.iter().all(|e| HOSTS.contains(&e["host"].as_str().unwrap())), "{failed:?}");
    let diagnoses = of(&evs, "diagnosis");
    assert_eq!(diagnoses.len(), 2, "{diagnoses:?}");
    for d in &diagnoses {
        assert_eq!(d["role"], "web");
        assert_eq!(d["version"], broken.as_str());
        assert_eq!(d["container_status"], "running", "{d}");
        assert_eq!(d["health_check_url"], format!("http://events-web-{broken}:80/up"));
        assert!(d["failure"].as_str().unwrap().contains("target failed to become healthy"), "{d}");
        assert!(d["logs"].to_string().contains("broken: no /up page"), "{d}");
        assert!(d["proxy_services"].as_str().unwrap().contains("events-web"), "{d}");
        // The proxy's own health checks: each got the app's 404 for the missing /up page.
        let checks = d["health_checks"].as_array().unwrap();
        assert!(!checks.is_empty(), "{d}");
        for check in checks {
            assert_eq!(check["answer"], "unexpected status (404)", "{d}");
            assert!(check["time"].as_str().is_some_and(|t| t.starts_with("20")), "{d}");
        }
    }
    let checks = of(&evs, "health_check");
    let mut checked: Vec<&str> = checks.iter().map(|e| e["host"].as_str().unwrap()).collect();
    checked.sort();
    assert_eq!(checked, HOSTS, "one health check per host: {checks:?}");
    for check in &checks {
        assert_eq!(check["healthy"], false, "{check}");
        assert!(check["answer"].as_str().unwrap().contains("target failed to become healthy"), "{check}");
    }
    let last = evs.last().unwrap();
    assert_eq!((last["outcome"].as_str(), last["exit_code"].as_i64()), (Some("failed"), Some(1)));
    assert!(last["error"]["message"].as_str().unwrap().contains("target failed to become healthy"), "{last}");
    assert_eq!(of(&evs, "lock_released").len(), 1, "the lock was released");
    for host in HOSTS {
        assert_eq!(curl(host, "/version", Some("events.test")), (200, good.clone()), "{host} still serves");
    }

    // Not a terminal, no --output: Kamal's lines only, as before (no view, no summary, no JSON).
    app.write("start.sh", &start);
    app.commit("fixed");
    let text = app.ok(&["deploy"]);
    assert!(text.contains("Start container with version"), "{text}");
    assert!(!text.contains("Phases:") && !text.contains('{') && !text.contains("\x1b["), "{text}");
    app.ok(&["remove", "-y"]);
}

/// `wharf ARGS` run on a pseudo-terminal (`script` gives it one), with the lab's environment
/// and `extra_env`: whether it succeeded, and what the terminal showed.
fn on_a_terminal(app: &AppDir, args: &str, extra_env: &[(&str, &str)]) -> (bool, String) {
    // The environment the runner would give wharf, handed to `script` (and so to wharf).
    let env_of = app.runner().command(&[]);
    let mut script = Command::new("script");
    script.args(["-qfec", &format!("{WHARF} {args}"), "/dev/null"]).current_dir(app.path());
    for (k, v) in env_of.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    script.envs(extra_env.iter().copied()).env("TERM", "xterm");
    let out = script.output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string())
}

#[test]
fn live_view_on_a_terminal_and_no_color() {
    let Some((_guard, lab)) = lab() else { return };
    let app = AppDir::new(lab, WHARF);
    app.write("config/deploy.yml", &deploy_yml("view", "view.test", "", ""));
    app.commit("first");
    let (ok, screen) = on_a_terminal(&app, "deploy", &[]);
    assert!(ok, "{screen}");
    // Kamal's lines (in colour on a terminal), each server's line, the overall line, the summary.
    assert!(screen.contains("\x1b[35mBuild and push app image...\x1b[0m"), "{screen}");
    for host in HOSTS {
        assert!(screen.contains(&format!("● {host}")), "{host}: {screen}");
    }
    assert!(screen.contains("deploy · boot · 2 servers"), "{screen}");
    assert!(screen.contains("Phases: build ") && screen.contains("boot "), "{screen}");
    assert!(screen.contains("Servers:"), "{screen}");

    // NO_COLOR: the same view, no colours.
    let (ok, screen) = on_a_terminal(&app, "deploy", &[("NO_COLOR", "1")]);
    assert!(ok, "{screen}");
    assert!(screen.contains("Start container with version") && screen.contains("Phases:"), "{screen}");
    // Each server's time, by phase: booting and switching traffic apart.
    for host in HOSTS {
        let line = screen
            .lines()
            .find(|l| l.starts_with(&format!("    {host}  ")))
            .unwrap_or_else(|| panic!("{host}: {screen}"));
        assert!(line.contains("(pull ") || line.contains("(build ") || line.contains("(proxy "), "{line}");
        assert!(line.contains(", boot ") && line.contains(", switch "), "{line}");
    }
    for colour in ["\x1b[35m", "\x1b[31m", "\x1b[1m", "\x1b[2m"] {
        assert!(!screen.contains(colour), "{colour:?} in {screen}");
    }
    // -v on a terminal: Kamal's lines only.
    let (ok, screen) = on_a_terminal(&app, "deploy -v", &[]);
    assert!(ok, "{screen}");
    assert!(!screen.contains("Phases:") && !screen.contains(" · "), "{screen}");
    app.ok(&["remove", "-y"]);
}

#[test]
fn shell_completions() {
    let runner = Runner::new(WHARF, std::env::temp_dir());
    let bash = runner.ok(&["completion", "bash"]);
    assert!(bash.contains("_wharf()") && bash.contains("complete -F _wharf") && bash.contains("deploy"), "{bash}");
    let zsh = runner.ok(&["completion", "zsh"]);
    assert!(zsh.starts_with("#compdef wharf"), "{zsh}");
    let fish = runner.ok(&["completion", "fish"]);
    assert!(fish.contains("complete -c wharf") && fish.contains("rollback"), "{fish}");
    let out = runner.run(&["completion", "tcsh"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("invalid value 'tcsh'"), "{}", stderr(&out));
}
