//! `Kamal::Commands::Lock`: the deploy lock, a directory on the primary host holding the
//! base64-encoded lock details.

use crate::cmd::{and, encode64, pipe, write, Cmd};
use crate::{cmd, parts};
use wharf_config::ruby::file_join;
use wharf_config::Configuration;

/// The lock commands.
#[derive(Debug, Clone)]
pub struct Lock<'a> {
    config: &'a Configuration,
}

impl<'a> Lock<'a> {
    /// `Kamal::Commands::Lock.new(config)`.
    pub fn new(config: &'a Configuration) -> Lock<'a> {
        Lock { config }
    }

    /// `acquire(message, version)`: `mkdir <lock dir> && echo "<base64 details>" > <lock dir>/details`.
    /// `locked_by` is Kamal's `git config user.name` (`Unknown` without git), `locked_at` the
    /// current UTC time in ISO 8601 (see [`crate::tags::iso8601`]).
    pub fn acquire(&self, message: &str, version: &str, locked_by: &str, locked_at: &str) -> Cmd {
        and(parts![cmd!["mkdir", self.lock_dir()], self.write_lock_details(message, version, locked_by, locked_at)])
    }

    /// `release`: `rm <lock dir>/details && rm -r <lock dir>`.
    pub fn release(&self) -> Cmd {
        and(parts![cmd!["rm", self.lock_details_file()], cmd!["rm", "-r", self.lock_dir()]])
    }

    /// `status`: `stat <lock dir> > /dev/null && cat <lock dir>/details | base64 -d`.
    pub fn status(&self) -> Cmd {
        and(parts![self.stat_lock_dir(), self.read_lock_details()])
    }

    /// `lock_details(message, version)`: the text stored (base64-encoded) in the lock.
    pub fn lock_details(message: &str, version: &str, locked_by: &str, locked_at: &str) -> String {
        format!("Locked by: {locked_by} at {locked_at}\nVersion: {version}\nMessage: {message}").trim().to_string()
    }

    /// `.kamal/lock-<service>[-<destination>]`.
    pub fn lock_dir(&self) -> String {
        let mut parts = vec!["lock".to_string(), self.config.service()];
        if let Some(d) = self.config.destination() {
            parts.push(d.to_string());
        }
        file_join(&[&self.config.run_directory(), &parts.join("-")])
    }

    /// `<lock dir>/details`.
    pub fn lock_details_file(&self) -> String {
        file_join(&[&self.lock_dir(), "details"])
    }

    fn write_lock_details(&self, message: &str, version: &str, locked_by: &str, locked_at: &str) -> Cmd {
        let details = Self::lock_details(message, version, locked_by, locked_at);
        write(parts![cmd!["echo", format!("\"{}\"", encode64(details.as_bytes()))], self.lock_details_file()])
    }

    fn read_lock_details(&self) -> Cmd {
        pipe(parts![cmd!["cat", self.lock_details_file()], cmd!["base64", "-d"]])
    }

    fn stat_lock_dir(&self) -> Cmd {
        write(parts![cmd!["stat", self.lock_dir()], "/dev/null"])
    }
}
