//! Clients that stall, over raw sockets, while normal traffic keeps flowing: a connection that
//! never sends a request, one that dribbles header lines (slowloris), an idle keep-alive
//! connection, a request body that stops half-way and a client that stops reading the response
//! are each disconnected after their timeout; at `--max-connections`, new clients take the
//! places of the longest-waiting connections, and when every connection is busy they wait for one
//! to finish rather than being refused.

use crate::support::load::Load;
use crate::support::raw::{self, read_response, read_until_closed};
use crate::support::*;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// How long a client may wait to see a stalled connection closed: the timeouts here are 1s;
/// this leaves room for a loaded machine.
const GENEROUS: Duration = Duration::from_secs(8);
const TIMEOUT_FLAGS: [&str; 4] =
    ["--http-header-timeout=1s", "--http-idle-timeout=1s", "--http-body-timeout=1s", "--http-write-timeout=1s"];

/// Asserts the connection was closed by the proxy within `GENEROUS`, not before `at_least`.
fn closed_after(what: &str, closed: bool, took: Duration, at_least: Duration) {
    assert!(closed, "{what}: still open after {GENEROUS:?}");
    assert!(took >= at_least, "{what}: closed after {took:?}, before its timeout");
}

async fn silent(port: u16) -> Duration {
    let mut s = raw::connect(port).await;
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut s, GENEROUS).await;
    closed_after("a connection that sends nothing", closed, started.elapsed(), Duration::from_millis(800));
    started.elapsed()
}

async fn slowloris(port: u16) -> Duration {
    let s = raw::connect(port).await;
    let (mut reader, mut writer) = s.into_split();
    let started = Instant::now();
    writer.write_all(b"GET / HTTP/1.1\r\nHost: app.test\r\n").await.unwrap();
    let dribble = tokio::spawn(async move {
        for i in 0.. {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if writer.write_all(format!("X-Slow-{i}: 1\r\n").as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(GENEROUS, tokio::io::AsyncReadExt::read(&mut reader, &mut buf)).await;
    let closed = matches!(read, Ok(Ok(0)) | Ok(Err(_)));
    dribble.abort();
    closed_after("a client dribbling header lines", closed, started.elapsed(), Duration::from_millis(800));
    started.elapsed()
}

async fn idle_keep_alive(port: u16) -> Duration {
    let mut s = raw::connect(port).await;
    s.write_all(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n").await.unwrap();
    let (head, body) = read_response(&mut s).await;
    assert_eq!((raw::status(&head), body.as_str()), (200, "A"), "{head}");
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut s, GENEROUS).await;
    closed_after("an idle keep-alive connection", closed, started.elapsed(), Duration::from_millis(800));
    started.elapsed()
}

async fn partial_body(port: u16) -> Duration {
    let mut s = raw::connect(port).await;
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: app.test\r\nContent-Length: 100\r\n\r\n0123456789").await.unwrap();
    let started = Instant::now();
    let (answer, closed) = read_until_closed(&mut s, GENEROUS).await;
    let answer = String::from_utf8_lossy(&answer).to_string();
    closed_after("a request body that stops half-way", closed, started.elapsed(), Duration::from_millis(800));
    assert_eq!(raw::status(&answer), 408, "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    started.elapsed()
}

/// Asks for a large answer and reads none of it for a while: the proxy gives up on the client.
async fn slow_reader(port: u16) -> usize {
    const SIZE: usize = 64 << 20;
    let mut s = raw::connect(port).await;
    s.write_all(format!("GET /big?n={SIZE} HTTP/1.1\r\nHost: app.test\r\n\r\n").as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (got, closed) = read_until_closed(&mut s, Duration::from_secs(30)).await;
    assert!(closed, "a client that reads nothing: still open");
    assert!(got.len() < SIZE, "a client that reads nothing got the whole answer ({} bytes)", got.len());
    got.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stalled_clients_are_disconnected_while_others_are_served() {
    let proxy = Proxy::start_with_run_args(&TIMEOUT_FLAGS);
    let a = Backend::start("A").await;
    proxy.ok(&["deploy", "app", &a.target()]);
    let load = Load::start(&proxy.url("/"), 4, &["A"], Duration::from_secs(10));
    let port = proxy.http_port;
    let (silent, silent_tls, slowloris, idle, body, read) = tokio::join!(
        silent(port),
        silent(proxy.https_port),
        slowloris(port),
        idle_keep_alive(port),
        partial_body(port),
        slow_reader(port)
    );
    eprintln!(
        "closed after: silent {silent:?} (HTTPS port: {silent_tls:?}), slowloris {slowloris:?}, idle {idle:?}, \
         partial body {body:?}; slow reader got {read} bytes"
    );
    let outcome = load.stop().await;
    eprintln!("meanwhile {} requests answered", outcome.ok);
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    assert!(outcome.ok > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_beyond_the_cap_take_the_places_of_waiting_ones() {
    // Long timeouts: here only the cap closes connections.
    let proxy = Proxy::start_with_run_args(&[
        "--max-connections=20",
        "--http-header-timeout=60s",
        "--http-idle-timeout=60s",
        "--http-body-timeout=60s",
    ]);
    let a = Backend::start("A").await;
    proxy.ok(&["deploy", "app", &a.target()]);
    // New visitors, each request on its own connection. (An idle keep-alive connection may be
    // closed at the limit, as nginx closes them: a client retries a request that raced with the
    // close on a new connection, which this load does not do.)
    let load = Load::start_fresh(&proxy.url("/"), 4, &["A"], Duration::from_secs(10));
    let port = proxy.http_port;

    let mut held = vec![];
    for _ in 0..20 {
        let mut s = raw::connect(port).await;
        s.write_all(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n").await.unwrap();
        let (head, _) = read_response(&mut s).await;
        assert_eq!(raw::status(&head), 200, "{head}");
        held.push(s); // idle keep-alive
    }
    for _ in 0..20 {
        let mut s = raw::connect(port).await;
        s.write_all(b"GET / HTTP/1.1\r\nHost: app.test\r\nX-Slow: 1\r\n").await.unwrap(); // never finished
        held.push(s);
    }
    for _ in 0..20 {
        held.push(raw::connect(port).await); // says nothing
    }
    load.until_answered(load.answered() + 500, Duration::from_secs(60)).await;

    let mut still_open = 0;
    for s in &mut held {
        let (_, closed) = read_until_closed(s, Duration::from_millis(100)).await;
        if !closed {
            still_open += 1;
        }
    }
    let outcome = load.stop().await;
    eprintln!("{still_open} of 60 stalled connections still open; {} requests answered", outcome.ok);
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    assert!(still_open <= 20, "{still_open} stalled connections open with --max-connections=20");
    // A fresh connection still gets in.
    assert_eq!(get(&proxy.url("/")).await, (200, "A".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_every_connection_busy_a_new_client_waits_for_a_free_one() {
    let proxy = Proxy::start_with_run_args(&["--max-connections=4"]);
    let a = Backend::start("A").await;
    proxy.ok(&["deploy", "app", &a.target()]);
    let slow: Vec<_> = (0..4)
        .map(|_| {
            let url = proxy.url("/slow?ms=1500");
            tokio::spawn(async move {
                let r = fresh_client().get(&url).send().await.unwrap();
                let answer = (r.status().as_u16(), r.text().await.unwrap());
                (answer, Instant::now())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = fresh_client().get(proxy.url("/")).send().await.expect("the fifth client is served, not refused");
    let fifth = ((r.status().as_u16(), r.text().await.unwrap()), Instant::now());
    let mut first_slow_done = None::<Instant>;
    for s in slow {
        let (answer, done) = s.await.unwrap();
        assert_eq!(answer, (200, "A".to_string()));
        first_slow_done = Some(first_slow_done.map_or(done, |f| f.min(done)));
    }
    assert_eq!(fifth.0, (200, "A".to_string()));
    assert!(fifth.1 >= first_slow_done.unwrap(), "the fifth client was served before a place was free");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_come_from_flags_or_the_environment() {
    let proxy = Proxy::start_with_env(&[("KAMAL_PROXY_HTTP_IDLE_TIMEOUT", "1s")]);
    let a = Backend::start("A").await;
    proxy.ok(&["deploy", "app", &a.target()]);
    idle_keep_alive(proxy.http_port).await;

    let out = std::process::Command::new(BIN).args(["run", "--http-idle-timeout=10"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Error: invalid argument \"10\" for \"--http-idle-timeout\" flag: time: missing unit in duration \"10\"\n"
    );
    let out = std::process::Command::new(BIN).args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--http-header-timeout",
        "--http-idle-timeout",
        "--http-body-timeout",
        "--http-write-timeout",
        "--max-connections",
    ] {
        assert!(help.contains(flag), "{flag} in:\n{help}");
    }
}
