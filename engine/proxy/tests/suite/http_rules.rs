//! HTTP as RFC 9110/9112 and nginx have it, byte for byte over raw sockets: two `Host` headers
//! (or none in HTTP/1.1) get 400; host names match whatever their case; an absolute-form request
//! goes where its URI's authority says, not its `Host` header; a malformed chunked body gets 400,
//! not 502; the HTTP/2 preface is not served on the plain HTTP port; underscore spellings of the
//! forwarded headers do not reach the target.

use crate::support::raw::{self, exchange, read_response};
use crate::support::*;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

const LIMIT: Duration = Duration::from_secs(10);

async fn two_services() -> (Proxy, Backend, Backend) {
    let proxy = Proxy::start();
    let (a, b) = (Backend::start("A").await, Backend::start("B").await);
    proxy.ok(&["deploy", "a", &a.target(), "--host=a.example"]);
    proxy.ok(&["deploy", "b", &b.target(), "--host=b.example"]);
    (proxy, a, b)
}

/// One request on a new connection: (status, body) of the answer.
async fn ask(port: u16, request: &str) -> (u16, String) {
    let mut s = raw::connect(port).await;
    s.write_all(request.as_bytes()).await.unwrap();
    let (head, body) = read_response(&mut s).await;
    (raw::status(&head), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_or_missing_host_headers_are_rejected() {
    let (proxy, a, b) = two_services().await;
    let port = proxy.http_port;
    let answer = exchange(port, b"GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", LIMIT).await;
    assert_eq!(raw::status(&answer), 400, "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    let answer = exchange(port, b"GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n", LIMIT).await;
    assert_eq!(raw::status(&answer), 400, "HTTP/1.1 without Host: {answer}");
    assert_eq!(a.hits.load(std::sync::atomic::Ordering::SeqCst) + b.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    // HTTP/1.0 needs no Host: it goes to the service for any host, if there is one.
    let answer = exchange(port, b"GET / HTTP/1.0\r\n\r\n", LIMIT).await;
    assert_eq!(raw::status(&answer), 404, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_names_match_whatever_their_case() {
    let (proxy, _a, _b) = two_services().await;
    let port = proxy.http_port;
    for host in ["A.Example", "a.EXAMPLE:80", "a.example."] {
        assert_eq!(ask(port, &format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n")).await, (200, "A".into()), "{host}");
    }
    assert_eq!(ask(port, "GET / HTTP/1.1\r\nHost: B.EXAMPLE\r\n\r\n").await, (200, "B".into()));
    // A service deployed with a capitalised host answers lowercase requests too.
    let c = Backend::start("C").await;
    proxy.ok(&["deploy", "c", &c.target(), "--host=C.Example"]);
    assert_eq!(ask(port, "GET / HTTP/1.1\r\nHost: c.example\r\n\r\n").await, (200, "C".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absolute_form_request_goes_where_its_uri_says() {
    let (proxy, _a, _b) = two_services().await;
    let (status, body) =
        ask(proxy.http_port, "GET http://a.example/echo?x=1 HTTP/1.1\r\nHost: b.example\r\n\r\n").await;
    assert_eq!(status, 200, "{body}");
    let echoed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(echoed["name"], "A", "routed by the URI's authority");
    assert_eq!(echoed["headers"]["host"], "a.example", "the target sees the URI's authority as Host");
    assert_eq!(echoed["headers"]["x-forwarded-host"], "a.example");
    assert_eq!(echoed["uri"], "/echo?x=1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_chunked_body_gets_400_not_502() {
    let (proxy, _a, _b) = two_services().await;
    for (what, body) in [
        ("a chunk size that is not hex", "zz\r\nhello\r\n0\r\n\r\n"),
        ("a chunk longer than its size", "2\r\nhello\r\n0\r\n\r\n"),
    ] {
        let request = format!("POST /echo HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n{body}");
        let answer = exchange(proxy.http_port, request.as_bytes(), LIMIT).await;
        assert_eq!(raw::status(&answer), 400, "{what}: {answer}");
        assert!(answer.to_ascii_lowercase().contains("connection: close"), "{what}: {answer}");
    }
    // A well-formed one passes.
    let request = "POST /echo HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let (status, body) = ask(proxy.http_port, request).await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["body_len"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http2_preface_is_not_served_on_the_plain_port() {
    let (proxy, a, _b) = two_services().await;
    // The client preface, then an empty SETTINGS frame, as an h2c client with prior knowledge sends.
    let mut preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    preface.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    let answer = exchange(proxy.http_port, &preface, LIMIT).await;
    // An HTTP/2 server would answer with its own SETTINGS frame (type 4 in the fourth byte).
    assert!(
        answer.is_empty() || raw::status(&answer) == 400,
        "expected a 400 or a closed connection, got {:?}",
        answer.as_bytes().iter().take(16).collect::<Vec<_>>()
    );
    assert_eq!(a.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert_eq!(ask(proxy.http_port, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n").await, (200, "A".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn underscore_spellings_of_forwarded_headers_do_not_reach_the_target() {
    let proxy = Proxy::start();
    let a = Backend::start("A").await;
    proxy.ok(&["deploy", "a", &a.target(), "--client-ip-header=CF-Connecting-IP"]);
    let request = "GET /echo HTTP/1.1\r\nHost: a.example\r\n\
                   X_Forwarded_For: 6.6.6.6\r\nX-Forwarded_Proto: https\r\nx_forwarded_host: evil.example\r\n\
                   X_Kamal_Target: evil:80\r\nCF_Connecting_IP: 6.6.6.6\r\nX_Api_Key: kept\r\n\r\n";
    let (status, body) = ask(proxy.http_port, request).await;
    assert_eq!(status, 200, "{body}");
    let echoed: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut names: Vec<String> = echoed["headers"].as_object().unwrap().keys().cloned().collect();
    names.retain(|n| n.contains('_'));
    assert_eq!(names, vec!["x_api_key".to_string()], "only the unrelated underscore header passes");
    assert_eq!(echoed["headers"]["x-forwarded-for"], "127.0.0.1");
    assert_eq!(echoed["headers"]["x-forwarded-proto"], "http");
    assert_eq!(echoed["headers"]["x-forwarded-host"], "a.example");
}
