//! `REGISTRY/REPOSITORY[:TAG][@sha256:HEX]`: an OCI artifact reference (after `oci://`).

use crate::pack::parse_sha256;

/// A parsed reference. Without a tag or digest, the tag is `latest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// `ghcr.io`, `localhost:5000`, `[::1]:5000`.
    pub registry: String,
    /// `acme/notify`.
    pub repository: String,
    pub tag: Option<String>,
    /// Hex sha256 of the manifest.
    pub digest: Option<String>,
}

impl Reference {
    pub fn parse(text: &str) -> Result<Reference, String> {
        let (rest, digest) = match text.split_once('@') {
            Some((r, d)) => (r, Some(parse_sha256(d).map_err(|e| format!("digest: {e}"))?)),
            None => (text, None),
        };
        let (registry, path) = rest.split_once('/').ok_or("expected oci://REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST]")?;
        if registry.is_empty() {
            return Err("empty registry".into());
        }
        // A tag is after the last `:` of the path (the registry's port is before the first `/`).
        let (repository, tag) = match path.rsplit_once(':') {
            Some((r, t)) => (r, Some(t.to_string())),
            None => (path, None),
        };
        let repo_ok = !repository.is_empty()
            && repository.split('/').all(|part| {
                !part.is_empty()
                    && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            });
        if !repo_ok {
            return Err(format!("repository {repository:?} must be lowercase a-z, 0-9, ., _, - and /"));
        }
        if let Some(t) = &tag {
            let ok = !t.is_empty()
                && t.len() <= 128
                && t.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                && !t.starts_with(['.', '-']);
            if !ok {
                return Err(format!("tag {t:?} is not a valid tag"));
            }
        }
        let tag = if tag.is_none() && digest.is_none() { Some("latest".to_string()) } else { tag };
        Ok(Reference { registry: registry.to_string(), repository: repository.to_string(), tag, digest })
    }

    /// What to ask the registry for: the digest when there is one, else the tag.
    pub fn selector(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => format!("sha256:{d}"),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".into(),
        }
    }

    /// The same repository at a digest (what a lock file pins).
    pub fn at_digest(&self, digest: &str) -> Reference {
        Reference { tag: None, digest: Some(digest.to_string()), ..self.clone() }
    }

    /// The host name without the port (`localhost`, `::1`).
    pub fn host(&self) -> &str {
        let r = self.registry.as_str();
        if let Some(rest) = r.strip_prefix('[') {
            return rest.split(']').next().unwrap_or(rest);
        }
        r.split(':').next().unwrap_or(r)
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@sha256:{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let r = Reference::parse("localhost:5000/acme/notify:1.0").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("localhost:5000", "acme/notify", Some("1.0"))
        );
        assert_eq!(r.host(), "localhost");
        let d = "0f".repeat(32);
        let r = Reference::parse(&format!("ghcr.io/a/b@sha256:{d}")).unwrap();
        assert_eq!((r.tag.clone(), r.digest.as_deref()), (None, Some(d.as_str())));
        assert_eq!(r.selector(), format!("sha256:{d}"));
        assert_eq!(Reference::parse("ghcr.io/a/b").unwrap().tag.as_deref(), Some("latest"));
        assert_eq!(Reference::parse("[::1]:5000/a:t").unwrap().host(), "::1");
        assert!(Reference::parse("ghcr.io").is_err());
        assert!(Reference::parse("ghcr.io/A/b").is_err());
        assert!(Reference::parse("ghcr.io/a/b:").is_err());
        assert!(Reference::parse("ghcr.io/a@sha256:12").is_err());
    }
}
