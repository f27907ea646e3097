//! `plugin.toml`: what a plugin is and what it needs.
//!
//! ```toml
//! name = "rust-notify"            # [a-z0-9_-], unique among the plugins of a project
//! version = "0.1.0"               # the plugin's own version
//! world = "hook"                  # hook | secrets-adapter | builder
//! api = "0.1.0"                   # optional: the wharf:plugin version the component was built
//!                                 # against; the SDKs stamp it into the component
//!                                 # (`wharf:api-version`), which is read instead
//! description = "Says that a deploy finished"   # optional
//! component = "rust_notify.wasm"  # optional: the component, relative to this file
//!                                 # (default: NAME.wasm beside it)
//!
//! [capabilities]                  # optional; every list defaults to empty
//! # Programs the plugin may run through `process`, with one pattern per argument (see
//! # "Argument patterns" in `capabilities::process`).
//! programs = [{ program = "git", args = ["rev-parse", "--short", "*"] }]
//! # Directories the plugin may read (through `files` and WASI, read-only). Relative paths are
//! # relative to the grant's working directory (the project); `~/` is the user's home.
//! directories = ["."]
//! # Hosts the plugin may reach over wasi:http (the only network a plugin is offered).
//! # `*.example.com` matches any subdomain.
//! hosts = ["hooks.slack.com"]
//! ```
//!
//! Declaring a capability grants nothing: the user's [`Grant`](crate::Grant) must allow it
//! too, and only what both allow is available.
//!
//! Each `[capabilities]` field belongs to one capability module, which validates it:
//! `programs` to [`process`](crate::capabilities::process) (with the argument patterns),
//! `directories` to [`files`](crate::capabilities::files), `hosts` to
//! [`http`](crate::capabilities::http), `env` to [`env`](crate::capabilities::env), `terminal`
//! to [`terminal`](crate::capabilities::terminal).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::capabilities::Capabilities;
use crate::error::PluginError;

/// The kind of plugin: which WIT world its component implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    /// `wharf:plugin/hook`: a deploy hook.
    Hook,
    /// `wharf:plugin/secrets-adapter`: a secrets adapter.
    SecretsAdapter,
    /// `wharf:plugin/builder`: an image builder.
    Builder,
}

impl World {
    /// The world's WIT name (`hook`, `secrets-adapter`, `builder`).
    pub fn as_str(self) -> &'static str {
        match self {
            World::Hook => "hook",
            World::SecretsAdapter => "secrets-adapter",
            World::Builder => "builder",
        }
    }
}

impl std::fmt::Display for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed `plugin.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub world: World,
    /// The `wharf:plugin` API version. Optional in plugin.toml: the SDKs stamp it into the
    /// component (custom section `wharf:api-version`), and [`Manifest::with_component`] takes it
    /// from there; empty until then.
    #[serde(default)]
    pub api: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub component: Option<String>,
    #[serde(default)]
    pub capabilities: Capabilities,
}

/// The custom section in which the SDKs stamp the API version a component was built against.
pub const API_VERSION_SECTION: &str = "wharf:api-version";

/// The API version stamped into a component (the first `wharf:api-version` custom section, at
/// any depth: the Rust SDK's is in the core module, the Python and JavaScript kits' at the top).
pub fn api_stamp(wasm: &[u8]) -> Option<String> {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload {
            Ok(wasmparser::Payload::CustomSection(c)) if c.name() == API_VERSION_SECTION => {
                return std::str::from_utf8(c.data()).ok().map(|v| v.trim().to_string());
            }
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

/// The API versions of `wharf:plugin` this host can run.
pub const SUPPORTED_APIS: &[&str] = &["0.1.0"];

impl Manifest {
    /// Parses and validates a manifest. `origin` names it in errors (a path, or a plugin name).
    pub fn from_toml(text: &str, origin: &str) -> Result<Manifest, PluginError> {
        let m: Manifest = toml::from_str(text)
            .map_err(|e| PluginError::Manifest { plugin: origin.to_string(), message: e.to_string() })?;
        m.validate()?;
        Ok(m)
    }

    /// The manifest with its API version settled against `wasm`, its component: the version the
    /// SDK stamped there (custom section `wharf:api-version`, as Zed's extension API stamps its
    /// own), which plugin.toml need not repeat and may not contradict; plugin.toml's `api` for a
    /// component built without a Wharf SDK; an error when neither says.
    pub fn with_component(mut self, wasm: &[u8]) -> Result<Manifest, PluginError> {
        let err = |message: String| Err(PluginError::Manifest { plugin: self.name.clone(), message });
        match (api_stamp(wasm), self.api.is_empty()) {
            (Some(stamp), false) if stamp != self.api => {
                return err(format!(
                    "plugin.toml says api {:?} but the component was built against API {stamp:?} (stamped by the SDK): remove api from plugin.toml",
                    self.api
                ))
            }
            (Some(stamp), _) => self.api = stamp,
            (None, true) => {
                return err(
                    "no API version: build the component with a Wharf SDK (which stamps it) or set api in plugin.toml"
                        .into(),
                )
            }
            (None, false) => {}
        }
        if !SUPPORTED_APIS.iter().any(|v| api_compatible(v, &self.api)) {
            return err(format!("api {:?} is not supported (this host runs {})", self.api, SUPPORTED_APIS.join(", ")));
        }
        Ok(self)
    }

    /// Reads `path` (a `plugin.toml`) and returns the manifest with the path of its component.
    pub fn from_file(path: &Path) -> Result<(Manifest, PathBuf), PluginError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| PluginError::Manifest { plugin: origin.clone(), message: format!("cannot read: {e}") })?;
        let m = Manifest::from_toml(&text, &origin)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let component = dir.join(m.component.clone().unwrap_or_else(|| format!("{}.wasm", m.name)));
        Ok((m, component))
    }

    fn validate(&self) -> Result<(), PluginError> {
        let err = |message: String| Err(PluginError::Manifest { plugin: self.name.clone(), message });
        if self.name.is_empty()
            || !self.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return err(format!("name {:?} must be non-empty and use only a-z, 0-9, - and _", self.name));
        }
        if !self.api.is_empty() && !SUPPORTED_APIS.iter().any(|v| api_compatible(v, &self.api)) {
            return err(format!("api {:?} is not supported (this host runs {})", self.api, SUPPORTED_APIS.join(", ")));
        }
        if let Err(message) = self.capabilities.validate() {
            return err(message);
        }
        Ok(())
    }
}

/// Whether a component built against WIT version `built` runs on a host that offers `offered`:
/// same major version, and for 0.x the same minor version, with `built` not newer.
pub(crate) fn api_compatible(offered: &str, built: &str) -> bool {
    let parse = |v: &str| -> Option<(u64, u64, u64)> {
        let mut it = v.split('.').map(|p| p.parse::<u64>().ok());
        Some((it.next()??, it.next()??, it.next()??))
    };
    match (parse(offered), parse(built)) {
        (Some(o), Some(b)) => {
            if o.0 == 0 {
                b.0 == 0 && o.1 == b.1 && b.2 <= o.2
            } else {
                o.0 == b.0 && (b.1, b.2) <= (o.1, o.2)
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::process::ProgramRule;

    /// An empty component, stamped with `version` when given (the section the SDKs write).
    fn component(stamp: Option<&str>) -> Vec<u8> {
        let mut wasm = wat::parse_str("(component)").unwrap();
        if let Some(v) = stamp {
            let name = API_VERSION_SECTION.as_bytes();
            let body: Vec<u8> = [&[name.len() as u8][..], name, v.as_bytes()].concat();
            wasm.extend([0u8, body.len() as u8]);
            wasm.extend(body);
        }
        wasm
    }

    const NO_API: &str = "name = \"a\"\nversion = \"1\"\nworld = \"hook\"\n";

    #[test]
    fn the_api_version_comes_from_the_sdks_stamp() {
        assert_eq!(api_stamp(&component(Some("0.1.0"))).as_deref(), Some("0.1.0"));
        assert_eq!(api_stamp(&component(None)), None);
        let m = Manifest::from_toml(NO_API, "t").unwrap();
        assert_eq!(m.api, "");
        assert_eq!(m.clone().with_component(&component(Some("0.1.0"))).unwrap().api, "0.1.0");
        // plugin.toml may repeat the stamp, not contradict it.
        let same = Manifest::from_toml(&format!("{NO_API}api = \"0.1.0\""), "t").unwrap();
        assert_eq!(same.with_component(&component(Some("0.1.0"))).unwrap().api, "0.1.0");
        let other = Manifest::from_toml(&format!("{NO_API}api = \"0.1.1\""), "t");
        assert!(other.is_err(), "0.1.1 is not supported by this host");
        let e = m.clone().with_component(&component(Some("0.2.0"))).unwrap_err();
        assert_eq!(e.to_string(), "plugin a: invalid manifest: api \"0.2.0\" is not supported (this host runs 0.1.0)");
        // A component built without an SDK says it in plugin.toml, or is refused.
        let e = m.clone().with_component(&component(None)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "plugin a: invalid manifest: no API version: build the component with a Wharf SDK (which stamps it) or set api in plugin.toml"
        );
        let declared = Manifest::from_toml(&format!("{NO_API}api = \"0.1.0\""), "t").unwrap();
        assert_eq!(declared.with_component(&component(None)).unwrap().api, "0.1.0");
    }

    #[test]
    fn a_plugin_toml_contradicting_the_stamp_is_refused() {
        let m = Manifest::from_toml(&format!("{NO_API}api = \"0.1.0\""), "t").unwrap();
        let mut stamped = component(Some("0.1.0"));
        // the same component stamped by another SDK version
        let at = stamped.len() - 5;
        stamped[at..].copy_from_slice(b"0.1.2");
        let e = m.with_component(&stamped).unwrap_err();
        assert!(
            e.to_string().contains("plugin.toml says api \"0.1.0\" but the component was built against API \"0.1.2\""),
            "{e}"
        );
    }

    #[test]
    fn parses_the_documented_example() {
        let m = Manifest::from_toml(
            r#"
name = "rust-notify"
version = "0.1.0"
world = "hook"
api = "0.1.0"
description = "Says that a deploy finished"

[capabilities]
programs = [{ program = "git", args = ["rev-parse", "--short", "*"] }]
directories = ["."]
hosts = ["hooks.slack.com"]
"#,
            "test",
        )
        .unwrap();
        assert_eq!(m.world, World::Hook);
        assert_eq!(m.capabilities.programs[0], ProgramRule::new("git", ["rev-parse", "--short", "*"]));
        assert_eq!(m.capabilities.directories, ["."]);
    }

    #[test]
    fn rejects_bad_manifests() {
        let base = "version = \"1\"\nworld = \"hook\"\n";
        let e = Manifest::from_toml(&format!("name = \"Bad Name\"\n{base}api = \"0.1.0\""), "t").unwrap_err();
        assert!(e.to_string().contains("must be non-empty"), "{e}");
        let e = Manifest::from_toml(&format!("name = \"a\"\n{base}api = \"0.2.0\""), "t").unwrap_err();
        assert!(e.to_string().contains("not supported"), "{e}");
        let e = Manifest::from_toml(&format!("name = \"a\"\n{base}api = \"0.1.0\"\nworld2 = 1"), "t").unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
        let e = Manifest::from_toml(
            &format!("name = \"a\"\n{base}api = \"0.1.0\"\n[capabilities]\nprograms = [{{ program = \"git\", args = [\"**\", \"x\"] }}]"),
            "t",
        )
        .unwrap_err();
        assert!(e.to_string().contains("last argument pattern"), "{e}");
    }

    #[test]
    fn api_versions() {
        assert!(api_compatible("0.1.0", "0.1.0"));
        assert!(api_compatible("0.1.2", "0.1.0"));
        assert!(!api_compatible("0.1.0", "0.1.1"));
        assert!(!api_compatible("0.2.0", "0.1.0"));
        assert!(api_compatible("1.2.0", "1.1.5"));
        assert!(!api_compatible("1.2.0", "2.0.0"));
    }
}
