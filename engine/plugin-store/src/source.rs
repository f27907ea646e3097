//! Plugin sources, as written in deploy.yml (`x-wharf.plugins[].source`) or on the command
//! line:
//!
//! | source | what |
//! |---|---|
//! | `plugins/notify`, `./notify/plugin.toml`, `dist/notify.wasm` | a local `plugin.toml`, a directory holding one, or a packed `.wasm`; relative to the project directory |
//! | `https://example.com/notify.wasm` | a packed `.wasm`, downloaded; a sha256 is required |
//! | `oci://ghcr.io/acme/notify:1.0`, `oci://REGISTRY/REPO@sha256:HEX` | a wasm OCI artifact, pulled |
//! | `builtin:NAME` | a plugin embedded in the `wharf` binary |

use std::path::{Path, PathBuf};

use crate::oci::Reference;

/// Where a plugin comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A local file or directory (resolved against the project directory).
    Path(PathBuf),
    /// A packed file over HTTPS (`http://` only for loopback hosts).
    Url(String),
    /// A wasm OCI artifact.
    Oci(Reference),
    /// A plugin compiled into the binary.
    Builtin(String),
}

impl Source {
    /// Parses a source string; paths are resolved against `base` (the project directory).
    pub fn parse(text: &str, base: &Path) -> Result<Source, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty source".into());
        }
        if let Some(name) = text.strip_prefix("builtin:") {
            if name.is_empty() {
                return Err("builtin: needs a name (builtin:NAME)".into());
            }
            return Ok(Source::Builtin(name.to_string()));
        }
        if let Some(rest) = text.strip_prefix("oci://") {
            return Reference::parse(rest).map(Source::Oci);
        }
        if text.starts_with("https://") {
            return Ok(Source::Url(text.to_string()));
        }
        if let Some(rest) = text.strip_prefix("http://") {
            let host = rest.split(['/', ':']).next().unwrap_or("");
            if crate::oci::is_loopback(host) {
                return Ok(Source::Url(text.to_string()));
            }
            return Err("plain http:// is only allowed for loopback hosts; use https://".into());
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(format!("unknown scheme {scheme}:// (use a path, https://, oci:// or builtin:)"));
        }
        let path = match text.strip_prefix("~/") {
            Some(rest) => std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(rest),
            None => base.join(text),
        };
        Ok(Source::Path(path))
    }

    /// Whether the source is fetched over the network (and so cached).
    pub fn is_remote(&self) -> bool {
        matches!(self, Source::Url(_) | Source::Oci(_))
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Path(p) => write!(f, "{}", p.display()),
            Source::Url(u) => f.write_str(u),
            Source::Oci(r) => write!(f, "oci://{r}"),
            Source::Builtin(n) => write!(f, "builtin:{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::parse_sha256;

    #[test]
    fn parses_every_kind() {
        let base = Path::new("/proj");
        assert_eq!(Source::parse("plugins/x", base).unwrap(), Source::Path("/proj/plugins/x".into()));
        assert_eq!(Source::parse("/abs/x.wasm", base).unwrap(), Source::Path("/abs/x.wasm".into()));
        assert_eq!(Source::parse("builtin:docker", base).unwrap(), Source::Builtin("docker".into()));
        assert!(matches!(Source::parse("https://e.com/x.wasm", base).unwrap(), Source::Url(_)));
        assert!(matches!(Source::parse("http://127.0.0.1:8/x.wasm", base).unwrap(), Source::Url(_)));
        assert!(Source::parse("http://e.com/x.wasm", base).unwrap_err().contains("loopback"));
        assert!(Source::parse("ftp://e.com/x", base).unwrap_err().contains("unknown scheme"));
        let s = Source::parse("oci://localhost:5000/acme/notify:1.0", base).unwrap();
        assert_eq!(s.to_string(), "oci://localhost:5000/acme/notify:1.0");
        assert!(Source::parse("builtin:", base).is_err());
    }

    #[test]
    fn sha256s() {
        let h = "ab".repeat(32);
        assert_eq!(parse_sha256(&h).unwrap(), h);
        assert_eq!(parse_sha256(&format!("sha256:{}", h.to_uppercase())).unwrap(), h);
        assert!(parse_sha256("abc").is_err());
    }
}
