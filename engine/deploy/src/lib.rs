//! Wharf's deploy library: Kamal's commands, run against servers through one execution seam.
//!
//! One module per Kamal command group, as in Kamal's lib/kamal/cli: [`main`] (setup, deploy,
//! redeploy, rollback, remove, details, audit), [`app`] (boot and the app's containers),
//! [`proxy`], [`accessory`], [`build`] (local, remote, local registry), [`registry`], [`prune`],
//! [`server`], [`lock`], [`secrets`], [`plugins`] (the WASM runtime, hooks, secret adapters and
//! `wharf plugin`), [`init`]. Every command takes the [`Commander`] (configuration, selected
//! hosts and roles, lock, hooks), which runs remote commands through an
//! [`Executor`](execution::Executor): SSH, `--plan`, or a scripted fake in tests.
//!
//! The data flows one way: `wharf-config` (what the user wrote) -> `wharf-commands` (the exact
//! shell commands) -> this crate (what runs where, in which order) -> the `wharf` CLI (clap and
//! dispatch only).

// `main` is Kamal's `Cli::Main` here, a module like the others (this crate has no binary).
#![allow(special_module_name)]

pub mod accessory;
pub mod app;
pub mod build;
pub mod canary;
pub mod commander;
pub mod error;
pub mod events;
pub mod execution;
pub mod git;
pub mod hooks;
pub mod init;
pub mod load;
pub mod local;
pub mod lock;
pub mod main;
pub mod options;
pub mod output;
pub mod plugins;
pub mod prefetch;
pub mod progress;
pub mod proxy;
pub mod prune;
pub mod registry;
pub mod secrets;
pub mod server;
pub mod signals;
pub mod upgrade;

pub use commander::Commander;
pub use error::{CliError, Result};
pub use options::GlobalOptions;
