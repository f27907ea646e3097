//! `Kamal::Configuration::Alias`: `aliases.<name>: "<command line>"`.

/// An alias: a name and the command line it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    name: String,
    command: String,
}

impl Alias {
    pub(crate) fn new(name: String, command: String) -> Alias {
        Alias { name, command }
    }

    /// The alias name (a new top-level command).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The command line, to be split like a shell (`Shellwords.split`) and run instead.
    pub fn command(&self) -> &str {
        &self.command
    }
}
