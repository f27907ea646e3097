//! `plugin.toml`: what a plugin is and what it needs.
//!
//! ```toml
//! name = "rust-notify"            # [a-z0-9_-], unique among the plugins of a project
//! version = "0.1.0"               # the plugin's own version
//! world = "hook"                  # hook | secrets-adapter | builder
//! api = "0.1.0"                   # the wharf:plugin WIT version the component was built against
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
//! # Hosts the plugin may reach over wasi:http (reserved: no network is offered yet).
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
    pub api: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub component: Option<String>,
    #[serde(default)]
    pub capabilities: Capabilities,
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
        if !SUPPORTED_APIS.iter().any(|v| api_compatible(v, &self.api)) {
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
