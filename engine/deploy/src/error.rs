//! The error every command ends in: Kamal prints `  ERROR (<Class>): <message>` in red and exits 1;
//! the class names are Kamal's, so scripts that grep for them keep working.

use std::borrow::Cow;
use std::fmt;

#[derive(Debug)]
pub struct CliError {
    /// Kamal's (or Ruby's) exception class: `RuntimeError`, `KeyError`, `Errno::ENOENT`...
    pub class: Cow<'static, str>,
    pub message: String,
    /// End with this status and print nothing (deploy.yml's ERB called `exit`/`abort`, which
    /// ends Kamal's process the same way).
    pub exit_code: Option<i32>,
    /// An exception Kamal does not rescue (LoadError, SyntaxError...): printed as Ruby reports an
    /// uncaught exception (`message (Class)`), without Kamal's ERROR line; exit 1.
    pub uncaught: bool,
}

impl CliError {
    pub fn new(class: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self { class: class.into(), message: message.into(), exit_code: None, uncaught: false }
    }
    pub fn runtime(message: impl Into<String>) -> Self {
        Self::new("RuntimeError", message)
    }
    pub fn argument(message: impl Into<String>) -> Self {
        Self::new("ArgumentError", message)
    }
    pub fn lock(message: impl Into<String>) -> Self {
        Self::new("Kamal::Cli::LockError", message)
    }
    pub fn boot(message: impl Into<String>) -> Self {
        Self::new("Kamal::Cli::BootError", message)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for CliError {}

impl From<wharf_config::ConfigError> for CliError {
    fn from(e: wharf_config::ConfigError) -> Self {
        let mut error = CliError::new(e.ruby_class().to_string(), e.to_string());
        error.exit_code = e.exit_code();
        error.uncaught = e.is_uncaught();
        error
    }
}

impl From<wharf_ssh::SshError> for CliError {
    fn from(e: wharf_ssh::SshError) -> Self {
        let class = if e.is_connection_error() { "SSHKit::Runner::ExecuteError" } else { "SSHKit::Command::Failed" };
        CliError::new(class, format!("Exception while executing on host {}: {e}", e.host()))
    }
}

impl<E: fmt::Display> From<wharf_ssh::FanOutError<E>> for CliError {
    fn from(e: wharf_ssh::FanOutError<E>) -> Self {
        CliError::new("SSHKit::Runner::ExecuteError", e.to_string())
    }
}

impl From<crate::hooks::HookError> for CliError {
    fn from(e: crate::hooks::HookError) -> Self {
        CliError::new("Kamal::Cli::HookError", e.to_string())
    }
}

impl From<wharf_secrets::SecretsError> for CliError {
    fn from(e: wharf_secrets::SecretsError) -> Self {
        CliError::runtime(e.to_string())
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::runtime(e.to_string())
    }
}

pub type Result<T, E = CliError> = std::result::Result<T, E>;
