//! `URI.parse` / `URI(...)` and URI objects: scheme, userinfo, host, port (with the scheme's
//! default), path, query, fragment, split as Ruby's RFC 3986 parser splits them, and `to_s`.

use super::arg;
use crate::error::R;
use crate::interp::{Args, Interp};
use crate::value::*;
use std::cell::RefCell;

fn default_port(scheme: Option<&str>) -> Option<u16> {
    match scheme?.to_ascii_lowercase().as_str() {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        "ldap" => Some(389),
        "ldaps" => Some(636),
        _ => None,
    }
}

/// The Ruby class of a URI (by scheme).
pub fn class_for(u: &Uri) -> &'static str {
    match u.scheme.as_deref().map(|s| s.to_ascii_lowercase()).as_deref() {
        Some("http") => "URI::HTTP",
        Some("https") => "URI::HTTPS",
        Some("ftp") => "URI::FTP",
        Some("file") => "URI::File",
        Some("ldap") => "URI::LDAP",
        Some("ldaps") => "URI::LDAPS",
        Some("mailto") => "URI::MailTo",
        Some("ws") => "URI::WS",
        Some("wss") => "URI::WSS",
        _ => "URI::Generic",
    }
}

/// Splits a URI reference; `None` when Ruby's parser would reject it.
pub fn split(s: &str) -> Option<Uri> {
    if s.chars().any(|c| c.is_whitespace() || "<>\"{}|\\^`".contains(c) || !c.is_ascii()) {
        return None;
    }
    let mut u = Uri::default();
    let mut rest = s;
    // scheme
    if let Some(i) = rest.find(':') {
        let candidate = &rest[..i];
        let valid = !candidate.is_empty()
            && candidate.chars().next().unwrap().is_ascii_alphabetic()
            && candidate.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            && !candidate.contains(['/', '?', '#']);
        if valid {
            u.scheme = Some(candidate.to_string());
            rest = &rest[i + 1..];
        }
    }
    // fragment and query
    if let Some(i) = rest.find('#') {
        u.fragment = Some(rest[i + 1..].to_string());
        rest = &rest[..i];
    }
    if let Some(i) = rest.find('?') {
        u.query = Some(rest[i + 1..].to_string());
        rest = &rest[..i];
    }
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find('/').unwrap_or(after.len());
        let authority = &after[..end];
        u.path = after[end..].to_string();
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        u.userinfo = userinfo.map(String::from);
        let (host, port) = if hostport.starts_with('[') {
            let close = hostport.find(']')?;
            let host = &hostport[..=close];
            let port = hostport[close + 1..].strip_prefix(':');
            (host, port)
        } else {
            match hostport.rfind(':') {
                Some(i) => (&hostport[..i], Some(&hostport[i + 1..])),
                None => (hostport, None),
            }
        };
        if !host.chars().all(|c| c.is_ascii_alphanumeric() || "-._~%!$&'()*+,;=[]:".contains(c)) {
            return None;
        }
        u.host = Some(host.to_string());
        if let Some(p) = port {
            if !p.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            if !p.is_empty() {
                u.port = Some(p.to_string());
            }
        }
    } else if u.scheme.is_some() && !rest.starts_with('/') {
        // `mailto:x`, `localhost:5000`
        u.opaque = Some(rest.to_string());
    } else {
        u.path = rest.to_string();
    }
    Some(u)
}

pub fn parse(it: &mut Interp, v: &Value) -> R<Value> {
    match v {
        Value::Lib(l) if matches!(**l, Lib::Uri(_)) => Ok(v.clone()),
        Value::Str(s) => {
            let text = s.s.borrow().clone();
            match split(&text) {
                Some(u) => Ok(Value::lib(Lib::Uri(RefCell::new(u)))),
                None => it.raise("URI::InvalidURIError", &format!("bad URI (is not URI?): {}", inspect_str(&text))),
            }
        }
        other => {
            let n = it.class_name(other);
            it.raise(
                "URI::InvalidURIError",
                &format!("bad URI (is not URI?): {}", if other.is_nil() { "nil".into() } else { n }),
            )
        }
    }
}

pub fn to_s(u: &Uri) -> String {
    let mut out = String::new();
    if let Some(s) = &u.scheme {
        out.push_str(s);
        out.push(':');
    }
    if let Some(o) = &u.opaque {
        out.push_str(o);
    } else {
        if let Some(h) = &u.host {
            out.push_str("//");
            if let Some(ui) = &u.userinfo {
                out.push_str(ui);
                out.push('@');
            }
            out.push_str(h);
            if let Some(p) = &u.port {
                let default = default_port(u.scheme.as_deref()).map(|d| d.to_string());
                if default.as_deref() != Some(p.as_str()) {
                    out.push(':');
                    out.push_str(p);
                }
            }
        }
        out.push_str(&u.path);
    }
    if let Some(q) = &u.query {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = &u.fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

fn opt(s: &Option<String>) -> Value {
    s.as_ref().map(|x| Value::str(x.clone())).unwrap_or(Value::Nil)
}

pub fn call(it: &mut Interp, u: &RefCell<Uri>, name: &str, args: &Args) -> R<Option<Value>> {
    let cur = u.borrow().clone();
    let v = match name {
        "scheme" => opt(&cur.scheme),
        "host" => opt(&cur.host),
        "hostname" => match &cur.host {
            Some(h) => Value::str(h.trim_start_matches('[').trim_end_matches(']').to_string()),
            None => Value::Nil,
        },
        "port" => match &cur.port {
            Some(p) => Value::Int(p.parse().unwrap_or(0)),
            None => default_port(cur.scheme.as_deref()).map(|p| Value::Int(p as i64)).unwrap_or(Value::Nil),
        },
        "default_port" => default_port(cur.scheme.as_deref()).map(|p| Value::Int(p as i64)).unwrap_or(Value::Nil),
        "path" => Value::str(cur.path.clone()),
        "query" => opt(&cur.query),
        "fragment" => opt(&cur.fragment),
        "opaque" => opt(&cur.opaque),
        "userinfo" => opt(&cur.userinfo),
        "user" => match &cur.userinfo {
            Some(ui) => Value::str(ui.split(':').next().unwrap_or("").to_string()),
            None => Value::Nil,
        },
        "password" => match cur.userinfo.as_deref().and_then(|ui| ui.split_once(':')) {
            Some((_, p)) => Value::str(p.to_string()),
            None => Value::Nil,
        },
        "request_uri" if matches!(class_for(&cur), "URI::HTTP" | "URI::HTTPS") => {
            let mut s = if cur.path.is_empty() { "/".to_string() } else { cur.path.clone() };
            if let Some(q) = &cur.query {
                s.push('?');
                s.push_str(q);
            }
            Value::str(s)
        }
        "to_s" | "to_str" => Value::str(to_s(&cur)),
        "inspect" => Value::str(format!("#<{} {}>", class_for(&cur), to_s(&cur))),
        "absolute?" | "absolute" => Value::Bool(cur.scheme.is_some()),
        "relative?" => Value::Bool(cur.scheme.is_none()),
        "host=" | "scheme=" | "path=" | "query=" | "fragment=" | "port=" | "user=" | "password=" | "userinfo=" => {
            let value = arg(args, 0);
            let text = match &value {
                Value::Nil => None,
                other => Some(it.to_s(other)?),
            };
            let mut w = u.borrow_mut();
            match name {
                "host=" => w.host = text,
                "scheme=" => w.scheme = text,
                "path=" => w.path = text.unwrap_or_default(),
                "query=" => w.query = text,
                "fragment=" => w.fragment = text,
                "port=" => w.port = text,
                "userinfo=" => w.userinfo = text,
                "user=" => {
                    let pw = w.userinfo.as_deref().and_then(|ui| ui.split_once(':')).map(|(_, p)| p.to_string());
                    w.userinfo = text.map(|t| match pw {
                        Some(p) => format!("{t}:{p}"),
                        None => t,
                    });
                }
                _ => {
                    let user = w
                        .userinfo
                        .as_deref()
                        .map(|ui| ui.split(':').next().unwrap_or("").to_string())
                        .unwrap_or_default();
                    w.userinfo = text.map(|t| format!("{user}:{t}"));
                }
            }
            value
        }
        "==" => {
            Value::Bool(matches!(arg(args, 0), Value::Lib(ref l) if matches!(&**l, Lib::Uri(o) if *o.borrow() == cur)))
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_ruby() {
        let u = split("postgres://user:pw@db.example.com:5432/app?sslmode=require#x").unwrap();
        assert_eq!(u.scheme.as_deref(), Some("postgres"));
        assert_eq!(u.userinfo.as_deref(), Some("user:pw"));
        assert_eq!(u.host.as_deref(), Some("db.example.com"));
        assert_eq!(u.port.as_deref(), Some("5432"));
        assert_eq!(u.path, "/app");
        assert_eq!(u.query.as_deref(), Some("sslmode=require"));
        assert_eq!(to_s(&u), "postgres://user:pw@db.example.com:5432/app?sslmode=require#x");
        let u = split("localhost:5000").unwrap();
        assert_eq!(u.scheme.as_deref(), Some("localhost"));
        assert_eq!(u.opaque.as_deref(), Some("5000"));
        assert!(split("http://a b").is_none());
        assert_eq!(to_s(&split("https://x:443/").unwrap()), "https://x/");
    }
}
