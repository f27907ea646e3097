//! Test support: the real `kamal-proxy` binary run on loopback with its own home and socket, and
//! real HTTP backends (hyper) that name themselves in every answer.
#![allow(dead_code)]

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub mod load;
pub mod pebble;
pub mod raw;

pub const BIN: &str = env!("CARGO_BIN_EXE_kamal-proxy");

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct Proxy {
    pub dir: tempfile::TempDir,
    pub http_port: u16,
    pub https_port: u16,
    pub metrics_port: Option<u16>,
    /// Extra environment of the server process (`kamal-proxy run`), applied at every `spawn`.
    pub env: Vec<(String, String)>,
    /// Extra flags of `kamal-proxy run`, applied at every `spawn`.
    pub run_args: Vec<String>,
    /// A command `kamal-proxy run` runs under (e.g. `strace ...`), if any.
    pub run_under: Vec<String>,
    child: Option<Child>,
}

impl Proxy {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Self {
        Self::launch(extra.contains(&"--metrics"), &[], &[], &[])
    }

    /// `start`, with extra environment variables for the server process (e.g. `SSL_CERT_FILE`).
    pub fn start_with_env(env: &[(&str, &str)]) -> Self {
        Self::launch(false, env, &[], &[])
    }

    /// `start`, with extra flags for `kamal-proxy run` (e.g. `--http-idle-timeout=1s`).
    pub fn start_with_run_args(args: &[&str]) -> Self {
        Self::launch(false, &[], args, &[])
    }

    /// `start`, with `kamal-proxy run` run by `under` (`under[0] under[1..] kamal-proxy run ...`).
    pub fn start_under(under: &[&str], env: &[(&str, &str)]) -> Self {
        Self::launch(false, env, &[], under)
    }

    fn launch(metrics: bool, env: &[(&str, &str)], run_args: &[&str], under: &[&str]) -> Self {
        let strings = |v: &[&str]| v.iter().map(|a| a.to_string()).collect();
        let mut p = Proxy {
            dir: tempfile::tempdir().unwrap(),
            http_port: free_port(),
            https_port: free_port(),
            metrics_port: metrics.then(free_port),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            run_args: strings(run_args),
            run_under: strings(under),
            child: None,
        };
        p.spawn();
        p
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("kamal-proxy.sock")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("proxy.log")
    }

    pub fn state_path(&self) -> PathBuf {
        self.home().join(".config/kamal-proxy/kamal-proxy.state")
    }

    /// (Re)starts `kamal-proxy run`, appending its stdout/stderr to proxy.log.
    pub fn spawn(&mut self) {
        std::fs::create_dir_all(self.home()).unwrap();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log_path()).unwrap();
        let mut cmd = match self.run_under.split_first() {
            Some((program, args)) => {
                let mut cmd = Command::new(program);
                cmd.args(args).arg(BIN);
                cmd
            }
            None => Command::new(BIN),
        };
        cmd.arg("run")
            .arg(format!("--http-port={}", self.http_port))
            .arg(format!("--https-port={}", self.https_port))
            .env("HOME", self.home())
            .env("KAMAL_PROXY_SOCKET", self.socket())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(&self.run_args)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log));
        if let Some(m) = self.metrics_port {
            cmd.arg(format!("--metrics-port={m}"));
        }
        self.child = Some(cmd.spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::os::unix::net::UnixStream::connect(self.socket()).is_ok()
                && std::net::TcpStream::connect(("127.0.0.1", self.http_port)).is_ok()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("proxy did not start:\n{}", self.log());
    }

    /// SIGTERM and wait.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Under a wrapper (`run_under`), the server is the wrapper's child: signal it too.
            for pid in descendants(child.id()) {
                unsafe { libc_kill(pid as i32, 15) };
            }
            unsafe { libc_kill(child.id() as i32, 15) };
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Runs a client command (`deploy`, `list`, ...) against this proxy.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(BIN).args(args).env("HOME", self.home()).env("KAMAL_PROXY_SOCKET", self.socket()).output().unwrap()
    }

    pub async fn cli_async(&self, args: &[&str]) -> Output {
        let mut cmd = tokio::process::Command::new(BIN);
        cmd.args(args).env("HOME", self.home()).env("KAMAL_PROXY_SOCKET", self.socket());
        cmd.output().await.unwrap()
    }

    /// `cli`, asserting success.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "kamal-proxy {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.http_port, path)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            for pid in descendants(c.id()) {
                unsafe { libc_kill(pid as i32, 9) };
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The processes below `pid` (its children, theirs...), from /proc.
fn descendants(pid: u32) -> Vec<u32> {
    let mut found = vec![];
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten();
    for task in tasks {
        let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for child in children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()) {
            found.push(child);
            found.extend(descendants(child));
        }
    }
    found
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A backend on loopback. Every answer names it; `/up` follows `healthy`. Dropping it closes its
/// listener and every connection to it, as stopping a container does.
pub struct Backend {
    pub name: String,
    pub addr: SocketAddr,
    pub healthy: Arc<AtomicBool>,
    pub hits: Arc<AtomicUsize>,
    stop: tokio_util::sync::CancellationToken,
}

impl Backend {
    pub async fn start(name: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let healthy = Arc::new(AtomicBool::new(true));
        let hits = Arc::new(AtomicUsize::new(0));
        let (n, h, c) = (name.to_string(), healthy.clone(), hits.clone());
        let stop = tokio_util::sync::CancellationToken::new();
        let stopped = stop.clone();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = tokio::select! {
                    _ = stopped.cancelled() => return,
                    accepted = listener.accept() => match accepted { Ok(a) => a, Err(_) => continue },
                };
                let (n, h, c, stopped) = (n.clone(), h.clone(), c.clone(), stopped.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let (n, h, c) = (n.clone(), h.clone(), c.clone());
                        async move { Ok::<_, Infallible>(answer(req, &n, &h, &c).await) }
                    });
                    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    tokio::select! {
                        _ = builder.serve_connection_with_upgrades(TokioIo::new(tcp), svc) => {}
                        _ = stopped.cancelled() => {}
                    }
                });
            }
        });
        Backend { name: name.to_string(), addr, healthy, hits, stop }
    }

    pub fn target(&self) -> String {
        format!("--target={}", self.addr)
    }

    pub fn set_healthy(&self, on: bool) {
        self.healthy.store(on, Ordering::SeqCst);
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

fn text(s: impl Into<String>) -> Response<Body> {
    Response::new(Full::new(Bytes::from(s.into())).map_err(|e| match e {}).boxed_unsync())
}

fn query_param(req: &Request<Incoming>, key: &str) -> Option<u64> {
    req.uri().query()?.split('&').find_map(|kv| kv.strip_prefix(&format!("{key}="))?.parse().ok())
}

async fn answer(mut req: Request<Incoming>, name: &str, healthy: &AtomicBool, hits: &AtomicUsize) -> Response<Body> {
    let path = req.uri().path().to_string();
    if path == "/up" {
        let mut r = text(if healthy.load(Ordering::SeqCst) { "up" } else { "down" });
        if !healthy.load(Ordering::SeqCst) {
            *r.status_mut() = hyper::StatusCode::SERVICE_UNAVAILABLE;
        }
        return r;
    }
    hits.fetch_add(1, Ordering::SeqCst);
    match path.as_str() {
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(query_param(&req, "ms").unwrap_or(1000))).await;
            text(name)
        }
        "/echo" => {
            let headers: serde_json::Map<String, serde_json::Value> =
                req.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").into())).collect();
            let uri = req.uri().to_string();
            let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let mut r = text(
                serde_json::json!({"name": name, "uri": uri, "headers": headers, "body_len": body.len()}).to_string(),
            );
            r.headers_mut().insert("content-type", "application/json".parse().unwrap());
            r
        }
        "/big" => text("x".repeat(query_param(&req, "n").unwrap_or(1000) as usize)),
        "/status" => {
            let mut r = text(name);
            *r.status_mut() =
                hyper::StatusCode::from_u16(query_param(&req, "code").unwrap_or(200) as u16).unwrap_or_default();
            r
        }
        "/sse" => {
            let stream = futures_util::stream::unfold(0, |i| async move {
                match i {
                    0 => Some((
                        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(Frame::data(Bytes::from("data: one\n\n"))),
                        1,
                    )),
                    1 => {
                        tokio::time::sleep(Duration::from_millis(1500)).await;
                        Some((Ok(Frame::data(Bytes::from("data: two\n\n"))), 2))
                    }
                    _ => None,
                }
            });
            let mut r = Response::new(StreamBody::new(stream).boxed_unsync());
            r.headers_mut().insert("content-type", "text/event-stream".parse().unwrap());
            r
        }
        "/ws" => {
            let key = req.headers().get("sec-websocket-key").cloned().unwrap();
            let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
            let on_upgrade = hyper::upgrade::on(&mut req);
            let name = name.to_string();
            tokio::spawn(async move {
                let Ok(upgraded) = on_upgrade.await else { return };
                let mut ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    tokio_tungstenite::tungstenite::protocol::Role::Server,
                    None,
                )
                .await;
                while let Some(Ok(msg)) = ws.next().await {
                    if msg.is_text() {
                        let _ = ws.send(format!("{name}:{}", msg.into_text().unwrap()).into()).await;
                    }
                }
            });
            let mut r = text("");
            *r.status_mut() = hyper::StatusCode::SWITCHING_PROTOCOLS;
            r.headers_mut().insert("connection", "Upgrade".parse().unwrap());
            r.headers_mut().insert("upgrade", "websocket".parse().unwrap());
            r.headers_mut().insert("sec-websocket-accept", accept.parse().unwrap());
            r
        }
        _ => text(name),
    }
}

/// A client that keeps connections alive.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

/// A client that opens a new connection for every request.
pub fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(30)).build().unwrap()
}

pub async fn get(url: &str) -> (u16, String) {
    let r = client().get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

pub fn read_state(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}
