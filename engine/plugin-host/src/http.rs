//! Outgoing HTTP for plugins (`wasi:http/outgoing-handler` 0.2): a request goes out only when
//! its host is listed in the manifest's `hosts` *and* granted by the user; anything else is
//! refused with `HTTP-request-denied` and a log line naming the plugin and the host.

use std::sync::Arc;

use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use crate::state::{Call, Level, State};

/// The per-call gate in front of the default HTTP client.
pub(crate) struct HttpGate {
    pub call: Arc<Call>,
}

/// What a request is checked against: `host` and `host:port` (the port defaulting to the
/// scheme's), so a grant may name either.
fn authority_names(uri: &http::Uri) -> Option<(String, String)> {
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("http") { 80 } else { 443 });
    Some((host.clone(), format!("{host}:{port}")))
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
        let allowed = authority_names(request.uri())
            .filter(|(host, with_port)| self.call.caps.host_allowed(host) || self.call.caps.host_allowed(with_port));
        if allowed.is_none() {
            let shown = request.uri().authority().map(|a| a.to_string()).unwrap_or_else(|| "(none)".into());
            let declared = authority_names(request.uri())
                .map(|(h, hp)| {
                    let m = |p: &String| p == &h || p == &hp || crate::manifest::glob_match(p, &h);
                    self.call.caps.manifest_hosts.iter().any(m)
                })
                .unwrap_or(false);
            let why = if declared { "" } else { " (its manifest does not declare it)" };
            let message = format!("plugin {}: capability host {shown} not granted{why}", self.call.plugin);
            let _ = self.call.log(Level::Error, &message);
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
