//! Plugins compiled into the binary (`builtin:NAME`). The store does not depend on the crate
//! that embeds them: the caller hands it a list (the CLI passes `wharf_builtin_plugins::all()`).

/// A plugin embedded in the binary: its `plugin.toml` text and its component.
#[derive(Clone, Copy, Debug)]
pub struct BuiltinPlugin {
    pub name: &'static str,
    pub manifest: &'static str,
    pub wasm: &'static [u8],
}
