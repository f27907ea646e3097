//! Deploy semantics over real sockets: zero downtime under continuous load, health-gated swaps,
//! drain (in-flight requests finish; past the drain timeout they get 504; websockets close at
//! once), and state that survives a restart.

use crate::support::*;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn zero_failed_requests_through_deploys_pause_and_resume_under_load() {
    let proxy = Proxy::start();
    let a = Backend::start("A").await;
    let b = Backend::start("B").await;
    proxy.ok(&["deploy", "app", &a.target(), "--drain-timeout=10s"]);

    // Half the workers reuse connections, half open a new one per request.
    let load = load::Load::start(&proxy.url("/"), 12, &["A", "B"], Duration::from_secs(30));
    // Slow requests in flight on the old target when the deploy starts must complete.
    let slow = tokio::spawn({
        let url = proxy.url("/slow?ms=1500");
        async move { get(&url).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    let out = proxy.cli_async(&["deploy", "app", &b.target(), "--drain-timeout=10s"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(started.elapsed() >= Duration::from_millis(900), "deploy returned before the old target drained");
    assert_eq!(slow.await.unwrap(), (200, "A".to_string()), "the slow request on the old target completes");

    let served_before = b.hits.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(b.hits.load(Ordering::SeqCst) > served_before, "traffic moved to B");
    let a_hits = a.hits.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(a.hits.load(Ordering::SeqCst), a_hits, "no traffic to A after the deploy");

    proxy.ok(&["deploy", "app", &a.target()]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.ok(&["pause", "app", "--max-pause=10s"]);
    tokio::time::sleep(Duration::from_millis(400)).await;
    proxy.ok(&["resume", "app"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.ok(&["deploy", "app", &b.target()]);

    // Keep the load going until at least 10,000 requests have been answered.
    load.until_answered(10_000, Duration::from_secs(120)).await;
    let outcome = load.stop().await;
    eprintln!("answered {} requests, {} failed", outcome.ok, outcome.failures.len());
    assert!(
        outcome.failures.is_empty(),
        "{} failed requests, first: {:?}",
        outcome.failures.len(),
        outcome.failures.first()
    );
    assert!(outcome.ok >= 10_000, "only {} requests", outcome.ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_never_gets_healthy_changes_nothing() {
    let proxy = Proxy::start();
    let a = Backend::start("A").await;
    let sick = Backend::start("SICK").await;
    sick.set_healthy(false);
    proxy.ok(&["deploy", "app", &a.target()]);
    let state_before = std::fs::read(proxy.state_path()).unwrap();
    let list_before = proxy.ok(&["list"]);

    let out = proxy.cli(&["deploy", "app", &sick.target(), "--deploy-timeout=1s", "--health-check-interval=100ms"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "Error: target failed to become healthy within configured timeout (1s)\n");
    assert_eq!(get(&proxy.url("/")).await, (200, "A".into()));
    assert_eq!(std::fs::read(proxy.state_path()).unwrap(), state_before, "state untouched");
    assert_eq!(proxy.ok(&["list"]), list_before);
    assert_eq!(sick.hits.load(Ordering::SeqCst), 0);

    // An unreachable target: the same, and the error names the timeout.
    let out = proxy.cli(&["deploy", "app", "--target=127.0.0.1:1", "--deploy-timeout=500ms"]);
    assert_eq!(stderr(&out), "Error: target failed to become healthy within configured timeout (500ms)\n");
    assert_eq!(get(&proxy.url("/")).await, (200, "A".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_cut_off_answers_504_and_force_skips_health() {
    let proxy = Proxy::start();
    let a = Backend::start("A").await;
    let b = Backend::start("B").await;
    proxy.ok(&["deploy", "app", &a.target()]);
    let slow = tokio::spawn({
        let url = proxy.url("/slow?ms=5000");
        async move { get(&url).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    proxy.ok(&["deploy", "app", &b.target(), "--drain-timeout=500ms"]);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(450) && took < Duration::from_secs(4), "deploy took {took:?}");
    let (status, body) = slow.await.unwrap();
    assert_eq!(status, 504);
    assert!(body.contains("504"), "{body}");

    // --force: no health wait; the target takes traffic once its first check passes.
    b.set_healthy(false);
    let c = Backend::start("C").await;
    c.set_healthy(false);
    let started = Instant::now();
    proxy.ok(&["deploy", "app", &c.target(), "--force", "--health-check-interval=100ms", "--drain-timeout=1s"]);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(get(&proxy.url("/")).await.0, 503, "no healthy target yet");
    c.set_healthy(true);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(get(&proxy.url("/")).await, (200, "C".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_pass_through_and_close_on_drain() {
    use futures_util::{SinkExt, StreamExt};
    let proxy = Proxy::start();
    let a = Backend::start("A").await;
    let b = Backend::start("B").await;
    proxy.ok(&["deploy", "app", &a.target()]);
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/ws", proxy.http_port)).await.unwrap();
    ws.send("hello".into()).await.unwrap();
    let echoed = ws.next().await.unwrap().unwrap();
    assert_eq!(echoed.into_text().unwrap().as_str(), "A:hello");

    let started = Instant::now();
    proxy.ok(&["deploy", "app", &b.target(), "--drain-timeout=20s"]);
    assert!(started.elapsed() < Duration::from_secs(5), "the websocket did not hold the drain");
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) => return true,
                Some(Ok(m)) if m.is_close() => return true,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .unwrap();
    assert!(closed);
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/ws", proxy.http_port)).await.unwrap();
    ws.send("again".into()).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap().into_text().unwrap().as_str(), "B:again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_survives_a_restart_and_is_rechecked() {
    let mut proxy = Proxy::start();
    let a = Backend::start("A").await;
    proxy.ok(&["deploy", "app", &a.target(), "--host=app.test", "--health-check-path=/up"]);
    proxy.ok(&["stop", "app", "--message=Back soon", "--drain-timeout=1s"]);
    let state = read_state(&proxy.state_path());
    assert_eq!(state[0]["name"], "app");
    assert_eq!(state[0]["active_targets"][0], a.addr.to_string());
    assert_eq!(state[0]["options"]["hosts"][0], "app.test");
    assert_eq!(state[0]["pause_controller"]["state"], 2);

    proxy.stop();
    proxy.spawn();
    let list = proxy.ok(&["list"]);
    assert!(list.contains("app.test") && list.contains("stopped"), "{list}");
    let r = client().get(proxy.url("/")).header("host", "app.test").send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("Back soon"));
    proxy.ok(&["resume", "app"]);
    let r = client().get(proxy.url("/")).header("host", "app.test").send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "A");

    // A restored target that is down gets no traffic until it passes its health check.
    a.set_healthy(false);
    proxy.stop();
    proxy.spawn();
    let r = client().get(proxy.url("/")).header("host", "app.test").send().await.unwrap();
    assert_eq!(r.status(), 503);
    a.set_healthy(true);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let r = client().get(proxy.url("/")).header("host", "app.test").send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "A");
}

/// Stopping (SIGTERM, as `docker stop` sends) while keep-alive clients are busy: each is told to
/// reconnect by a `Connection: close` answer, and none finds its connection closed under a
/// request; the listener is closed at once, so that new clients are refused, not queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_closes_keep_alive_connections_by_answer_not_under_a_request() {
    use wharf_testkit::http_load::HttpLoad;
    let mut proxy = Proxy::start();
    let a = Backend::start("A").await;
    proxy.ok(&["deploy", "app", &a.target()]);
    let addr = format!("127.0.0.1:{}", proxy.http_port).parse().unwrap();
    let load = HttpLoad::start(&[addr], "app.test", "/", 8, Duration::from_secs(5));
    load.until_answered(2_000, Duration::from_secs(30));
    assert_eq!(load.failed(), 0);
    let stopping = std::time::Instant::now();
    proxy.stop();
    let stopped = stopping.elapsed();
    std::thread::sleep(Duration::from_millis(200));
    let outcome = load.stop();
    let kept_alive: Vec<&String> = outcome.failures.iter().filter(|f| f.contains("kept-alive")).collect();
    assert!(kept_alive.is_empty(), "{} kept-alive requests failed: {kept_alive:?}", kept_alive.len());
    // After the stop, new clients are refused.
    assert!(
        outcome.failures.iter().any(|f| f.contains("connect: ") && f.contains("refused")),
        "{:?}",
        outcome.failures
    );
    assert!(stopped < Duration::from_secs(5), "the stop took {stopped:?}");
}
