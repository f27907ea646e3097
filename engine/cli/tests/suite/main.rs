//! The `wharf` binary's tests, driven as a user drives it. One test binary; where a new test goes:
//!
//! - `new_project`: `wharf init`, `config` and `deploy --plan` in a fresh repository (no servers).
//! - `config_corpus`: real deploy.yml files against real Kamal's recorded answers (no servers).
//! - `secret_adapters`: Kamal's secrets adapters against fakes of their vendor CLIs, side by side
//!   with real Kamal (no servers).
//! - `plugin_sources`: `wharf plugin ...`: pack, HTTPS and OCI sources, the lock file (no servers).
//! - `e2e`: deploys on real servers (hostlab): HTTP answers, containers, locks, signals.
//! - `boot_extras`: what `app boot` prepares on the servers (assets, error pages, TLS).
//! - `registry_modes`: the local registry and a remote builder on real servers.
//! - `plugins_e2e`: WASM hooks, builders and adapters in real deploys.
//! - `kamal_compat`: Wharf and the real Kamal taking turns on the same servers.
//! - `events`: the JSON event stream, the live view on a terminal, completions.
//! - `upgrade`: `wharf upgrade` of a server as Kamal 1 left it (Traefik).
//! - `canary`: canary deploys judged by live traffic, promoted and aborted, under load.
//! - `proxy_handover`: `proxy reboot --zero-downtime` to a new proxy version under load.
//!
//! Tests on the hostlab take it through `wharf_testkit::lab::lab()`: two labs with the same
//! addresses (the second in a network namespace of its own), each used by one test at a time,
//! so two lab tests run at once. A test names a lab host's namespace with `Lab::host_netns`,
//! never as hostlab's default `hl<i>`. Faster tests of the same commands, without servers, are in
//! engine/deploy/tests/orchestration.

/// The binary under test.
pub const WHARF: &str = env!("CARGO_BIN_EXE_wharf");

mod boot_extras;
mod canary;
mod config_corpus;
mod e2e;
mod events;
mod kamal_compat;
mod new_project;
mod plugin_sources;
mod plugins_e2e;
mod proxy_handover;
mod registry_modes;
mod secret_adapters;
mod upgrade;
