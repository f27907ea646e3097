//! Outgoing HTTP requests over `wasi:http` (0.2), for plugins whose manifest lists the host in
//! `hosts` and whose user granted it; any other host fails with `HTTP-request-denied`.
//!
//! ```ignore
//! let res = wharf_plugin_sdk::http::post("http://127.0.0.1:8080/hook", "application/json", br#"{"text":"hi"}"#)?;
//! if res.status >= 300 { return Err(format!("webhook answered {}", res.status)); }
//! ```

use wasip2::http::outgoing_handler;
use wasip2::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
use wasip2::io::streams::StreamError;

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `POST url` with `body` as `content_type`.
pub fn post(url: &str, content_type: &str, body: &[u8]) -> Result<Response, String> {
    request("POST", url, &[("content-type", content_type)], body)
}

/// `GET url`.
pub fn get(url: &str) -> Result<Response, String> {
    request("GET", url, &[], &[])
}

/// Sends one request and reads the whole response. `method` is `GET`, `POST`, `PUT`,
/// `PATCH`, `DELETE` or `HEAD`; `url` is `http://` or `https://`.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<Response, String> {
    let (scheme, rest) = match url.split_once("://") {
        Some(("http", rest)) => (Scheme::Http, rest),
        Some(("https", rest)) => (Scheme::Https, rest),
        _ => return Err(format!("{url}: only http:// and https:// URLs are supported")),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let method = match method.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        "HEAD" => Method::Head,
        other => Method::Other(other.to_string()),
    };
    let mut list: Vec<(String, Vec<u8>)> =
        headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.as_bytes().to_vec())).collect();
    // A known length rather than chunked encoding, which some webhook endpoints refuse.
    if !body.is_empty() && !list.iter().any(|(k, _)| k == "content-length") {
        list.push(("content-length".into(), body.len().to_string().into_bytes()));
    }
    let fields = Fields::from_list(&list).map_err(|e| format!("bad header: {e:?}"))?;
    let req = OutgoingRequest::new(fields);
    let bad = |what: &str| format!("{url}: invalid {what}");
    req.set_method(&method).map_err(|_| bad("method"))?;
    req.set_scheme(Some(&scheme)).map_err(|_| bad("scheme"))?;
    req.set_authority(Some(authority)).map_err(|_| bad("host"))?;
    req.set_path_with_query(Some(path)).map_err(|_| bad("path"))?;
    let outgoing = req.body().map_err(|_| "request body already taken".to_string())?;
    let pending = outgoing_handler::handle(req, None).map_err(|e| format!("{url}: {e:?}"))?;
    // Write the body, then wait for the answer; when the host refused the request (a host not
    // granted, say) the body stream is closed, and the answer says why.
    let mut body_error = None;
    {
        let stream = outgoing.write().map_err(|_| "request body stream already taken".to_string())?;
        for chunk in body.chunks(4096) {
            if let Err(e) = stream.blocking_write_and_flush(chunk) {
                body_error = Some(format!("{url}: sending the body: {e:?}"));
                break;
            }
        }
    }
    if body_error.is_none() {
        OutgoingBody::finish(outgoing, None).map_err(|e| format!("{url}: {e:?}"))?;
    }
    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(r))) => r,
        Some(Ok(Err(code))) => return Err(format!("{url}: {code:?}")),
        Some(Err(())) | None => return Err(format!("{url}: no response")),
    };
    if let Some(e) = body_error {
        return Err(e);
    }
    let status = response.status();
    let incoming = response.consume().map_err(|_| "response body already taken".to_string())?;
    let mut out = Vec::new();
    {
        let stream = incoming.stream().map_err(|_| "response stream already taken".to_string())?;
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(bytes) => out.extend_from_slice(&bytes),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => {
                    return Err(format!("{url}: reading the response: {}", e.to_debug_string()))
                }
            }
        }
    }
    Ok(Response { status, body: out })
}
