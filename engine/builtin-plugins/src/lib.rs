//! Wharf's built-in plugins, embedded in the binary: Kamal's secrets adapters (`1password`,
//! `bitwarden`, `bitwarden-sm`, `lastpass`, `doppler`, `aws_secrets_manager`,
//! `gcp_secret_manager`, `passbolt`, `enpass`) as WebAssembly components.
//!
//! Each is a crate of the `plugins/builtin` workspace with a `plugin.toml`; the build script
//! builds that workspace for wasm32-wasip2 and embeds every such crate's manifest and
//! component. Load one with `wharf_plugin_host::PluginHost::load(Manifest::from_toml(b.manifest,
//! b.name)?, b.wasm)`.

/// One built-in plugin.
#[derive(Debug)]
pub struct Builtin {
    /// The manifest's `name` (for secrets adapters, Kamal's adapter name: `1password`).
    pub name: &'static str,
    /// The text of its `plugin.toml`.
    pub manifest: &'static str,
    /// Its component (wasm32-wasip2).
    pub wasm: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

/// Every built-in plugin, sorted by name.
pub fn all() -> &'static [Builtin] {
    ALL
}

/// The built-in plugin named `name`.
pub fn find(name: &str) -> Option<&'static Builtin> {
    ALL.iter().find(|b| b.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_is_a_component_with_its_manifest() {
        assert!(!all().is_empty());
        for b in all() {
            assert!(b.manifest.contains(&format!("name = \"{}\"", b.name)), "{}", b.name);
            // The component binary format: magic, then version 0x0d layer 1.
            assert_eq!(&b.wasm[..8], b"\0asm\x0d\0\x01\0", "{} is not a component", b.name);
        }
        assert!(find("1password").is_some());
        assert!(find("nope").is_none());
    }
}
