//! Soak: at least 100,000 requests through 20 deploy switches, from workers on keep-alive
//! connections and workers opening a new connection per request, with no failed request and no
//! timeout. Each switch is what Kamal does: a new target (a new container) is deployed with
//! `kamal-proxy deploy`, and as soon as the deploy returns the old target is stopped.
//!
//! Then the same on a one-CPU server with a slow disk (every fsync made to take 4 s by strace,
//! skipped without strace): each deploy writes the state file, and requests must not wait for it.

use crate::support::load::{Load, Outcome};
use crate::support::*;
use std::time::{Duration, Instant};

/// Runs `workers` of load (each request limited to `limit`) until `requests` have been answered
/// and `switches` deploys have each replaced the target and stopped the old one.
async fn soak(proxy: &Proxy, requests: usize, switches: usize, limit: Duration) -> Outcome {
    let started = Instant::now();
    let names: Vec<String> = (0..=switches).map(|i| format!("v{i}")).collect();
    let bodies: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut current = Backend::start(&names[0]).await;
    proxy.ok(&["deploy", "app", &current.target()]);
    let load = Load::start(&proxy.url("/"), 12, &bodies, limit);
    for (i, name) in names.iter().enumerate().skip(1) {
        load.until_answered(requests * i / (switches + 1), Duration::from_secs(120)).await;
        let next = Backend::start(name).await;
        let out =
            proxy.cli_async(&["deploy", "app", &next.target(), "--deploy-timeout=30s", "--drain-timeout=30s"]).await;
        assert!(out.status.success(), "deploy {name}: {}", stderr(&out));
        drop(std::mem::replace(&mut current, next)); // the old container stops
    }
    load.until_answered(requests, Duration::from_secs(300)).await;
    let outcome = load.stop().await;
    eprintln!(
        "soak: {} requests answered, {} failed ({} timeouts), {switches} switches, {:.1}s",
        outcome.ok,
        outcome.failures.len(),
        outcome.timeouts,
        started.elapsed().as_secs_f64()
    );
    assert!(current.hits.load(std::sync::atomic::Ordering::SeqCst) > 0, "the last target took traffic");
    outcome
}

fn assert_clean(outcome: &Outcome, requests: usize) {
    assert_eq!(outcome.timeouts, 0, "timeouts: {:?}", &outcome.failures[..outcome.failures.len().min(5)]);
    assert!(
        outcome.failures.is_empty(),
        "{} failed, first: {:?}",
        outcome.failures.len(),
        &outcome.failures[..outcome.failures.len().min(5)]
    );
    assert!(outcome.ok >= requests, "only {} requests answered", outcome.ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_request_fails_or_times_out_through_20_deploy_switches() {
    let proxy = Proxy::start();
    // A request not answered within 30 s counts as a timeout: it hung somewhere.
    let outcome = soak(&proxy, 100_000, 20, Duration::from_secs(30)).await;
    assert_clean(&outcome, 100_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_disk_does_not_hold_up_requests_on_a_one_cpu_server() {
    let Ok(strace) = which("strace") else {
        wharf_testkit::skip_without_tool(
            "a_slow_disk_does_not_hold_up_requests_on_a_one_cpu_server",
            "no strace (apt-get install strace)",
        );
        return;
    };
    // Every fsync of the proxy takes 4 s; one worker thread, as tokio starts on a one-CPU server.
    let trace_dir = tempfile::tempdir().unwrap();
    let trace = trace_dir.path().join("strace.log");
    let under = [
        strace.as_str(),
        "-qq",
        "-f",
        "--seccomp-bpf",
        "-o",
        trace.to_str().unwrap(),
        "-e",
        "trace=fsync,fdatasync",
        "-e",
        "inject=fsync,fdatasync:delay_exit=4000000",
    ];
    let proxy = Proxy::start_under(&under, &[("TOKIO_WORKER_THREADS", "1")]);
    // Each deploy writes the state file (two fsyncs): 8 s in which no request may wait 2.5 s.
    let outcome = soak(&proxy, 10_000, 3, Duration::from_millis(2500)).await;
    assert_clean(&outcome, 10_000);
    // The slow disk was there: strace delayed the proxy's fsyncs.
    let traced = std::fs::read_to_string(&trace).unwrap();
    assert!(traced.lines().any(|l| l.contains("fsync") && l.contains("(DELAYED)")), "no delayed fsync in:\n{traced}");
}

fn which(program: &str) -> Result<String, ()> {
    let out = std::process::Command::new("sh").arg("-c").arg(format!("command -v {program}")).output().map_err(drop)?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() && !path.is_empty() {
        Ok(path)
    } else {
        Err(())
    }
}
