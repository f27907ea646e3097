//! The error every command ends in: Kamal prints `  ERROR (<Class>): <message>` in red and exits 1;
//! the class names are Kamal's, so scripts that grep for them keep working.

use std::fmt;

#[derive(Debug)]
pub struct CliError {
    pub class: &'static str,
    pub message: String,
}

impl CliError {
    pub fn new(class: &'static str, message: impl Into<String>) -> Self {
        Self { class, message: message.into() }
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
        CliError::new(e.ruby_class(), e.to_string())
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
