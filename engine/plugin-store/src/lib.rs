//! Where Wharf's plugins come from.
//!
//! - [`pack`]: a self-contained plugin file is the component with its `plugin.toml` in a
//!   top-level custom section named `wharf-plugin`; still a valid component.
//! - [`Source`]: a local path (a `plugin.toml`, a directory holding one, or a packed `.wasm`),
//!   `https://` (a packed file; a sha256 is required), `oci://REGISTRY/REPO:TAG` or
//!   `oci://REGISTRY/REPO@sha256:...` (a wasm OCI artifact, see [`oci`]), `builtin:NAME`.
//! - [`BlobCache`]: downloaded files, content-addressed under the user's cache directory,
//!   verified on every read.
//! - [`LockFile`]: `.kamal/plugins.lock` pins each plugin's digest; [`Store::load`] honours
//!   it, [`Store::fetch`] rewrites it, [`Store::verify`] checks it.
//!
//! ```ignore
//! let store = Store::new(project).with_builtins(builtins);
//! let lock = store.read_lock()?;
//! let resolved = store.load(&PluginSpec::new("notify", "oci://ghcr.io/acme/notify:1.0"), lock.as_ref()).await?;
//! let plugin = resolved.load(&host)?;
//! ```
//!
//! See docs/plugin-sources.md for the user's view.

mod builtin;
mod cache;
mod error;
mod inspect;
mod lock;
mod net;
pub mod oci;
pub mod pack;
mod source;
mod store;

pub use builtin::BuiltinPlugin;
pub use cache::{BlobCache, Corrupt};
pub use error::{Result, StoreError};
pub use inspect::{component_interfaces, interfaces, Interfaces};
pub use lock::{LockEntry, LockFile, LOCK_PATH};
pub use net::{NetOptions, MAX_PLUGIN_SIZE};
pub use pack::parse_sha256;
pub use pack::{pack, unpack, PackError};
pub use source::Source;
pub use store::{PluginSpec, Resolved, Store, Verified};
