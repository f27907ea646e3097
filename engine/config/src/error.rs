//! The one error type of this crate. Its `Display` is exactly the message Kamal raises, and
//! [`ConfigError::ruby_class`] names the Ruby exception class Kamal would have raised, so that the
//! CLI can print Kamal's `ERROR (<Class>): <message>` line unchanged.

use std::fmt;

/// Which Ruby exception Kamal raises for this error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `Kamal::ConfigurationError`: validation and semantic configuration errors.
    Configuration,
    /// `ArgumentError`: e.g. `You must specify a destination`, output logger settings.
    Argument,
    /// `RuntimeError`: e.g. `Configuration file not found in ...`.
    Runtime,
    /// `KeyError`: `ENV.fetch("X")` in ERB with `X` unset: `key not found: "X"`.
    Key,
    /// `Psych::SyntaxError`: the YAML could not be parsed.
    Yaml,
    /// ERB that Wharf cannot render (Kamal would have run it with Ruby) and no system Ruby did.
    Erb,
    /// A Ruby exception raised by the template itself: its class is in [`ConfigError::ruby_class`]
    /// (`NameError`, `Errno::ENOENT`, ...).
    Ruby,
    /// The template called `exit`/`abort`: the process ends with [`ConfigError::exit_code`].
    Exit,
    /// Reading a file failed for another reason than its absence.
    Io,
}

/// A configuration error; `to_string()` is Kamal's message (with its `key/path: ` prefix for
/// validation errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    kind: ErrorKind,
    message: String,
    /// The Ruby class of a [`ErrorKind::Ruby`] error.
    class: Option<String>,
    exit_code: Option<i32>,
    uncaught: bool,
}

impl ConfigError {
    /// An error of the given kind with Kamal's message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ConfigError { kind, message: message.into(), class: None, exit_code: None, uncaught: false }
    }

    /// Marks an exception Kamal does not rescue (not a StandardError: LoadError, SyntaxError...):
    /// Kamal then ends with Ruby's own report (`message (Class)`) instead of its ERROR line.
    pub fn uncaught(mut self, uncaught: bool) -> Self {
        self.uncaught = uncaught;
        self
    }

    /// Whether Kamal would not rescue this exception (see [`ConfigError::uncaught`]).
    pub fn is_uncaught(&self) -> bool {
        self.uncaught
    }

    /// An exception a template raised, with its Ruby class.
    pub fn ruby(class: impl Into<String>, message: impl Into<String>) -> Self {
        let class = class.into();
        let kind = match class.as_str() {
            "KeyError" => ErrorKind::Key,
            "ArgumentError" => ErrorKind::Argument,
            "RuntimeError" => ErrorKind::Runtime,
            _ => ErrorKind::Ruby,
        };
        ConfigError { kind, message: message.into(), class: Some(class), exit_code: None, uncaught: false }
    }

    /// A template that called `exit`/`abort` with this status.
    pub fn exit(code: i32) -> Self {
        ConfigError {
            kind: ErrorKind::Exit,
            message: format!("exit {code}"),
            class: None,
            exit_code: Some(code),
            uncaught: false,
        }
    }

    /// The status the process should end with instead of printing an error (`exit` in a
    /// template), if any.
    pub fn exit_code(&self) -> Option<i32> {
        self.exit_code
    }

    /// A `Kamal::ConfigurationError`.
    pub fn configuration(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Configuration, message)
    }

    /// An `ArgumentError`.
    pub fn argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Argument, message)
    }

    /// A `RuntimeError`.
    pub fn runtime(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Runtime, message)
    }

    /// The kind (Ruby class) of the error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, exactly as Kamal's.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The Ruby class name Kamal would print: `Kamal::ConfigurationError`, `ArgumentError`, ...
    pub fn ruby_class(&self) -> &str {
        if let Some(c) = &self.class {
            return c;
        }
        match self.kind {
            ErrorKind::Configuration => "Kamal::ConfigurationError",
            ErrorKind::Argument => "ArgumentError",
            ErrorKind::Runtime => "RuntimeError",
            ErrorKind::Key => "KeyError",
            ErrorKind::Yaml => "Psych::SyntaxError",
            ErrorKind::Erb => "Wharf::UnsupportedERB",
            ErrorKind::Ruby => "StandardError",
            ErrorKind::Exit => "SystemExit",
            ErrorKind::Io => "Errno",
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}
