//! Registry credentials and the distribution API's authentication dance.
//!
//! Credentials come from Docker's `config.json` (`auths.<registry>.auth`, base64 of
//! `user:password`, or `username`/`password`), looked up by `host[:port]` (for Docker Hub also
//! `https://index.docker.io/v1/`). Credential helpers (`credsStore`, `credHelpers`) are not
//! run: log in with `docker login` using a file store, or add the entry by hand.
//!
//! A request answered 401 is retried once: with `Basic` credentials when the registry asks for
//! Basic, or with a token from the realm of a `Bearer` challenge (requested with the
//! credentials, if any, else anonymously).

use std::path::Path;

use base64::Engine as _;

/// A user name and password (or token) for a registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// The credentials for `registry` in the Docker config file at `path`, if any.
pub fn docker_credentials(path: &Path, registry: &str) -> Option<Credentials> {
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let auths = json.get("auths")?.as_object()?;
    let normalize = |k: &str| {
        let k = k.strip_prefix("https://").or_else(|| k.strip_prefix("http://")).unwrap_or(k);
        k.split('/').next().unwrap_or(k).to_string()
    };
    let wanted: Vec<String> = match registry {
        "docker.io" | "registry-1.docker.io" | "index.docker.io" => {
            vec!["index.docker.io".into(), "docker.io".into(), "registry-1.docker.io".into()]
        }
        r => vec![r.to_string()],
    };
    let entry = auths.iter().find(|(k, _)| wanted.contains(&normalize(k)))?.1;
    if let Some(auth) = entry.get("auth").and_then(|a| a.as_str()).filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD.decode(auth.trim()).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (u, p) = decoded.split_once(':')?;
        return Some(Credentials { username: u.into(), password: p.into() });
    }
    let u = entry.get("username")?.as_str()?;
    let p = entry.get("password")?.as_str()?;
    Some(Credentials { username: u.into(), password: p.into() })
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer { realm: String, service: Option<String>, scope: Option<String> },
}

/// Parses `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let (scheme, params) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let (mut realm, mut service, mut scope) = (None, None, None);
    let mut rest = params.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key.trim().trim_start_matches(',').trim();
        let after = after.trim_start();
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (&q[..end], &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match key.to_ascii_lowercase().as_str() {
            "realm" => realm = Some(value.to_string()),
            "service" => service = Some(value.to_string()),
            "scope" => scope = Some(value.to_string()),
            _ => {}
        }
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    Some(Challenge::Bearer { realm: realm?, service, scope })
}

/// The `Authorization` value for Basic credentials.
pub fn basic(c: &Credentials) -> String {
    let raw = format!("{}:{}", c.username, c.password);
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.io/token",service="reg.io",scope="repository:a/b:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.io/token".into(),
                service: Some("reg.io".into()),
                scope: Some("repository:a/b:pull,push".into())
            })
        );
        assert_eq!(parse_challenge(r#"Basic realm="Registry""#), Some(Challenge::Basic));
        assert_eq!(parse_challenge("Negotiate"), None);
    }

    #[test]
    fn docker_config() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let auth = base64::engine::general_purpose::STANDARD.encode("bob:s3cret");
        std::fs::write(
            &path,
            format!(r#"{{"auths": {{"localhost:5001": {{"auth": "{auth}"}}, "https://index.docker.io/v1/": {{"username": "al", "password": "pw"}}}}}}"#),
        )
        .unwrap();
        assert_eq!(
            docker_credentials(&path, "localhost:5001"),
            Some(Credentials { username: "bob".into(), password: "s3cret".into() })
        );
        assert_eq!(docker_credentials(&path, "docker.io").unwrap().username, "al");
        assert_eq!(docker_credentials(&path, "ghcr.io"), None);
    }
}
