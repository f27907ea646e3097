//! Kamal's commands (`lib/kamal/commands/*.rb`), ported faithfully: pure functions from the
//! configuration ([`wharf_config::Configuration`]) to the exact shell and docker commands Kamal
//! runs on each host (or locally), so that Kamal and Wharf leave servers in the same state.
//!
//! A command is a [`Cmd`]: the list of words Kamal hands to SSHKit, which joins them with
//! spaces (`Display`). Some words are raw shell (`|`, `&&`, `||`, `;`, `>`, `2>&1`); some are
//! secret ([`Token::sensitive`], shown redacted by [`Cmd::to_redacted_string`]).
//!
//! Modules follow Kamal's classes: [`app`] (with assets, containers, error pages, execution,
//! images, logging and proxy), [`accessory`], [`auditor`], [`builder`] (local, remote, hybrid,
//! cloud, pack, clone), [`docker`], [`hook`], [`lock`], [`proxy`], [`prune`], [`registry`],
//! [`server`]; [`base`] has what they share and [`cmd`] the combinators (`combine`, `chain`,
//! `pipe`, `append`, `write`, `any`, `xargs`, `shell`, `substitute`, ...). [`tags`] is
//! `Kamal::Tags` (audit lines and hook environments).
//!
//! Nothing here does I/O: the clock, the performer, `STDIN.isatty`, git facts, file existence
//! and the random exec suffix are parameters.

pub mod accessory;
pub mod app;
pub mod auditor;
pub mod base;
pub mod builder;
pub mod cmd;
pub mod docker;
pub mod facts;
pub mod hook;
pub mod lock;
pub mod proxy;
pub mod proxy_handover;
pub mod prune;
pub mod registry;
pub mod server;
pub mod tags;

pub use accessory::{Accessory, AccessoryLogsOptions};
pub use app::{App, ContainerId, ExecOptions, LogsOptions};
pub use auditor::Auditor;
pub use base::Interactive;
pub use builder::{Builder, BuilderKind, GitClone};
pub use cmd::{Cmd, Part, Token, Words};
pub use docker::Docker;
pub use hook::Hook;
pub use lock::Lock;
pub use proxy::{Proxy, ProxyLogsOptions};
pub use prune::Prune;
pub use registry::Registry;
pub use server::Server;
pub use tags::{Details, Stamp, Tags};

/// Why a command could not be built.
#[derive(Debug)]
pub enum Error {
    /// `Kamal::Commands::Builder::Base::BuilderError` (e.g. `Missing Dockerfile`).
    Builder(String),
    /// A configuration error raised while building the command (e.g. a missing secret).
    Config(wharf_config::ConfigError),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Builder(m) => f.write_str(m),
            Error::Config(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<wharf_config::ConfigError> for Error {
    fn from(e: wharf_config::ConfigError) -> Error {
        Error::Config(e)
    }
}
