//! Write [Wharf](https://github.com/) plugins in Rust.
//!
//! A plugin is a WebAssembly component (target `wasm32-wasip2`) implementing one world of the
//! `wharf:plugin@0.1.0` WIT package (`wit/wharf-plugin@0.1.0/` in the Wharf repository). This
//! crate wraps the generated bindings so that a hook is a few lines:
//!
//! ```ignore
//! use wharf_plugin_sdk::{Context, Hook};
//!
//! struct Notify;
//!
//! impl Hook for Notify {
//!     fn run(ctx: &Context) -> Result<(), String> {
//!         wharf_plugin_sdk::info!("deployed {}", ctx.version().unwrap_or("?"));
//!         Ok(())
//!     }
//! }
//!
//! wharf_plugin_sdk::export_hook!(Notify);
//! ```
//!
//! with, in `Cargo.toml`, `crate-type = ["cdylib"]` and, for a world other than `hook`,
//! `wharf-plugin-sdk = { ..., default-features = false, features = ["secrets-adapter"] }`
//! (or `"builder"`); build with `cargo build --release --target wasm32-wasip2`.
//!
//! What the host offers: [`log`] (masked by the host), [`process`] (allow-listed programs),
//! [`files`] (granted directories, also reachable with `std::fs`), [`http`] (requests to
//! granted hosts only; no other network). The environment holds only granted variables; the
//! hook's variables are in its [`Context`].

extern crate self as wharf_plugin_sdk;

/// The plugin API (the `wharf:plugin` WIT package version) this SDK builds against.
pub const API_VERSION: &str = "0.1.0";

/// Stamps [`API_VERSION`] into the plugin, as Zed's extension API does: a custom section
/// `wharf:api-version` holding the version's text, which Wharf reads to know which API the
/// component was built against (plugin.toml need not say it). The `export_*!` macros call it.
#[doc(hidden)]
#[macro_export]
macro_rules! stamp_api_version {
    () => {
        #[doc(hidden)]
        #[used]
        #[link_section = "wharf:api-version"]
        static __WHARF_API_VERSION: [u8; 5] = *b"0.1.0";
    };
}

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}

/// The raw bindings of the imports every world shares (`wharf:plugin/{log,process,files}`).
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/wharf-plugin@0.1.0",
        world: "imports",
        generate_all,
        runtime_path: "::wharf_plugin_sdk::__private::wit_bindgen::rt",
    });
}

pub mod files;
pub mod http;
pub mod log;
pub mod process;

#[cfg(feature = "hook")]
mod hook;
#[cfg(feature = "hook")]
#[doc(hidden)]
pub use hook::HookExport as __HookExport;
#[cfg(feature = "hook")]
pub use hook::{Context, Hook};

#[cfg(feature = "secrets-adapter")]
mod secrets;
#[cfg(feature = "secrets-adapter")]
pub use secrets::SecretsAdapter;
#[cfg(feature = "secrets-adapter")]
#[doc(hidden)]
pub use secrets::SecretsExport as __SecretsExport;

#[cfg(feature = "builder")]
mod builder;
#[cfg(feature = "builder")]
#[doc(hidden)]
pub use builder::BuilderExport as __BuilderExport;
#[cfg(feature = "builder")]
pub use builder::{BuildRequest, BuildResult, Builder};

/// The raw bindings of the `hook` world (its exports).
#[cfg(feature = "hook")]
#[doc(hidden)]
#[allow(clippy::too_many_arguments)]
pub mod hook_world {
    wit_bindgen::generate!({
        path: "../../wit/wharf-plugin@0.1.0",
        world: "hook",
        with: {
            "wharf:plugin/log@0.1.0": crate::bindings::wharf::plugin::log,
            "wharf:plugin/process@0.1.0": crate::bindings::wharf::plugin::process,
            "wharf:plugin/files@0.1.0": crate::bindings::wharf::plugin::files,
        },
        pub_export_macro: true,
        export_macro_name: "__export_hook_world",
        default_bindings_module: "::wharf_plugin_sdk::hook_world",
        runtime_path: "::wharf_plugin_sdk::__private::wit_bindgen::rt",
    });
}

/// The raw bindings of the `secrets-adapter` world (its exports).
#[cfg(feature = "secrets-adapter")]
#[doc(hidden)]
#[allow(clippy::too_many_arguments)]
pub mod secrets_world {
    wit_bindgen::generate!({
        path: "../../wit/wharf-plugin@0.1.0",
        world: "secrets-adapter",
        with: {
            "wharf:plugin/log@0.1.0": crate::bindings::wharf::plugin::log,
            "wharf:plugin/process@0.1.0": crate::bindings::wharf::plugin::process,
            "wharf:plugin/files@0.1.0": crate::bindings::wharf::plugin::files,
        },
        pub_export_macro: true,
        export_macro_name: "__export_secrets_adapter_world",
        default_bindings_module: "::wharf_plugin_sdk::secrets_world",
        runtime_path: "::wharf_plugin_sdk::__private::wit_bindgen::rt",
    });
}

/// The raw bindings of the `builder` world (its exports).
#[cfg(feature = "builder")]
#[doc(hidden)]
#[allow(clippy::too_many_arguments)]
pub mod builder_world {
    wit_bindgen::generate!({
        path: "../../wit/wharf-plugin@0.1.0",
        world: "builder",
        with: {
            "wharf:plugin/log@0.1.0": crate::bindings::wharf::plugin::log,
            "wharf:plugin/process@0.1.0": crate::bindings::wharf::plugin::process,
            "wharf:plugin/files@0.1.0": crate::bindings::wharf::plugin::files,
        },
        pub_export_macro: true,
        export_macro_name: "__export_builder_world",
        default_bindings_module: "::wharf_plugin_sdk::builder_world",
        runtime_path: "::wharf_plugin_sdk::__private::wit_bindgen::rt",
    });
}
