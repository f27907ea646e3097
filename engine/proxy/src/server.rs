//! `kamal-proxy run`: the HTTP and HTTPS listeners, the metrics listener, the command socket,
//! and the per-request pipeline around the router (request ID, the request's host, routing, JSON
//! request log and metrics once the response body has been sent). Client connections are
//! counted and timed by `connections`; the plain HTTP port speaks HTTP/1 only (HTTP/2 is offered
//! over TLS, as nginx and upstream do).
//!
//! Stopping (SIGTERM, as `docker stop` sends) closes the listeners at once, so that new clients
//! are refused rather than queued, and drains the open connections without a race: for
//! [`DRAIN_GRACE`] every HTTP/1 response says `Connection: close` (a busy keep-alive client
//! learns to reconnect from the answer itself, instead of finding its connection closed under
//! the next request), then the connections still idle are closed and the requests in flight are
//! let finish.

use crate::body::{self, Body};
use crate::connections::{Conn, RequestGuard, Table};
use crate::limits::{enabled, Limits};
use crate::request_host::{self, RequestHost};
use crate::router::Router;
use crate::service::{Connection, RequestNotes};
use crate::tracked_io::TrackedIo;
use crate::{commands, log_info, log_warn, metrics, pages};
use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub struct RunConfig {
    pub bind: String,
    pub http_port: u16,
    pub https_port: u16,
    pub metrics_port: u16,
    pub state_path: std::path::PathBuf,
    pub socket_path: std::path::PathBuf,
    pub limits: Limits,
}

/// How long a stopping server keeps answering on open connections (each answer closing its
/// connection) before it closes the idle ones.
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// The listeners' actual addresses (ports may be 0 in tests).
pub struct Running {
    pub http: SocketAddr,
    pub https: SocketAddr,
    pub metrics: Option<SocketAddr>,
    pub router: Arc<Router>,
    shutdown: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, lets open connections finish for up to 10 s, then returns.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(10), futures_util::future::join_all(self.tasks)).await;
        log_info!("Server stopped");
    }
}

/// What every connection's task shares.
struct Listening {
    http: u16,
    https: u16,
    router: Arc<Router>,
    table: Table,
    shutdown: CancellationToken,
}

pub async fn start(config: RunConfig) -> anyhow::Result<Running> {
    let router = Router::new(config.state_path.clone());
    // Restored targets are health-checked before the listeners open (bounded, so one dead target
    // cannot hold the proxy down; it joins when it turns healthy).
    if let Ok(waits) = router.restore_state() {
        let all = futures_util::future::join_all(waits.iter().map(|lb| lb.wait_until_healthy(Duration::from_secs(5))));
        let results = all.await;
        if results.iter().any(Result::is_err) {
            log_warn!("Some restored targets are not healthy yet; they get traffic once they are");
        }
    }
    let shutdown = CancellationToken::new();
    let mut tasks = vec![];
    let metrics_addr = if config.metrics_port != 0 {
        metrics::enable();
        let listener = TcpListener::bind((config.bind.as_str(), config.metrics_port)).await?;
        let addr = listener.local_addr()?;
        tasks.push(tokio::spawn(serve_metrics(listener, shutdown.clone())));
        log_info!("Metrics enabled", "address" => addr.to_string());
        Some(addr)
    } else {
        None
    };
    let http = TcpListener::bind((config.bind.as_str(), config.http_port))
        .await
        .map_err(|e| anyhow::anyhow!("listen tcp :{}: {e}", config.http_port))?;
    let https = TcpListener::bind((config.bind.as_str(), config.https_port))
        .await
        .map_err(|e| anyhow::anyhow!("listen tcp :{}: {e}", config.https_port))?;
    let (http_addr, https_addr) = (http.local_addr()?, https.local_addr()?);
    let listening = Arc::new(Listening {
        http: http_addr.port(),
        https: https_addr.port(),
        router: router.clone(),
        table: Table::new(config.limits),
        shutdown: shutdown.clone(),
    });
    tasks.push(tokio::spawn(accept_loop(http, false, listening.clone())));
    tasks.push(tokio::spawn(accept_loop(https, true, listening.clone())));
    let commands = commands::listen(&config.socket_path, router.clone())?;
    tasks.push(tokio::spawn(commands::serve(commands, router.clone(), shutdown.clone(), config.socket_path.clone())));
    log_info!("Server started", "http" => listening.http, "https" => listening.https);
    Ok(Running { http: http_addr, https: https_addr, metrics: metrics_addr, router, shutdown, tasks })
}

async fn accept_loop(listener: TcpListener, tls: bool, listening: Arc<Listening>) {
    let connections = tokio_util::task::TaskTracker::new();
    let shutdown = listening.shutdown.clone();
    loop {
        // At the connection limit with nothing to evict, new clients wait in the accept queue.
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = listening.table.wait_for_room() => {}
        }
        let (tcp, client_addr) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    log_warn!("Accept failed", "error" => e.to_string());
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Room may have gone while accept waited: hold the new client (unread) until there is.
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = listening.table.wait_for_room() => {}
        }
        let _ = tcp.set_nodelay(true);
        let slot = listening.table.admit(Some(std::os::fd::AsRawFd::as_raw_fd(&tcp)));
        let listening = listening.clone();
        connections.spawn(async move {
            let conn = slot.conn().clone();
            let io = TrackedIo::new(tcp, slot, enabled(listening.table.limits().write_timeout));
            let served = async {
                if !tls {
                    return serve_connection(TokioIo::new(io), client_addr, false, &conn, &listening).await;
                }
                match crate::tls::accept(listening.router.as_ref(), io).await {
                    Ok(Some(stream)) => serve_connection(TokioIo::new(stream), client_addr, true, &conn, &listening).await,
                    Ok(None) => {}
                    Err(crate::tls::AcceptError::Certificate(e)) => {
                        log_warn!("Unable to obtain a TLS certificate", "client_addr" => client_addr.to_string(), "error" => e)
                    }
                    Err(e) => crate::log_debug!("TLS handshake failed", "client_addr" => client_addr.to_string(), "error" => e.to_string()),
                }
            };
            tokio::select! {
                _ = served => {}
                reason = conn.closed() => {
                    crate::log_debug!("Closing connection", "client_addr" => client_addr.to_string(), "reason" => reason.as_str());
                }
            }
        });
    }
    // Closed now, not after the drain: a client that connects while the server stops is refused
    // at once (and can go elsewhere) instead of waiting in the queue to be reset.
    drop(listener);
    connections.close();
    connections.wait().await;
}

async fn serve_connection<I>(io: I, client_addr: SocketAddr, tls: bool, conn: &Arc<Conn>, listening: &Arc<Listening>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let svc = service_fn({
        let conn = conn.clone();
        let listening = listening.clone();
        move |req| {
            let guard = conn.begin_request();
            let listening = listening.clone();
            async move {
                let http1 = req.version() < http::Version::HTTP_2;
                let mut response = handle(req, client_addr, tls, &listening, guard).await;
                if http1 && listening.shutdown.is_cancelled() && response.status() != StatusCode::SWITCHING_PROTOCOLS {
                    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                Ok::<_, std::convert::Infallible>(response)
            }
        }
    });
    // Serves `conn` until it ends or the server stops; then for DRAIN_GRACE its answers close
    // it, and after that it is closed when idle (a request in flight finishes first).
    macro_rules! until_shutdown {
        ($conn:expr) => {{
            let conn = $conn;
            tokio::pin!(conn);
            let drained = async {
                listening.shutdown.cancelled().await;
                tokio::time::sleep(DRAIN_GRACE).await;
            };
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = drained => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        }};
    }
    if tls {
        // HTTP/2 or HTTP/1.1, as the client's preface says (ALPN offered both).
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder.http1().header_read_timeout(None);
        until_shutdown!(builder.serve_connection_with_upgrades(io, svc));
    } else {
        // HTTP/1 only: prior-knowledge HTTP/2 (h2c) is not served on the plain port; its
        // preface is not an HTTP/1.1 request, so the connection is closed.
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.header_read_timeout(None);
        until_shutdown!(builder.serve_connection(io, svc).with_upgrades());
    }
}

async fn handle(
    mut req: Request<Incoming>,
    client_addr: SocketAddr,
    tls: bool,
    listening: &Listening,
    guard: RequestGuard,
) -> Response<Body> {
    let started = Instant::now();
    if !req.headers().contains_key("x-request-id") {
        if let Ok(v) = HeaderValue::from_str(&request_id()) {
            req.headers_mut().insert("x-request-id", v);
        }
    }
    let port = if tls { listening.https } else { listening.http };
    let host = request_host::of(&req);
    let entry =
        LogEntry::from_request(&req, host.as_ref().map(|h| h.raw.as_str()).unwrap_or(""), client_addr, tls, port);
    let mut notes = RequestNotes::default();
    let response = match host {
        Err(reason) => {
            crate::log_debug!("Bad request", "client_addr" => client_addr.to_string(), "error" => reason);
            bad_request()
        }
        Ok(host) => route(req, host, client_addr, tls, listening, &mut notes).await,
    };
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        if let Some(conn) = guard.conn() {
            conn.upgraded();
        }
    }
    let (parts, body) = response.into_parts();
    let notes_response_headers = std::mem::take(&mut notes.log_response_headers);
    let logged = LoggedBody {
        inner: body,
        entry: Some((
            entry,
            notes,
            parts.status.as_u16(),
            response_header_values(&parts.headers, &notes_response_headers),
        )),
        bytes: 0,
        started,
        guard: Some(guard),
    };
    Response::from_parts(parts, body::boxed(logged))
}

async fn route(
    req: Request<Incoming>,
    host: RequestHost,
    client_addr: SocketAddr,
    tls: bool,
    listening: &Listening,
    notes: &mut RequestNotes,
) -> Response<Body> {
    match listening.router.route(&host.name, req.uri().path()) {
        Some((svc, route)) => {
            metrics::add_in_flight(&svc.name, 1.0);
            let body_timeout = enabled(listening.table.limits().body_timeout);
            let conn = Connection { client_addr, tls, body_timeout };
            let resp = svc.handle(req, host, &route, &conn, notes).await;
            metrics::add_in_flight(&svc.name, -1.0);
            resp
        }
        None => {
            let mut resp = Response::new(body::full(pages::default_page(404, "")));
            *resp.status_mut() = StatusCode::NOT_FOUND;
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            resp
        }
    }
}

/// 400 for a request the client got wrong; the connection is closed after it.
fn bad_request() -> Response<Body> {
    let mut resp = Response::new(body::full(pages::default_page(400, "")));
    *resp.status_mut() = StatusCode::BAD_REQUEST;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// The response headers the log line needs: the content type and each `--log-response-header`.
/// A random (version 4) UUID; a fast thread-local generator, as request IDs need no secrecy.
fn request_id() -> String {
    let bytes: [u8; 16] = fastrand::u128(..).to_le_bytes();
    uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().to_string()
}

fn response_header_values(h: &http::HeaderMap, logged: &[String]) -> Vec<(String, String)> {
    std::iter::once("content-type".to_string())
        .chain(logged.iter().map(|n| n.to_ascii_lowercase()))
        .map(|name| {
            let values: Vec<&str> = h.get_all(name.as_str()).iter().filter_map(|v| v.to_str().ok()).collect();
            (name, values.join(","))
        })
        .collect()
}

/// The request-side fields of the log line, captured before the request moves on.
struct LogEntry {
    host: String,
    port: u16,
    path: String,
    query: String,
    method: String,
    request_id: String,
    req_content_length: i64,
    req_content_type: String,
    client_addr: String,
    client_port: String,
    remote_addr: String,
    user_agent: String,
    proto: String,
    scheme: &'static str,
}

impl LogEntry {
    fn from_request(req: &Request<Incoming>, host: &str, client: SocketAddr, tls: bool, port: u16) -> Self {
        let h = req.headers();
        let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let xff = get("x-forwarded-for");
        Self {
            host: host.to_string(),
            port,
            path: req.uri().path().to_string(),
            query: req.uri().query().unwrap_or("").to_string(),
            method: req.method().to_string(),
            request_id: get("x-request-id"),
            req_content_length: h
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .unwrap_or(if req.body().is_end_stream() { 0 } else { -1 }),
            req_content_type: get("content-type"),
            client_addr: client.ip().to_string(),
            client_port: client.port().to_string(),
            remote_addr: if xff.is_empty() { client.ip().to_string() } else { xff },
            user_agent: get("user-agent"),
            proto: format!("{:?}", req.version()),
            scheme: if tls { "https" } else { "http" },
        }
    }
}

/// Wraps the response body; when it is done (or dropped), writes the request log line and the
/// metrics, as upstream does after the handler returns.
/// What the log line needs once the body is done: the request, the service's notes, the status
/// and the response headers asked for.
type PendingLog = (LogEntry, RequestNotes, u16, Vec<(String, String)>);

struct LoggedBody {
    inner: Body,
    entry: Option<PendingLog>,
    bytes: u64,
    started: Instant,
    /// Keeps the connection busy until the response is done.
    guard: Option<RequestGuard>,
}

impl HttpBody for LoggedBody {
    type Data = Bytes;
    type Error = body::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = frame.data_ref() {
                    self.bytes += d.len() as u64;
                }
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => self.finish(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        self.finish();
    }
}

impl LoggedBody {
    fn finish(&mut self) {
        self.guard = None;
        let Some((e, notes, status, resp_headers)) = self.entry.take() else { return };
        let elapsed = self.started.elapsed();
        if !notes.exclude_metrics {
            metrics::track_request(&notes.service, &e.method, status, elapsed);
        }
        let mut line = crate::logging::Line::new(crate::logging::Level::Info, "Request");
        line.str("host", &e.host)
            .num("port", e.port)
            .str("path", &e.path)
            .str("request_id", &e.request_id)
            .num("status", status)
            .str("service", &notes.service)
            .str("target", &notes.target)
            .num("duration", elapsed.as_nanos() as u64)
            .str("method", &e.method)
            .num("req_content_length", e.req_content_length)
            .str("req_content_type", &e.req_content_type)
            .num("resp_content_length", self.bytes)
            .str("resp_content_type", resp_headers.first().map(|(_, v)| v.as_str()).unwrap_or(""))
            .str("client_addr", &e.client_addr)
            .str("client_port", &e.client_port)
            .str("remote_addr", &e.remote_addr)
            .str("user_agent", &e.user_agent)
            .str("proto", &e.proto)
            .str("scheme", e.scheme)
            .str("query", &e.query);
        for (field, value) in &notes.logged_request_headers {
            line.str(field, value);
        }
        for (name, value) in resp_headers.iter().skip(1) {
            line.str(&format!("resp_{}", name.replace('-', "_")), value);
        }
        line.emit();
    }
}

async fn serve_metrics(listener: TcpListener, shutdown: CancellationToken) {
    loop {
        let (tcp, _) = tokio::select! {
            _ = shutdown.cancelled() => return,
            a = listener.accept() => match a { Ok(a) => a, Err(_) => continue },
        };
        tokio::spawn(async move {
            let svc = service_fn(|_req: Request<Incoming>| async {
                let mut resp = Response::new(body::full(metrics::render()));
                resp.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
                Ok::<_, std::convert::Infallible>(resp)
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), svc).await;
        });
    }
}
