//! Host bindings, one module per released version of the `wharf:plugin` WIT.
//!
//! A new version gets a module beside `v0_1`; interfaces it leaves unchanged can be remapped
//! to the older bindings with `with:`, and [`crate::plugin`] dispatches on the version a
//! plugin was built against.

pub mod v0_1 {
    //! `wharf:plugin@0.1.0` (`wit/wharf-plugin@0.1.0`).

    /// The shared imports (`log`, `process`, `files`).
    pub mod imports {
        wasmtime::component::bindgen!({
            path: "../../wit/wharf-plugin@0.1.0",
            world: "imports",
            imports: { default: async | trappable },
        });
    }

    pub mod hook {
        wasmtime::component::bindgen!({
            path: "../../wit/wharf-plugin@0.1.0",
            world: "hook",
            imports: { default: async | trappable },
            exports: { default: async },
            with: { "wharf:plugin": super::imports::wharf::plugin },
        });
    }

    pub mod secrets_adapter {
        wasmtime::component::bindgen!({
            path: "../../wit/wharf-plugin@0.1.0",
            world: "secrets-adapter",
            imports: { default: async | trappable },
            exports: { default: async },
            with: { "wharf:plugin": super::imports::wharf::plugin },
        });
    }

    pub mod builder {
        wasmtime::component::bindgen!({
            path: "../../wit/wharf-plugin@0.1.0",
            world: "builder",
            imports: { default: async | trappable },
            exports: { default: async },
            with: { "wharf:plugin": super::imports::wharf::plugin },
        });
    }
}
