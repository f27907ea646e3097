//! `Kamal::Commands::Registry`: logging in and out of the image registry, and the local
//! registry (`localhost:PORT`) Kamal runs for pushes through an SSH tunnel.

use crate::cmd::{and, any, docker, Cmd, Token};
use crate::{cmd, parts};
use wharf_config::utils::escape_shell_value;
use wharf_config::{ConfigError, Configuration};

/// The local registry's container name.
pub const LOCAL_REGISTRY_CONTAINER: &str = "kamal-docker-registry";

/// The registry commands.
#[derive(Debug, Clone)]
pub struct Registry<'a> {
    config: &'a Configuration,
}

impl<'a> Registry<'a> {
    /// `Kamal::Commands::Registry.new(config)`.
    pub fn new(config: &'a Configuration) -> Registry<'a> {
        Registry { config }
    }

    /// `login(registry_config:)`: `docker login <server> -u "<user>" -p "<password>"` (values
    /// escaped with `escape_shell_value` and marked sensitive), `None` for a local registry.
    /// Errors when a credential names a missing secret.
    pub fn login(&self, registry_config: Option<&wharf_config::Registry>) -> Result<Option<Cmd>, ConfigError> {
        let registry = registry_config.unwrap_or_else(|| self.config.registry());
        if registry.local() {
            return Ok(None);
        }
        let username = registry.username()?.unwrap_or_default();
        let password = registry.password()?.unwrap_or_default();
        Ok(Some(docker(cmd![
            "login",
            registry.server(),
            "-u",
            Token::sensitive(escape_shell_value(&username), "[REDACTED]"),
            "-p",
            Token::sensitive(escape_shell_value(&password), "[REDACTED]")
        ])))
    }

    /// What Wharf runs instead of [`login`](Self::login): the same login with the password on
    /// standard input (`docker login <server> -u "<user>" --password-stdin`), so that it never
    /// appears in `ps` on this machine or on the servers. `None` for a local registry.
    pub fn login_password_stdin(
        &self,
        registry_config: Option<&wharf_config::Registry>,
    ) -> Result<Option<Cmd>, ConfigError> {
        let registry = registry_config.unwrap_or_else(|| self.config.registry());
        if registry.local() {
            return Ok(None);
        }
        let username = registry.username()?.unwrap_or_default();
        let password = registry.password()?.unwrap_or_default();
        Ok(Some(
            docker(cmd![
                "login",
                registry.server(),
                "-u",
                Token::sensitive(escape_shell_value(&username), "[REDACTED]"),
                "--password-stdin"
            ])
            .with_stdin(password),
        ))
    }

    /// `logout(registry_config:)`: `docker logout [<server>]`.
    pub fn logout(&self, registry_config: Option<&wharf_config::Registry>) -> Cmd {
        let registry = registry_config.unwrap_or_else(|| self.config.registry());
        docker(cmd!["logout", registry.server()])
    }

    /// `setup(registry_config:)`: starts the local registry, or runs it (`registry:3` on
    /// `127.0.0.1:<port>`).
    pub fn setup(&self, registry_config: Option<&wharf_config::Registry>) -> Cmd {
        let registry = registry_config.unwrap_or_else(|| self.config.registry());
        let port = registry.local_port().map(|p| p.to_string()).unwrap_or_default();
        any(parts![
            docker(cmd!["start", LOCAL_REGISTRY_CONTAINER]),
            docker(cmd![
                "run",
                "--detach",
                "-p",
                format!("127.0.0.1:{port}:5000"),
                "--name",
                LOCAL_REGISTRY_CONTAINER,
                "registry:3"
            ])
        ])
    }

    /// `remove`: `docker stop kamal-docker-registry && docker rm kamal-docker-registry`.
    pub fn remove(&self) -> Cmd {
        and(parts![docker(cmd!["stop", LOCAL_REGISTRY_CONTAINER]), docker(cmd!["rm", LOCAL_REGISTRY_CONTAINER])])
    }

    /// `local?`.
    pub fn local(&self) -> bool {
        self.config.registry().local()
    }
}
