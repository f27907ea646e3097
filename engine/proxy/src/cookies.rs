//! Reading one cookie's value from request headers.

use http::{header, HeaderMap};

pub fn find(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_cookies() {
        let mut h = http::HeaderMap::new();
        h.append("cookie", "a=1; kamal-rollout=beta".parse().unwrap());
        assert_eq!(super::find(&h, "kamal-rollout").as_deref(), Some("beta"));
        assert_eq!(super::find(&h, "b"), None);
    }
}
