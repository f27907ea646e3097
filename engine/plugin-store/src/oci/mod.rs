//! Plugins as OCI artifacts, over the registry's distribution API (HTTP API v2).
//!
//! The layout follows the CNCF TAG Runtime "Wasm OCI artifact" format: an image manifest
//! (`application/vnd.oci.image.manifest.v1+json`) whose config blob is
//! `application/vnd.wasm.config.v0+json` (`architecture: wasm`, `os: wasip2`, the layer
//! digests, and the component's imports, exports and target world) and whose single layer is
//! the packed plugin file, `application/wasm`. The manifest's annotations carry the plugin's
//! name, version, world and API (`dev.wharf.plugin.*`, `org.opencontainers.image.*`).
//!
//! Push uploads the two blobs (skipped when the registry has them: `HEAD`), monolithically
//! (`POST` an upload, `PUT` with `?digest=`), then `PUT`s the manifest under the tag. Pull
//! `GET`s the manifest (checked against the digest when the reference has one), then the
//! `application/wasm` layer, checked against its descriptor's digest and size.
//!
//! HTTPS, except for loopback registries and those listed as insecure
//! ([`NetOptions`](crate::NetOptions)). Authentication: see [`auth`].

pub mod auth;
mod client;
mod reference;

pub use client::{ArtifactInfo, Pulled, Pushed, Registry};
pub use reference::Reference;

/// The manifest media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The config blob's media type (CNCF wasm artifact).
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The layer's media type.
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";

/// Whether `host` is a loopback name or address (`localhost`, `127.x.y.z`, `::1`).
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}
