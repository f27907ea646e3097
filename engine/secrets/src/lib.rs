//! Kamal-compatible secrets for Wharf.
//!
//! - [`dotenv`]: a port of the dotenv gem's (3.x) parser, which Kamal reads secrets files with.
//! - [`Secrets`]: Kamal's `Kamal::Secrets`: `.kamal/secrets-common` then `.kamal/secrets` (or
//!   `.kamal/secrets.<destination>`), loaded lazily and once, with `$(kamal secrets ...)` run in
//!   process and other `$(...)` through `sh -c`.
//! - [`cli`]: the `secrets` subcommand's logic (`fetch`, `extract`, `print`, the `test` adapter,
//!   the adapter lookup) as functions that print nothing.
//! - [`shell`]: Ruby's `shellescape`, `shellsplit` and `chomp`, and running a shell command.
//! - [`SecretMap`]: the ordered name-to-value map everything returns.
//!
//! No value is ever part of an error message or of `Debug` output.

pub mod cli;
pub mod dotenv;
mod map;
mod secrets;
pub mod shell;

pub use map::SecretMap;
pub use secrets::{process_env, InlineHook, Secrets, SecretsError, DEFAULT_SECRETS_PATH};
