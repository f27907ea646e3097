//! Which host a request is for, as RFC 9112 §3.2 and nginx decide it: the authority of an
//! absolute-form request target (`GET http://a.example/x HTTP/1.1`) or of an HTTP/2 request wins
//! over any `Host` header; otherwise the one `Host` header. Two `Host` headers, none in an
//! HTTP/1.1 request, or one that cannot be a host name are the client's error (400). Host names
//! compare case-insensitively: the routing name is lowercased, without a trailing dot and port.

use http::{header, Request, Version};

/// The request's host: `raw` as the client wrote it (forwarded to the target as `Host`), `name`
/// for routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHost {
    pub raw: String,
    pub name: String,
}

pub fn of<B>(req: &Request<B>) -> Result<RequestHost, &'static str> {
    let raw = match req.uri().authority() {
        Some(authority) => authority.as_str().to_string(),
        None => {
            let mut hosts = req.headers().get_all(header::HOST).iter();
            match (hosts.next(), hosts.next()) {
                (Some(_), Some(_)) => return Err("client sent duplicate Host headers"),
                (Some(value), None) => value.to_str().map_err(|_| "client sent invalid Host header")?.to_string(),
                (None, _) if req.version() == Version::HTTP_11 => {
                    return Err("client sent HTTP/1.1 request without Host header")
                }
                (None, _) => String::new(),
            }
        }
    };
    let name = routing_name(&raw).ok_or("client sent invalid Host header")?;
    Ok(RequestHost { raw, name })
}

/// The host name to route by: lowercase, no port, no trailing dot (nginx's
/// `ngx_http_validate_host`); `None` when it cannot be a host name.
pub fn routing_name(raw: &str) -> Option<String> {
    let host = strip_port(raw.trim());
    let host = host.strip_suffix('.').unwrap_or(host);
    let valid = !host.starts_with('.')
        && !host.contains("..")
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:%[]".contains(&b));
    valid.then(|| host.to_ascii_lowercase())
}

/// `host:port` without the port; `[v6]:port` without the brackets and port.
pub fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(target: &str, version: Version, hosts: &[&str]) -> Request<()> {
        let mut b = Request::builder().uri(target).version(version);
        for h in hosts {
            b = b.header("host", *h);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn host_rules() {
        let name = |r: Request<()>| of(&r).map(|h| h.name);
        assert_eq!(name(req("/", Version::HTTP_11, &["App.Example.COM:8080"])), Ok("app.example.com".into()));
        assert_eq!(name(req("/", Version::HTTP_11, &["app.example.com."])), Ok("app.example.com".into()));
        assert_eq!(name(req("http://a.example/x", Version::HTTP_11, &["b.example"])), Ok("a.example".into()));
        assert_eq!(name(req("/", Version::HTTP_11, &["a", "b"])), Err("client sent duplicate Host headers"));
        assert_eq!(name(req("/", Version::HTTP_11, &[])), Err("client sent HTTP/1.1 request without Host header"));
        assert_eq!(name(req("/", Version::HTTP_10, &[])), Ok(String::new()));
        assert_eq!(name(req("/", Version::HTTP_11, &["a/b"])), Err("client sent invalid Host header"));
        assert_eq!(name(req("/", Version::HTTP_11, &["..a"])), Err("client sent invalid Host header"));
        assert_eq!(name(req("/", Version::HTTP_11, &["[::1]:80"])), Ok("::1".into()));
        assert_eq!(of(&req("/", Version::HTTP_11, &["App.test"])).unwrap().raw, "App.test");
    }

    #[test]
    fn strips_ports() {
        assert_eq!(strip_port("example.com:8080"), "example.com");
        assert_eq!(strip_port("example.com"), "example.com");
        assert_eq!(strip_port("[::1]:80"), "::1");
    }
}
