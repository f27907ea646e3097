//! The plugin host's tests, against real components built for wasm32-wasip2. One test binary;
//! where a new test goes:
//!
//! - `worlds`: the secrets-adapter and builder worlds with well-behaved fixture plugins.
//! - `sandbox`: the limits against hostile plugins (`plugins/attacks`) and the hook world.
//! - `guest_languages`: the Python and JavaScript kits end to end.
//! - `wit_frozen`: a released `wit/` folder never changes.
//!
//! `common` builds the guests once (cached under `target/wasm-guests`) and collects log records.

mod common;

mod guest_languages;
mod sandbox;
mod wit_frozen;
mod worlds;
