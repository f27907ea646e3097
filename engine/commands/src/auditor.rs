//! `Kamal::Commands::Auditor`: the audit log on each host (`.kamal/<service>[-<dest>]-audit.log`).

use crate::cmd::{and, append, Cmd};
use crate::tags::{Details, Stamp, Tags};
use crate::{cmd, parts};
use wharf_config::ruby::file_join;
use wharf_config::utils::escape_shell_value;
use wharf_config::Configuration;

/// The audit commands, with the details given to `KAMAL.auditor(**details)`.
#[derive(Debug, Clone)]
pub struct Auditor<'a> {
    config: &'a Configuration,
    details: Details,
}

impl<'a> Auditor<'a> {
    /// `Kamal::Commands::Auditor.new(config, **details)`.
    pub fn new(config: &'a Configuration, details: Details) -> Auditor<'a> {
        Auditor { config, details }
    }

    /// `record(line, **details)` (runs remotely):
    /// `mkdir -p .kamal && echo "<audit line>" >> .kamal/<app>-audit.log`.
    pub fn record(&self, line: &str, stamp: &Stamp, details: &Details) -> Cmd {
        and(parts![
            self.make_run_directory(),
            append(parts![
                cmd!["echo", escape_shell_value(&self.audit_line(line, stamp, details))],
                self.audit_log_file()
            ])
        ])
    }

    /// `reveal`: `tail -n 50 <audit log>`.
    pub fn reveal(&self) -> Cmd {
        cmd!["tail", "-n", "50", self.audit_log_file()]
    }

    /// The audit log's path: `.kamal/<service>[-<destination>]-audit.log`.
    pub fn audit_log_file(&self) -> String {
        let mut parts = vec![self.config.service()];
        if let Some(d) = self.config.destination() {
            parts.push(d.to_string());
        }
        parts.push("audit.log".into());
        file_join(&[&self.config.run_directory(), &parts.join("-")])
    }

    /// `audit_tags(**details)`: the default tags, the auditor's details, then these.
    pub fn audit_tags(&self, stamp: &Stamp, details: &Details) -> Tags {
        Tags::from_config(self.config, stamp, &self.details.merge(details))
    }

    /// `audit_line(line, **details)`: `[<time>] [<performer>] [<destination>] [<details>...] line`.
    pub fn audit_line(&self, line: &str, stamp: &Stamp, details: &Details) -> String {
        format!("{} {line}", self.audit_tags(stamp, details).except(&["version", "service_version", "service"]))
    }

    fn make_run_directory(&self) -> Cmd {
        cmd!["mkdir", "-p", self.config.run_directory()]
    }
}
