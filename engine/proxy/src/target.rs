//! One upstream (a container's `host:port`): its health state, the requests in flight to it
//! (so a drain can wait for them, then cut the rest off with a 504), and the forwarding itself:
//! header rewriting, optional buffering, response timeout, and upgraded connections (websockets),
//! which a drain closes at once.

use crate::body::{self, Body, BufferError};
use crate::client_body::{ClientBody, ClientBodyError};
use crate::options::TargetOptions;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub const TARGET_HEADER: &str = "x-kamal-target";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    Adding,
    Draining,
    Healthy,
    Unhealthy,
}

impl TargetState {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetState::Adding => "adding",
            TargetState::Draining => "draining",
            TargetState::Healthy => "healthy",
            TargetState::Unhealthy => "unhealthy",
        }
    }
}

/// Why a request could not be proxied; each maps to the status upstream answers with.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("request body too large")]
    RequestTooLarge,
    #[error("response body too large")]
    ResponseTooLarge,
    #[error("target timed out")]
    Timeout,
    #[error("target is draining")]
    Draining,
    #[error("malformed request: {0}")]
    BadRequest(String),
    /// The client's request body was malformed or cut short.
    #[error("{0}")]
    ClientBody(String),
    /// The client paused too long while sending its request body.
    #[error("{0}")]
    ClientTimeout(String),
    #[error("{0}")]
    Upstream(String),
}

impl ProxyError {
    pub fn status(&self) -> StatusCode {
        match self {
            ProxyError::RequestTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProxyError::ResponseTooLarge => StatusCode::INTERNAL_SERVER_ERROR,
            ProxyError::Timeout | ProxyError::Draining => StatusCode::GATEWAY_TIMEOUT,
            ProxyError::BadRequest(_) | ProxyError::ClientBody(_) => StatusCode::BAD_REQUEST,
            ProxyError::ClientTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ProxyError::Upstream(_) => StatusCode::BAD_GATEWAY,
        }
    }

    /// The client's side of the connection is in an unknown state (its request body was not
    /// read to the end): the answer closes it.
    pub fn closes_connection(&self) -> bool {
        matches!(self, ProxyError::ClientBody(_) | ProxyError::ClientTimeout(_))
    }

    fn from_client_body(e: &ClientBodyError) -> Self {
        match e {
            ClientBodyError::Timeout(_) => ProxyError::ClientTimeout(e.to_string()),
            ClientBodyError::Invalid(_) => ProxyError::ClientBody(e.to_string()),
        }
    }
}

struct Inflight {
    cancel: CancellationToken,
    hijacked: Arc<AtomicBool>,
}

struct Shared {
    state: TargetState,
    inflight: HashMap<u64, Inflight>,
}

pub struct Target {
    address: String,
    readonly: bool,
    pub options: Arc<TargetOptions>,
    client: Client<HttpConnector, Body>,
    shared: Mutex<Shared>,
    request_ended: Notify,
    next_id: AtomicU64,
}

/// Proof that a request is in flight on a target; dropping it ends the request.
pub struct InflightGuard {
    target: Arc<Target>,
    id: u64,
    pub cancel: CancellationToken,
    hijacked: Arc<AtomicBool>,
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        let draining = {
            let mut shared = self.target.shared.lock().unwrap();
            shared.inflight.remove(&self.id);
            shared.state == TargetState::Draining
        };
        if draining {
            self.target.request_ended.notify_waiters();
        }
    }
}

/// Per-request facts the forwarder needs from the front end.
pub struct ForwardContext {
    /// The path to send upstream (after any prefix stripping).
    pub path: String,
    pub client_addr: SocketAddr,
    pub tls: bool,
    pub host: String,
    /// The client IP from `--client-ip-header`, when configured and present.
    pub client_ip_override: Option<String>,
    /// `--http-body-timeout` for the client's request body.
    pub body_timeout: Option<Duration>,
}

impl Target {
    pub fn new(address: &str, readonly: bool, options: Arc<TargetOptions>) -> Arc<Self> {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(100)
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        Arc::new(Self {
            address: address.to_string(),
            readonly,
            options,
            client,
            shared: Mutex::new(Shared { state: TargetState::Adding, inflight: HashMap::new() }),
            request_ended: Notify::new(),
            next_id: AtomicU64::new(0),
        })
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn readonly(&self) -> bool {
        self.readonly
    }

    pub fn state(&self) -> TargetState {
        self.shared.lock().unwrap().state
    }

    pub fn set_state(&self, state: TargetState) -> TargetState {
        std::mem::replace(&mut self.shared.lock().unwrap().state, state)
    }

    pub fn in_flight(&self) -> usize {
        self.shared.lock().unwrap().inflight.len()
    }

    /// Records a health check result; returns the new state when it changed.
    pub fn health_check_completed(&self, success: bool) -> Option<TargetState> {
        let mut s = self.shared.lock().unwrap();
        let before = s.state;
        match (success, s.state) {
            (_, TargetState::Draining) => {}
            (true, _) => s.state = TargetState::Healthy,
            (false, TargetState::Healthy) => s.state = TargetState::Unhealthy,
            (false, _) => {}
        }
        (s.state != before).then_some(s.state)
    }

    /// Registers a request; refused while the target drains.
    pub fn start_request(self: &Arc<Self>) -> Result<InflightGuard, ProxyError> {
        let mut s = self.shared.lock().unwrap();
        if s.state == TargetState::Draining {
            return Err(ProxyError::Draining);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let cancel = CancellationToken::new();
        let hijacked = Arc::new(AtomicBool::new(false));
        s.inflight.insert(id, Inflight { cancel: cancel.clone(), hijacked: hijacked.clone() });
        Ok(InflightGuard { target: self.clone(), id, cancel, hijacked })
    }

    /// Lets the requests in flight finish for up to `timeout`, then cancels the rest (their
    /// clients get a 504, or a cut-off body if the answer had started). Upgraded connections are
    /// closed at once. New requests are refused meanwhile.
    pub async fn drain(&self, timeout: Duration) {
        let original = self.set_state(TargetState::Draining);
        if original == TargetState::Draining {
            return;
        }
        let pending: Vec<(u64, CancellationToken)> = {
            let s = self.shared.lock().unwrap();
            for f in s.inflight.values() {
                if f.hijacked.load(Ordering::SeqCst) {
                    f.cancel.cancel();
                }
            }
            s.inflight.iter().map(|(id, f)| (*id, f.cancel.clone())).collect()
        };
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let ended = self.request_ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            let remaining = {
                let s = self.shared.lock().unwrap();
                pending.iter().any(|(id, _)| s.inflight.contains_key(id))
            };
            if !remaining {
                break;
            }
            tokio::select! {
                _ = &mut ended => {}
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        for (_, cancel) in &pending {
            cancel.cancel();
        }
        self.set_state(original);
    }

    /// Forwards `req` and returns the response; the guard travels with the response body (or the
    /// upgraded connection) so the request counts as in flight until it has fully finished.
    pub async fn forward(
        self: &Arc<Self>,
        mut req: Request<Incoming>,
        ctx: ForwardContext,
        guard: InflightGuard,
    ) -> Result<Response<Body>, ProxyError> {
        let upgrade_protocol = upgrade_protocol(req.headers());
        let client_upgrade = upgrade_protocol.as_ref().map(|_| hyper::upgrade::on(&mut req));
        let (parts, incoming) = req.into_parts();

        let query = parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        let uri: http::Uri = format!("http://{}{}{}", self.address, ctx.path, query)
            .parse()
            .map_err(|e| ProxyError::BadRequest(format!("{e}")))?;
        let mut headers = parts.headers;
        strip_hop_by_hop(&mut headers);
        crate::forwarded::set(&mut headers, &ctx, self.options.forward_headers);
        if let Ok(host) = HeaderValue::from_str(&ctx.host) {
            headers.insert(header::HOST, host);
        }
        if let Some(proto) = &upgrade_protocol {
            headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
            headers.insert(header::UPGRADE, proto.clone());
        }

        let incoming = ClientBody::new(incoming, ctx.body_timeout);
        let body = if self.options.buffer_requests {
            let buffered =
                body::buffer(incoming, self.options.max_memory_buffer_size, self.options.max_request_body_size)
                    .await
                    .map_err(|e| match e {
                    BufferError::TooLarge => ProxyError::RequestTooLarge,
                    BufferError::Body(e) => match ClientBodyError::find(e.as_ref()) {
                        Some(client) => ProxyError::from_client_body(client),
                        None => ProxyError::BadRequest(e.to_string()),
                    },
                    other => ProxyError::BadRequest(other.to_string()),
                })?;
            headers.remove(header::TRANSFER_ENCODING);
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(buffered.len));
            buffered.into_body()
        } else {
            body::boxed(incoming)
        };

        let mut out = Request::builder().method(parts.method).uri(uri).version(http::Version::HTTP_11);
        *out.headers_mut().unwrap() = headers;
        let out = out.body(body).map_err(|e| ProxyError::BadRequest(e.to_string()))?;

        let send = tokio::time::timeout(self.options.response_timeout, self.client.request(out));
        let response = tokio::select! {
            r = send => match r {
                Err(_) => return Err(ProxyError::Timeout),
                Ok(Err(e)) => return Err(classify_client_error(e)),
                Ok(Ok(resp)) => resp,
            },
            _ = guard.cancel.cancelled() => return Err(ProxyError::Draining),
        };

        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            if let Some(client_upgrade) = client_upgrade {
                return Ok(self.splice_upgrade(response, client_upgrade, guard));
            }
        }

        let (mut parts, incoming) = response.into_parts();
        let streaming = is_streaming(&parts.headers);
        strip_hop_by_hop(&mut parts.headers);
        if self.options.buffer_responses && !streaming {
            let buffered = tokio::select! {
                b = body::buffer(incoming, self.options.max_memory_buffer_size, self.options.max_response_body_size) => b,
                _ = guard.cancel.cancelled() => return Err(ProxyError::Draining),
            };
            let buffered = buffered.map_err(|e| match e {
                BufferError::TooLarge => ProxyError::ResponseTooLarge,
                other => ProxyError::Upstream(other.to_string()),
            })?;
            parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(buffered.len));
            return Ok(Response::from_parts(parts, body::boxed(GuardedBody::new(buffered.into_body(), guard))));
        }
        Ok(Response::from_parts(parts, body::boxed(GuardedBody::new(incoming, guard))))
    }

    fn splice_upgrade(
        &self,
        mut response: Response<Incoming>,
        client_upgrade: hyper::upgrade::OnUpgrade,
        guard: InflightGuard,
    ) -> Response<Body> {
        let upstream_upgrade = hyper::upgrade::on(&mut response);
        let (parts, _) = response.into_parts();
        guard.hijacked.store(true, Ordering::SeqCst);
        tokio::spawn(async move {
            let cancel = guard.cancel.clone();
            let splice = async {
                let (client, upstream) = tokio::try_join!(client_upgrade, upstream_upgrade)?;
                let mut client = TokioIo::new(client);
                let mut upstream = TokioIo::new(upstream);
                tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
                Ok::<_, BoxedError>(())
            };
            tokio::select! {
                _ = splice => {}
                _ = cancel.cancelled() => {}
            }
            drop(guard);
        });
        Response::from_parts(parts, body::empty())
    }
}

type BoxedError = Box<dyn std::error::Error + Send + Sync>;

fn classify_client_error(e: hyper_util::client::legacy::Error) -> ProxyError {
    if let Some(client) = ClientBodyError::find(&e) {
        return ProxyError::from_client_body(client);
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    ProxyError::Upstream(text)
}

/// The `Upgrade` header when the request asks to switch protocols (websockets and the like).
fn upgrade_protocol(headers: &HeaderMap) -> Option<HeaderValue> {
    let wants_upgrade = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
    if wants_upgrade {
        headers.get(header::UPGRADE).cloned()
    } else {
        None
    }
}

pub fn is_websocket(headers: &HeaderMap) -> bool {
    upgrade_protocol(headers).is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

/// Server-sent events and chunked answers are never buffered.
fn is_streaming(headers: &HeaderMap) -> bool {
    let sse = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("text/event-stream"))
        .unwrap_or(false);
    let chunked = headers
        .get(header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    sse || chunked
}

const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
];

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let listed: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    headers.remove(header::TRANSFER_ENCODING);
}

/// A response body that keeps its request in flight until the body ends, and breaks off when
/// the target's drain cancels it.
pub struct GuardedBody<B> {
    inner: B,
    guard: Option<InflightGuard>,
    cancelled: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl<B> GuardedBody<B> {
    pub fn new(inner: B, guard: InflightGuard) -> Self {
        let token = guard.cancel.clone();
        Self { inner, guard: Some(guard), cancelled: Box::pin(async move { token.cancelled().await }) }
    }
}

impl<B> HttpBody for GuardedBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BoxedError>,
{
    type Data = Bytes;
    type Error = BoxedError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxedError>>> {
        if self.guard.is_none() {
            return Poll::Ready(None);
        }
        if self.cancelled.as_mut().poll(cx).is_ready() {
            self.guard = None;
            return Poll::Ready(Some(Err("target is draining".into())));
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                self.guard = None;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                self.guard = None;
                Poll::Ready(Some(Err(e.into())))
            }
            other => other.map(|o| o.map(|r| r.map_err(Into::into))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.guard.is_none() || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
