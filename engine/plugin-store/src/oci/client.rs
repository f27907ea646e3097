//! The distribution API client: blob and manifest upload and download, with authentication.

use std::sync::Mutex;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::auth::{self, Challenge, Credentials};
use super::{Reference, CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE, MANIFEST_MEDIA_TYPE};
use crate::net::{chain, read_capped, NetOptions};
use crate::pack::sha256_hex;

/// A connection to one repository of one registry.
pub struct Registry {
    client: reqwest::Client,
    base: String,
    repository: String,
    credentials: Option<Credentials>,
    authorization: Mutex<Option<String>>,
}

/// What a push produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pushed {
    /// Hex sha256 of the manifest: pull it as `REPO@sha256:<manifest_digest>`.
    pub manifest_digest: String,
    /// Hex sha256 of the layer (the packed file).
    pub layer_digest: String,
}

/// What a pull produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pulled {
    pub manifest_digest: String,
    /// The packed plugin file (its sha256 checked against the layer descriptor).
    pub layer: Vec<u8>,
    pub layer_digest: String,
}

/// The manifest's annotations and the config's component description for a packed plugin.
pub struct ArtifactInfo<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub world: &'a str,
    pub api: &'a str,
    pub description: Option<&'a str>,
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

impl Registry {
    /// Prepares requests to `reference`'s registry and repository.
    pub fn new(reference: &Reference, net: &NetOptions) -> Result<Registry, String> {
        let scheme = if net.is_insecure(&reference.registry, reference.host()) { "http" } else { "https" };
        let host = match reference.registry.as_str() {
            "docker.io" | "index.docker.io" => "registry-1.docker.io",
            r => r,
        };
        let credentials = net.docker_config.as_deref().and_then(|p| auth::docker_credentials(p, &reference.registry));
        Ok(Registry {
            client: net.client()?,
            base: format!("{scheme}://{host}"),
            repository: reference.repository.clone(),
            credentials,
            authorization: Mutex::new(None),
        })
    }

    fn url(&self, rest: &str) -> String {
        format!("{}/v2/{}/{rest}", self.base, self.repository)
    }

    /// Sends a request, authenticating once after a 401.
    async fn send(
        &self,
        method: Method,
        url: &str,
        content_type: Option<&str>,
        accept: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<reqwest::Response, String> {
        let build = |auth: Option<String>| {
            let mut rb = self.client.request(method.clone(), url);
            if let Some(ct) = content_type {
                rb = rb.header(CONTENT_TYPE, ct);
            }
            if let Some(a) = accept {
                rb = rb.header(ACCEPT, a);
            }
            if let Some(a) = auth {
                rb = rb.header(AUTHORIZATION, a);
            }
            if let Some(b) = body {
                rb = rb.body(b.to_vec());
            } else if method == Method::PUT || method == Method::POST {
                rb = rb.header(reqwest::header::CONTENT_LENGTH, "0");
            }
            rb
        };
        let current = self.authorization.lock().unwrap().clone();
        let resp = build(current.clone()).send().await.map_err(|e| format!("{method} {url}: {}", chain(&e)))?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let challenge =
            resp.headers().get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).and_then(auth::parse_challenge);
        let new_auth = match challenge {
            Some(Challenge::Basic) => match &self.credentials {
                Some(c) => auth::basic(c),
                None => {
                    return Err(format!(
                        "{method} {url}: the registry wants a login (no credentials for it in the Docker config)"
                    ))
                }
            },
            Some(Challenge::Bearer { realm, service, scope }) => {
                let scope = scope.unwrap_or_else(|| format!("repository:{}:pull,push", self.repository));
                format!("Bearer {}", self.token(&realm, service.as_deref(), &scope).await?)
            }
            None => return Err(format!("{method} {url}: 401 Unauthorized without a usable challenge")),
        };
        if current.as_deref() == Some(new_auth.as_str()) {
            return Err(format!("{method} {url}: 401 Unauthorized (credentials refused)"));
        }
        *self.authorization.lock().unwrap() = Some(new_auth.clone());
        build(Some(new_auth)).send().await.map_err(|e| format!("{method} {url}: {}", chain(&e)))
    }

    async fn token(&self, realm: &str, service: Option<&str>, scope: &str) -> Result<String, String> {
        let mut rb = self.client.get(realm).query(&[("scope", scope)]);
        if let Some(s) = service {
            rb = rb.query(&[("service", s)]);
        }
        if let Some(c) = &self.credentials {
            rb = rb.header(AUTHORIZATION, auth::basic(c));
        }
        let resp = rb.send().await.map_err(|e| format!("token from {realm}: {}", chain(&e)))?;
        if !resp.status().is_success() {
            return Err(format!("token from {realm}: {}", resp.status()));
        }
        let json: serde_json::Value = resp.json().await.map_err(|e| format!("token from {realm}: {}", chain(&e)))?;
        json.get("token")
            .or_else(|| json.get("access_token"))
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .ok_or_else(|| format!("token from {realm}: no token in the answer"))
    }

    async fn fail(what: &str, resp: reqwest::Response) -> String {
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        let body: String = body.chars().take(300).collect();
        format!("{what}: {status} {}", body.trim())
    }

    /// Uploads a blob unless the registry already has it.
    async fn put_blob(&self, data: &[u8]) -> Result<String, String> {
        let digest = sha256_hex(data);
        let head = self.send(Method::HEAD, &self.url(&format!("blobs/sha256:{digest}")), None, None, None).await?;
        if head.status().is_success() {
            return Ok(digest);
        }
        let start = self.send(Method::POST, &self.url("blobs/uploads/"), None, None, None).await?;
        if start.status() != StatusCode::ACCEPTED {
            return Err(Self::fail("starting a blob upload", start).await);
        }
        let location = start
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or("starting a blob upload: no Location in the answer")?;
        let mut url = if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else {
            format!("{}{location}", self.base)
        };
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!("digest=sha256:{digest}"));
        let done = self.send(Method::PUT, &url, Some("application/octet-stream"), None, Some(data)).await?;
        if done.status() != StatusCode::CREATED {
            return Err(Self::fail("uploading a blob", done).await);
        }
        Ok(digest)
    }

    /// Pushes a packed plugin file as a wasm artifact under `tag` (or only by digest, when
    /// `tag` is `None`).
    pub async fn push(&self, packed: &[u8], info: &ArtifactInfo<'_>, tag: Option<&str>) -> Result<Pushed, String> {
        let layer_digest = self.put_blob(packed).await?;
        let config = json!({
            "created": rfc3339_now(),
            "architecture": "wasm",
            "os": "wasip2",
            "layerDigests": [format!("sha256:{layer_digest}")],
            "component": {
                "imports": info.imports,
                "exports": info.exports,
                "target": format!("wharf:plugin/{}@{}", info.world, info.api),
            },
        });
        let config = serde_json::to_vec(&config).expect("json");
        let config_digest = self.put_blob(&config).await?;
        let mut annotations = serde_json::Map::new();
        annotations.insert("org.opencontainers.image.title".into(), info.name.into());
        annotations.insert("org.opencontainers.image.version".into(), info.version.into());
        if let Some(d) = info.description {
            annotations.insert("org.opencontainers.image.description".into(), d.into());
        }
        annotations.insert("dev.wharf.plugin.world".into(), info.world.into());
        annotations.insert("dev.wharf.plugin.api".into(), info.api.into());
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": { "mediaType": CONFIG_MEDIA_TYPE, "digest": format!("sha256:{config_digest}"), "size": config.len() },
            "layers": [{
                "mediaType": LAYER_MEDIA_TYPE,
                "digest": format!("sha256:{layer_digest}"),
                "size": packed.len(),
                "annotations": { "org.opencontainers.image.title": format!("{}.wasm", info.name) },
            }],
            "annotations": annotations,
        });
        let manifest = serde_json::to_vec(&manifest).expect("json");
        let manifest_digest = sha256_hex(&manifest);
        let selector = tag.map(str::to_string).unwrap_or_else(|| format!("sha256:{manifest_digest}"));
        let resp = self
            .send(
                Method::PUT,
                &self.url(&format!("manifests/{selector}")),
                Some(MANIFEST_MEDIA_TYPE),
                None,
                Some(&manifest),
            )
            .await?;
        if resp.status() != StatusCode::CREATED {
            return Err(Self::fail("uploading the manifest", resp).await);
        }
        if let Some(d) = resp.headers().get("docker-content-digest").and_then(|v| v.to_str().ok()) {
            if d != format!("sha256:{manifest_digest}") {
                return Err(format!("the registry stored the manifest as {d}, expected sha256:{manifest_digest}"));
            }
        }
        Ok(Pushed { manifest_digest, layer_digest })
    }

    /// Pulls the manifest at `selector` (a tag or `sha256:HEX`) and its wasm layer.
    pub async fn pull(&self, selector: &str) -> Result<Pulled, String> {
        let accept = format!("{MANIFEST_MEDIA_TYPE}, application/vnd.docker.distribution.manifest.v2+json;q=0.5");
        let resp =
            self.send(Method::GET, &self.url(&format!("manifests/{selector}")), None, Some(&accept), None).await?;
        if !resp.status().is_success() {
            return Err(Self::fail(&format!("manifest {selector}"), resp).await);
        }
        let body = read_capped(resp).await.map_err(|e| format!("manifest {selector}: {e}"))?;
        let manifest_digest = sha256_hex(&body);
        if let Some(expected) = selector.strip_prefix("sha256:") {
            if expected != manifest_digest {
                return Err(format!(
                    "manifest digest mismatch: expected sha256:{expected}, got sha256:{manifest_digest}"
                ));
            }
        }
        let json: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| format!("manifest {selector}: not JSON: {e}"))?;
        let layers: Vec<&serde_json::Value> = json
            .get("layers")
            .and_then(|l| l.as_array())
            .map(|l| {
                l.iter().filter(|d| d.get("mediaType").and_then(|m| m.as_str()) == Some(LAYER_MEDIA_TYPE)).collect()
            })
            .unwrap_or_default();
        let [layer] = layers.as_slice() else {
            return Err(format!(
                "manifest {selector}: expected one {LAYER_MEDIA_TYPE} layer, found {} (not a Wharf plugin artifact?)",
                layers.len()
            ));
        };
        let layer_digest = layer
            .get("digest")
            .and_then(|d| d.as_str())
            .and_then(|d| d.strip_prefix("sha256:"))
            .ok_or_else(|| format!("manifest {selector}: the layer has no sha256 digest"))?
            .to_string();
        let size = layer.get("size").and_then(|s| s.as_u64());
        let resp = self.send(Method::GET, &self.url(&format!("blobs/sha256:{layer_digest}")), None, None, None).await?;
        if !resp.status().is_success() {
            return Err(Self::fail(&format!("layer sha256:{layer_digest}"), resp).await);
        }
        let data = read_capped(resp).await.map_err(|e| format!("layer sha256:{layer_digest}: {e}"))?;
        let actual = sha256_hex(&data);
        if actual != layer_digest {
            return Err(format!("layer digest mismatch: expected sha256:{layer_digest}, got sha256:{actual}"));
        }
        if size.is_some_and(|s| s != data.len() as u64) {
            return Err(format!("layer size mismatch: expected {} bytes, got {}", size.unwrap_or(0), data.len()));
        }
        Ok(Pulled { manifest_digest, layer: data, layer_digest })
    }
}

/// Now, as `2026-01-02T03:04:05Z`.
fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}
