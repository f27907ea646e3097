//! Outgoing HTTP for plugins (`wasi:http/outgoing-handler` 0.2): a request goes out only when
//! its host is listed in the manifest's `hosts` *and* granted by the user; anything else is
//! refused with `HTTP-request-denied` and a log line naming the plugin and the host.

use std::sync::Arc;

use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use crate::state::{Call, Level, State, Stream};

/// The per-call gate in front of the default HTTP client.
pub(crate) struct HttpGate {
    pub call: Arc<Call>,
}

/// The request's host (lowercase, without IPv6 brackets) and port (the scheme's by default).
fn host_and_port(uri: &http::Uri) -> Option<(String, u16)> {
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("http") { 80 } else { 443 });
    Some((host, port))
}

type SendFuture = Box<
    dyn std::future::Future<
            Output = Result<
                (http::Response<WasiBody>, Box<dyn std::future::Future<Output = Result<(), Error>> + Send>),
                Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for HttpGate {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn std::future::Future<Output = Result<(), Error>> + Send>,
    ) -> SendFuture {
        let target = host_and_port(request.uri());
        let allowed = target.as_ref().is_some_and(|(host, port)| self.call.caps.host_allowed(host, *port));
        if !allowed {
            let shown = request.uri().authority().map(|a| a.to_string()).unwrap_or_else(|| "(none)".into());
            // Would the manifest allow it (so that only the user's grant is missing)?
            let declared = target.is_some_and(|(host, port)| {
                let manifest_only = crate::grant::Effective {
                    manifest_hosts: self.call.caps.manifest_hosts.clone(),
                    grant_hosts: vec!["*".into()],
                    ..Default::default()
                };
                manifest_only.host_allowed(&host, port)
            });
            let why = if declared { "" } else { " (its manifest does not declare it)" };
            let message = format!("plugin {}: capability host {shown} not granted{why}", self.call.plugin);
            self.call.emit(Level::Error, Stream::Host, &message);
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        self.call.note(&format!("http: {} {}", request.method(), request.uri()));
        // The default client (hyper + rustls with the web PKI roots), after the check.
        let _ = fut;
        Box::new(async move {
            use http_body_util::BodyExt;
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((res.map(BodyExt::boxed_unsync), Box::new(io) as Box<dyn std::future::Future<Output = _> + Send>))
        })
    }
}

/// The HTTP half of a call's store.
pub(crate) struct HttpState {
    pub ctx: WasiHttpCtx,
    pub gate: HttpGate,
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http.ctx, table: &mut self.table, hooks: &mut self.http.gate }
    }
}
