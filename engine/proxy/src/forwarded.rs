//! The headers the proxy tells its targets about the client with (`X-Forwarded-For`, `-Proto`,
//! `-Host`), and the client's own headers it must not pass on beside them: a header whose name
//! is one of those (or `X-Kamal-Target`, `X-Request-Id`, the `--client-ip-header`) written with
//! underscores, such as `X_Forwarded_For`. Rack, PHP and other CGI-style servers read
//! `X-Forwarded-For` and `X_Forwarded_For` as the same variable (`HTTP_X_FORWARDED_FOR`), so a
//! client could otherwise stand in for what the proxy says. nginx drops every header with an
//! underscore (`underscores_in_headers off`); this proxy drops only these, so that other headers
//! reach the app as they do through upstream's proxy.

use crate::target::ForwardContext;
use http::header::{HeaderMap, HeaderName, HeaderValue};

/// Headers the proxy sets or vouches for.
const VOUCHED: [&str; 5] =
    ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-kamal-target", "x-request-id"];

/// Removes the underscore spellings of the headers the proxy vouches for (and of
/// `client_ip_header`, when one is configured).
pub fn drop_underscore_variants(headers: &mut HeaderMap, client_ip_header: &str) {
    let spoofs: Vec<HeaderName> = headers
        .keys()
        .filter(|name| {
            let name = name.as_str();
            if !name.contains('_') {
                return false;
            }
            let dashed = name.replace('_', "-");
            VOUCHED.contains(&dashed.as_str())
                || (!client_ip_header.is_empty() && dashed.eq_ignore_ascii_case(client_ip_header))
        })
        .cloned()
        .collect();
    for name in spoofs {
        headers.remove(name);
    }
}

/// Sets `X-Forwarded-For/-Proto/-Host`. With `forward_headers` (a proxy in front is trusted),
/// the client's values are kept and the client's address appended; without, they are replaced.
pub fn set(headers: &mut HeaderMap, ctx: &ForwardContext, forward_headers: bool) {
    let incoming_xff: Vec<String> =
        headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok().map(str::to_string)).collect();
    let incoming_proto = headers.get("x-forwarded-proto").cloned();
    let incoming_host = headers.get("x-forwarded-host").cloned();
    headers.remove("x-forwarded-for");
    headers.remove("x-forwarded-proto");
    headers.remove("x-forwarded-host");
    let client_ip = ctx.client_ip_override.clone().unwrap_or_else(|| ctx.client_addr.ip().to_string());
    let mut xff = if forward_headers { incoming_xff } else { vec![] };
    xff.push(client_ip);
    if let Ok(v) = HeaderValue::from_str(&xff.join(", ")) {
        headers.insert("x-forwarded-for", v);
    }
    if let Ok(v) = HeaderValue::from_str(&ctx.host) {
        headers.insert("x-forwarded-host", v);
    }
    headers.insert("x-forwarded-proto", HeaderValue::from_static(if ctx.tls { "https" } else { "http" }));
    if forward_headers {
        if let Some(p) = incoming_proto {
            headers.insert("x-forwarded-proto", p);
        }
        if let Some(h) = incoming_host {
            headers.insert("x-forwarded-host", h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_only_underscore_spellings_of_vouched_headers() {
        let mut h = HeaderMap::new();
        for name in ["x_forwarded_for", "X_Forwarded-Proto", "x-forwarded_host", "x_kamal_target", "cf_connecting_ip"] {
            h.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_static("spoof"));
        }
        h.insert("x_api_key", HeaderValue::from_static("kept"));
        h.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        drop_underscore_variants(&mut h, "CF-Connecting-IP");
        let mut left: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        left.sort();
        assert_eq!(left, vec!["x-forwarded-for", "x_api_key"]);
    }
}
