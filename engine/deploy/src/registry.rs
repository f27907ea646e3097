//! `registry setup|remove|login|logout` (Kamal's cli/registry.rb): log in to the registry here
//! and on the servers, or start and stop the local registry (see
//! [`local_registry`](crate::build::local_registry)).

use crate::build::local_registry;
use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::local;
use wharf_commands::registry::Registry;

/// Which `registry` subcommand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryAction {
    Setup,
    Remove,
    Login,
    Logout,
}

/// `-L` / `-R`.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegistryFlags {
    pub skip_local: bool,
    pub skip_remote: bool,
}

/// Kamal's `kamal registry setup|remove|login|logout`, local registry included.
pub async fn run(c: &Commander, action: RegistryAction, flags: RegistryFlags) -> Result<()> {
    let local = Registry::new(&c.config).local();
    match action {
        RegistryAction::Setup => setup_command(c, &flags).await,
        RegistryAction::Remove => remove_command(c, &flags).await,
        RegistryAction::Login if local => Err(CliError::runtime(
            "Cannot use login command with a local registry. Use `kamal registry setup` instead.",
        )),
        RegistryAction::Logout if local => Err(CliError::runtime(
            "Cannot use logout command with a local registry. Use `kamal registry remove` instead.",
        )),
        RegistryAction::Login => setup_command(c, &flags).await,
        RegistryAction::Logout => remove_command(c, &flags).await,
    }
}

async fn setup_command(c: &Commander, f: &RegistryFlags) -> Result<()> {
    let registry = Registry::new(&c.config);
    if !f.skip_local && !local::succeeds(c, "docker --version") {
        return Err(CliError::new("Kamal::Cli::DependencyError", "Docker is not installed locally"));
    }
    if registry.local() {
        if !f.skip_local {
            local_registry::setup(c).await?;
        }
        return Ok(());
    }
    if let Some(login) = registry.login_password_stdin(None)? {
        if !f.skip_local {
            local::exec(c, &login, &c.dir, &[])?;
        }
        if !f.skip_remote {
            c.on(&c.hosts(), |h| {
                let login = login.clone();
                async move { c.exec(&h, &login).await.map(|_| ()) }
            })
            .await?;
        }
    }
    Ok(())
}

async fn remove_command(c: &Commander, f: &RegistryFlags) -> Result<()> {
    let registry = Registry::new(&c.config);
    if registry.local() {
        if !f.skip_local {
            local_registry::remove(c)?;
        }
        return Ok(());
    }
    let logout = registry.logout(None);
    if !f.skip_local {
        local::exec(c, &logout, &c.dir, &[])?;
    }
    if !f.skip_remote {
        c.on(&c.hosts(), |h| {
            let logout = logout.clone();
            async move { c.exec(&h, &logout).await.map(|_| ()) }
        })
        .await?;
    }
    Ok(())
}
