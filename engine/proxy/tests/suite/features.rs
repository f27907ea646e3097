//! Routing, buffering, streaming, TLS, rollout, maintenance, logs, metrics and the CLI's output,
//! each checked through the real binary over real sockets.

use crate::support::*;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn host_get(proxy: &Proxy, host: &str, path: &str) -> reqwest::RequestBuilder {
    client().get(proxy.url(path)).header("host", host)
}

async fn body_of(r: reqwest::RequestBuilder) -> (u16, String) {
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_by_host_wildcard_and_path_prefix() {
    let proxy = Proxy::start();
    let (exact, wild, any, api) = (
        Backend::start("exact").await,
        Backend::start("wild").await,
        Backend::start("any").await,
        Backend::start("api").await,
    );
    proxy.ok(&["deploy", "exact", &exact.target(), "--host=app.test"]);
    proxy.ok(&["deploy", "wild", &wild.target(), "--host=*.wild.test"]);
    proxy.ok(&["deploy", "any", &any.target()]);
    proxy.ok(&["deploy", "api", &api.target(), "--host=app.test", "--path-prefix=/api"]);

    assert_eq!(body_of(host_get(&proxy, "app.test", "/")).await.1, "exact");
    assert_eq!(body_of(host_get(&proxy, "app.test:8080", "/x")).await.1, "exact");
    assert_eq!(body_of(host_get(&proxy, "a.wild.test", "/")).await.1, "wild");
    assert_eq!(body_of(host_get(&proxy, "other.test", "/")).await.1, "any");
    assert_eq!(body_of(host_get(&proxy, "app.test", "/apix")).await.1, "exact");
    let echoed: serde_json::Value =
        serde_json::from_str(&body_of(host_get(&proxy, "app.test", "/api/echo?q=1;2")).await.1).unwrap();
    assert_eq!(echoed["name"], "api");
    assert_eq!(echoed["uri"], "/echo?q=1;2", "prefix stripped, query kept verbatim");

    // A second service claiming a taken host is refused; the first keeps serving.
    let intruder = Backend::start("intruder").await;
    let out = proxy.cli(&["deploy", "intruder", &intruder.target(), "--host=app.test"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "Error: host settings conflict with another service\n");
    assert_eq!(body_of(host_get(&proxy, "app.test", "/")).await.1, "exact");

    // Removing a service frees its host; unknown services are an error.
    proxy.ok(&["rm", "any"]);
    assert_eq!(body_of(host_get(&proxy, "other.test", "/")).await.0, 404);
    let out = proxy.cli(&["remove", "nope"]);
    assert_eq!((out.status.code(), stderr(&out)), (Some(1), "Error: service not found\n".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_prints_upstreams_table() {
    let proxy = Proxy::start();
    let a = Backend::start("A").await;
    proxy.ok(&["deploy", "web", &a.target(), "--host=a.test,b.test"]);
    let out = proxy.ok(&["ls"]);
    let target = a.addr.to_string();
    let expected = format!(
        "\x1b[3;94mService\x1b[0m  \x1b[3;94mHost\x1b[0m           \x1b[3;94mPath\x1b[0m  \x1b[3;94mTarget\x1b[0m{}  \x1b[3;94mState\x1b[0m    \x1b[3;94mTLS\x1b[0m  \n\
         \x1b[1;34mweb\x1b[0m      \x1b[m{}\x1b[0m  \x1b[m/\x1b[0m     \x1b[m{}\x1b[0m  \x1b[mrunning\x1b[0m  \x1b[mno\x1b[0m   \n",
        " ".repeat(target.len() - "Target".len()),
        "a.test,b.test",
        target
    );
    assert_eq!(out, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_errors_match_upstream() {
    let proxy = Proxy::start();
    let cases: &[(&[&str], &str)] = &[
        (&["deploy", "app", "--target=127.0.0.1:1", "--colour=red"], "Error: unknown flag: --colour\n"),
        (&["deploy", "app"], "Error: required flag(s) \"target\" not set\n"),
        (
            &["deploy", "app", "--target=127.0.0.1:1", "--max-request-body=10"],
            "Error: max-request-body can only be set when request buffering is enabled\n",
        ),
        (
            &["deploy", "app", "--target=127.0.0.1:1", "--tls"],
            "Error: service options invalid: host must be set when using TLS\n",
        ),
        (&["deploy", "app", "--target=http://x:1"], "Error: http://x:1 :invalid host pattern\n"),
        (
            &["deploy", "app", "--target=127.0.0.1:1", "--deploy-timeout=10"],
            "Error: invalid argument \"10\" for \"--deploy-timeout\" flag: time: missing unit in duration \"10\"\n",
        ),
        (&["rollout", "set", "app"], "Error: at least one of the flags in the group [percent list] is required\n"),
        (&["pause", "nope"], "Error: service not found\n"),
        (&["deploy"], "Error: accepts 1 arg(s), received 0\n"),
        (&["deploy", "app", "--target=127.0.0.1:1", "--tls=maybe"], "Error: invalid argument \"maybe\" for \"--tls\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax\n"),
        (&["deploy", "app", "--target=127.0.0.1:1", "--tls-certificate-path=/x.pem"], "Error: if any flags in the group [tls-certificate-path tls-private-key-path] are set they must all be set; missing [tls-private-key-path]\n"),
    ];
    for (args, expected) in cases {
        let out = proxy.cli(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(stderr(&out), *expected, "{args:?}");
    }
    // No server on the socket: a clear error naming the socket.
    let out = std::process::Command::new(BIN)
        .args(["list"])
        .env("KAMAL_PROXY_SOCKET", "/nonexistent/kp.sock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "Error: dial unix /nonexistent/kp.sock: connect: no such file or directory\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_robin_with_continued_health_checks() {
    let proxy = Proxy::start();
    let (a, b) = (Backend::start("A").await, Backend::start("B").await);
    proxy.ok(&["deploy", "app", &format!("--target={},{}", a.addr, b.addr), "--health-check-interval=100ms"]);
    let mut seen = vec![];
    for _ in 0..6 {
        seen.push(get(&proxy.url("/")).await.1);
    }
    assert_eq!(seen.iter().filter(|s| *s == "A").count(), 3, "{seen:?}");
    assert_eq!(seen.iter().filter(|s| *s == "B").count(), 3, "{seen:?}");
    b.set_healthy(false);
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..6 {
        assert_eq!(get(&proxy.url("/")).await.1, "A");
    }
    b.set_healthy(true);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let back: Vec<String> = futures_util::future::join_all((0..6).map(|_| get_owned(proxy.url("/")))).await;
    assert!(back.iter().any(|s| s == "B"), "B returns to the pool: {back:?}");
}

async fn get_owned(url: String) -> String {
    get(&url).await.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_targets_with_writer_affinity() {
    let proxy = Proxy::start();
    let (w, r) = (Backend::start("writer").await, Backend::start("reader").await);
    proxy.ok(&["deploy", "app", &w.target(), &format!("--read-target={}", r.addr), "--writer-affinity-timeout=2s"]);
    assert_eq!(get(&proxy.url("/")).await.1, "reader");
    let post = client().post(proxy.url("/")).send().await.unwrap();
    let cookie = post.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.starts_with("kamal-writer="), "{cookie}");
    assert_eq!(post.text().await.unwrap(), "writer");
    let pair = cookie.split(';').next().unwrap().to_string();
    let (_, body) = body_of(client().get(proxy.url("/")).header("cookie", pair)).await;
    assert_eq!(body, "writer", "reads stick to the writer inside the affinity window");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_buffering_limits_and_spill() {
    let proxy = Proxy::start();
    let a = Backend::start("A").await;
    proxy.ok(&["deploy", "app", &a.target(), "--buffer-requests", "--buffer-memory=1000", "--max-request-body=100000"]);
    let r = client().post(proxy.url("/echo")).body(vec![b'x'; 50_000]).send().await.unwrap();
    let echoed: serde_json::Value = r.json().await.unwrap();
    assert_eq!(echoed["body_len"], 50_000, "spilled to disk and forwarded whole");
    assert_eq!(echoed["headers"]["content-length"], "50000");
    let hits = a.hits.load(Ordering::SeqCst);
    let r = client().post(proxy.url("/echo")).body(vec![b'x'; 100_001]).send().await.unwrap();
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("413"));
    assert_eq!(a.hits.load(Ordering::SeqCst), hits, "an oversized body never reaches the target");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_buffering_never_holds_event_streams() {
    let proxy = Proxy::start();
    let a = Backend::start("A").await;
    proxy.ok(&["deploy", "app", &a.target(), "--buffer-responses", "--max-response-body=2000"]);
    let started = Instant::now();
    let mut r = client().get(proxy.url("/sse")).send().await.unwrap();
    let first = r.chunk().await.unwrap().unwrap();
    assert_eq!(&first[..], b"data: one\n\n");
    assert!(started.elapsed() < Duration::from_millis(1000), "first event arrived after {:?}", started.elapsed());
    let second = r.chunk().await.unwrap().unwrap();
    assert_eq!(&second[..], b"data: two\n\n");
    assert_eq!(get(&proxy.url("/big?n=1500")).await.1.len(), 1500);
    assert_eq!(get(&proxy.url("/big?n=2500")).await.0, 500, "over --max-response-body");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_timeout_gives_504_and_dead_target_502() {
    let proxy = Proxy::start();
    let a = Backend::start("A").await;
    proxy.ok(&["deploy", "app", &a.target(), "--target-timeout=300ms"]);
    assert_eq!(get(&proxy.url("/slow?ms=2000")).await.0, 504);
    drop(a);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(get(&proxy.url("/")).await.0, 502);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_headers_and_request_ids() {
    let proxy = Proxy::start();
    let a = Backend::start("A").await;
    proxy.ok(&["deploy", "app", &a.target()]);
    let r = client()
        .get(proxy.url("/echo"))
        .header("x-forwarded-for", "203.0.113.9")
        .header("host", "site.test")
        .send()
        .await
        .unwrap();
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["headers"]["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
    assert_eq!(e["headers"]["x-forwarded-proto"], "http");
    assert_eq!(e["headers"]["x-forwarded-host"], "site.test");
    assert_eq!(e["headers"]["host"], "site.test");
    assert_eq!(e["headers"]["x-kamal-target"], a.addr.to_string());
    assert_eq!(e["headers"]["x-request-id"].as_str().unwrap().len(), 36);

    proxy.ok(&["deploy", "app", &a.target(), "--forward-headers=false"]);
    let r = client().get(proxy.url("/echo")).header("x-forwarded-for", "203.0.113.9").send().await.unwrap();
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["headers"]["x-forwarded-for"], "127.0.0.1", "untrusted forwarded headers are replaced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_pages_and_health_path_while_stopped() {
    let proxy = Proxy::start();
    let a = Backend::start("A").await;
    let pages = proxy.dir.path().join("pages");
    std::fs::create_dir_all(&pages).unwrap();
    std::fs::write(pages.join("503.html"), "<p>custom: {{ if .Message }}{{ .Message }}{{ else }}down{{ end }}</p>")
        .unwrap();
    proxy.ok(&["deploy", "app", &a.target(), &format!("--error-pages={}", pages.display())]);
    proxy.ok(&["stop", "app", "--message=Upgrading the <db>", "--drain-timeout=1s"]);
    let (status, body) = get(&proxy.url("/")).await;
    assert_eq!((status, body.as_str()), (503, "<p>custom: Upgrading the &lt;db&gt;</p>"));
    assert_eq!(get(&proxy.url("/up")).await.0, 200, "health path answers 200 while stopped");
    proxy.ok(&["resume", "app"]);
    assert_eq!(get(&proxy.url("/")).await, (200, "A".into()));

    // pause: requests wait; past --max-pause they get 504.
    proxy.ok(&["pause", "app", "--max-pause=300ms"]);
    assert_eq!(get(&proxy.url("/")).await.0, 504);
    proxy.ok(&["pause", "app", "--max-pause=10s"]);
    let waiting = tokio::spawn({
        let url = proxy.url("/");
        async move { get(&url).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished());
    proxy.ok(&["resume", "app"]);
    assert_eq!(waiting.await.unwrap(), (200, "A".into()));

    let missing = proxy.cli(&["deploy", "app", &a.target(), "--error-pages=/nonexistent/pages"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).starts_with("Error: unable to load error pages"), "{}", stderr(&missing));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_by_cookie_allow_list_and_percent() {
    let proxy = Proxy::start();
    let (a, b) = (Backend::start("A").await, Backend::start("B").await);
    proxy.ok(&["deploy", "app", &a.target()]);
    let out = proxy.cli(&["rollout", "set", "app", "--percent=10"]);
    assert_eq!(stderr(&out), "Error: rollout target not set\n");
    proxy.ok(&["rollout", "deploy", "app", &b.target()]);
    proxy.ok(&["rollout", "set", "app", "--percent=0", "--list=beta-user"]);
    let with_cookie = |v: &str| client().get(proxy.url("/")).header("cookie", format!("kamal-rollout={v}"));
    assert_eq!(body_of(with_cookie("beta-user")).await.1, "B");
    assert_eq!(body_of(with_cookie("someone")).await.1, "A");
    assert_eq!(get(&proxy.url("/")).await.1, "A");
    proxy.ok(&["rollout", "set", "app", "--percent=100"]);
    assert_eq!(body_of(with_cookie("someone")).await.1, "B");
    assert_eq!(get(&proxy.url("/")).await.1, "A", "no cookie, no rollout");
    proxy.ok(&["rollout", "stop", "app"]);
    assert_eq!(body_of(with_cookie("beta-user")).await.1, "A");
    // Wharf: the rollout targets went with the stop.
    let out = proxy.cli(&["rollout", "set", "app", "--percent=10"]);
    assert_eq!(stderr(&out), "Error: rollout target not set\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_per_cohort_on_the_socket_and_in_prometheus() {
    // Wharf: what the rollout's users got, apart from everyone else's answers.
    let proxy = Proxy::start_with(&["--metrics"]);
    let (a, b) = (Backend::start("A").await, Backend::start("B").await);
    proxy.ok(&["deploy", "app", &a.target()]);
    proxy.ok(&["rollout", "deploy", "app", &b.target()]);
    proxy.ok(&["rollout", "set", "app", "--percent=0", "--list=beta-user"]);
    for _ in 0..6 {
        let r = client().get(proxy.url("/status?code=500")).header("cookie", "kamal-rollout=beta-user").send().await;
        assert_eq!(r.unwrap().status().as_u16(), 500);
    }
    for _ in 0..10 {
        assert_eq!(get(&proxy.url("/")).await, (200, "A".into()));
    }
    let out = proxy.cli(&["stats", "app"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (main, rollout) = (&stats["app"]["main"], &stats["app"]["rollout"]);
    assert_eq!((main["requests"].as_u64(), main["status"]["2xx"].as_u64()), (Some(10), Some(10)), "{stats}");
    assert_eq!((rollout["requests"].as_u64(), rollout["status"]["5xx"].as_u64()), (Some(6), Some(6)), "{stats}");
    let bucketed: u64 = main["latency_buckets"].as_array().unwrap().iter().map(|b| b[1].as_u64().unwrap()).sum();
    assert_eq!(bucketed, 10, "the health checks are not counted: {stats}");
    // Every service without a name; an unknown one is an error.
    assert!(String::from_utf8_lossy(&proxy.cli(&["stats"]).stdout).contains("\"app\":{\"main\""));
    let missing = proxy.cli(&["stats", "nope"]);
    assert_eq!((missing.status.code(), stderr(&missing)), (Some(1), "Error: service not found\n".to_string()));

    let metrics = get(&format!("http://127.0.0.1:{}/metrics", proxy.metrics_port.unwrap())).await.1;
    for line in [
        "kamal_proxy_cohort_requests_total{class=\"5xx\",cohort=\"rollout\",service=\"app\"} 6",
        "kamal_proxy_cohort_requests_total{class=\"2xx\",cohort=\"main\",service=\"app\"} 10",
        "kamal_proxy_cohort_request_duration_seconds_count{cohort=\"rollout\",service=\"app\"} 6",
    ] {
        assert!(metrics.contains(line), "{line} in:\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_request_logs_and_prometheus_metrics() {
    let proxy = Proxy::start_with(&["--metrics"]);
    let a = Backend::start("A").await;
    proxy.ok(&["deploy", "app", &a.target(), "--log-request-header=X-Custom", "--log-response-header=Content-Type"]);
    let r = client()
        .get(proxy.url("/hello?x=1"))
        .header("x-custom", "yes")
        .header("user-agent", "tester")
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "A");
    // The proxy's JSON log line for the request to `path`.
    let request_line = |path: &str| {
        let log = proxy.log();
        log.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["msg"] == "Request" && v["path"] == path)
            .unwrap_or_else(|| panic!("no request log line for {path} in:\n{log}"))
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let line = request_line("/hello");
    assert_eq!(line["status"], 200);
    assert_eq!(line["service"], "app");
    assert_eq!(line["target"], a.addr.to_string());
    assert_eq!(line["query"], "x=1");
    assert_eq!(line["user_agent"], "tester");
    assert_eq!(line["req_x_custom"], "yes");
    assert_eq!(line["resp_content_length"], 1);
    assert_eq!(line["level"], "INFO");
    assert!(line["duration"].as_u64().unwrap() > 0);
    // The response's Content-Type is logged (the backend's /echo sets it).
    client().get(proxy.url("/echo")).send().await.unwrap().text().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let echo = request_line("/echo");
    assert_eq!(echo["resp_content_type"], "application/json", "{echo}");

    let metrics = get(&format!("http://127.0.0.1:{}/metrics", proxy.metrics_port.unwrap())).await.1;
    assert!(
        metrics.contains("kamal_proxy_http_requests_total{method=\"GET\",service=\"app\",status=\"200\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("kamal_proxy_http_request_duration_seconds_bucket"), "{metrics}");
    assert!(metrics.contains("kamal_proxy_http_in_flight_requests{service=\"app\"} 0"), "{metrics}");
}
