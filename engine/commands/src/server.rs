//! `Kamal::Commands::Server`: the run and app directories on the hosts.

use crate::base::{make_directory, remove_directory};
use crate::cmd::{pipe, Cmd};
use crate::{cmd, parts};
use wharf_config::Configuration;

/// The server commands.
#[derive(Debug, Clone)]
pub struct Server<'a> {
    config: &'a Configuration,
}

impl<'a> Server<'a> {
    /// `Kamal::Commands::Server.new(config)`.
    pub fn new(config: &'a Configuration) -> Server<'a> {
        Server { config }
    }

    /// `ensure_run_directory`: `mkdir -p .kamal`.
    pub fn ensure_run_directory(&self) -> Cmd {
        make_directory(&self.config.run_directory())
    }

    /// `remove_app_directory`: `rm -r .kamal/apps/<app>`.
    pub fn remove_app_directory(&self) -> Cmd {
        remove_directory(&self.config.app_directory())
    }

    /// `app_directory_count`: `ls .kamal/apps | wc -l`.
    pub fn app_directory_count(&self) -> Cmd {
        pipe(parts![cmd!["ls", self.config.apps_directory()], cmd!["wc", "-l"]])
    }
}
