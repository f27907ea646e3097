//! What Wharf's built-in secrets adapters share.
//!
//! Kamal's adapters (`lib/kamal/secrets/adapters/*.rb`) build command lines as strings, with
//! Ruby's `shellescape` or Kamal's `escape_shell_value` for the parts that vary, and run them
//! with backticks, that is through `/bin/sh`. The plugin's `process.run` has no shell, so the
//! adapters here build the same strings and [`backticks`] turns each into the argv `sh` would
//! have run ([`sh::words`]): the vendor CLI gets exactly the arguments it gets under Kamal.
//! `NAME=value` words before the program become the program's environment, `2> /dev/null`
//! is dropped (stderr is never shown), and "`$?.success?`" is [`Ran::success`].
//!
//! [`Results`] is a Ruby `Hash` of secret names to values (a name set again keeps its first
//! position), and [`json`] parses like Ruby's `JSON.parse` into ordered objects.

pub mod ruby;
pub mod sh;

use serde_json::Value;
use wharf_plugin_sdk::process::{Command, Error};

/// What a command run through [`backticks`] gave: its stdout, and whether it exited 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ran {
    pub success: bool,
    pub stdout: String,
}

/// Runs `command` as Ruby's backticks run it (through `sh -c`): the words of the line as `sh`
/// splits them, leading `NAME=value` words as the program's environment, redirections of
/// stderr dropped. A program that cannot be started is a failure (`sh` exits 127), as with
/// Kamal; a program the plugin may not run is an error naming the capability.
pub fn backticks(command: &str) -> Result<Ran, String> {
    run_line(command, false)
}

/// [`backticks`] for a command that may prompt the user (a login): the program gets the
/// terminal (stdin and stderr, as under Ruby's backticks); stdout is captured. The plugin's
/// manifest declares `terminal = true`.
pub fn prompting(command: &str) -> Result<Ran, String> {
    run_line(command, true)
}

fn run_line(command: &str, terminal: bool) -> Result<Ran, String> {
    let line = sh::parse(command);
    let Some((program, args)) = line.words.split_first() else {
        return Ok(Ran { success: true, stdout: String::new() });
    };
    let mut cmd = Command::new(program.clone()).args(args.iter().cloned());
    for (k, v) in &line.env {
        cmd = cmd.env(k.clone(), v.clone());
    }
    if terminal && !line.stderr_redirected {
        cmd = cmd.terminal();
    }
    match cmd.run() {
        Ok(out) => {
            // Kamal leaves the CLI's stderr on the terminal unless the line redirects it.
            let stderr = out.stderr.trim_end();
            if !line.stderr_redirected && !stderr.is_empty() {
                wharf_plugin_sdk::log::warn(stderr);
            }
            Ok(Ran { success: out.exit_code == Some(0), stdout: out.stdout })
        }
        Err(Error::SpawnFailed(_)) => Ok(Ran { success: false, stdout: String::new() }),
        Err(Error::NotGranted(m)) => Err(m),
        Err(Error::TimedOut(ms)) => Err(format!("{program} timed out after {ms} ms")),
    }
}

/// Whether `program --version`-style `command` succeeds: Kamal's `cli_installed?`.
pub fn succeeds(command: &str) -> Result<bool, String> {
    backticks(command).map(|r| r.success)
}

/// Kamal's `check_dependencies!`: `check` (`op --version 2> /dev/null`) must succeed, else
/// `<cli> is not installed`.
pub fn ensure_installed(check: &str, cli: &str) -> Result<(), String> {
    if succeeds(check)? {
        Ok(())
    } else {
        Err(format!("{cli} is not installed"))
    }
}

/// The `--account` of an adapter that requires one (Thor refuses a missing or blank one).
pub fn required_account(account: Option<String>) -> Result<String, String> {
    account.filter(|a| !a.trim().is_empty()).ok_or_else(|| "Missing required option '--account'".to_string())
}

/// Ruby's `JSON.parse(text)`; objects keep their key order. The error is the one Kamal shows
/// (`JSON::ParserError`, see [`raise`]).
pub fn json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text)
        .map_err(|e| raise("JSON::ParserError", &ruby::json_parse_error(text, e.line(), e.column())))
}

/// The separator of [`raise`]'s class prefix.
pub const CLASS_MARK: char = '\u{1}';

/// An error of Ruby class `class` (Kamal raises `RuntimeError` unless said otherwise): the
/// message prefixed with `\u{1}CLASS\u{1}`, which Wharf turns into `ERROR (CLASS): message`.
/// Plain messages are `RuntimeError`s.
pub fn raise(class: &str, message: &str) -> String {
    format!("{CLASS_MARK}{class}{CLASS_MARK}{message}")
}

/// A JSON value as the string Kamal puts in its results: a string as is, `null` as empty,
/// anything else as its JSON text.
pub fn value_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `value[key]` of a JSON object (Ruby's `hash["key"]`), `None` for anything else.
pub fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object().and_then(|o| o.get(key)).filter(|v| !v.is_null())
}

/// `value[key]` as a string (see [`value_string`]), `None` when missing or null.
pub fn get_str(v: &Value, key: &str) -> Option<String> {
    get(v, key).map(value_string)
}

/// Secret names to values in insertion order, like a Ruby `Hash`: a name set again keeps its
/// first position and takes the new value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Results(Vec<(String, String)>);

impl Results {
    pub fn new() -> Results {
        Results::default()
    }

    /// `results[name] = value`.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let (name, value) = (name.into(), value.into());
        match self.0.iter_mut().find(|(k, _)| *k == name) {
            Some(entry) => entry.1 = value,
            None => self.0.push((name, value)),
        }
    }

    /// `results.merge!(other)`.
    pub fn merge(&mut self, other: Results) {
        for (k, v) in other.0 {
            self.insert(k, v);
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.0
    }
}

/// Kamal's `prefixed_secrets`: each name as `FROM/name` when `from` is given.
pub fn prefixed(names: &[String], from: Option<&str>) -> Vec<String> {
    names
        .iter()
        .map(|n| match from {
            Some(f) => format!("{f}/{n}"),
            None => n.clone(),
        })
        .collect()
}

/// Ruby's `Array#inspect` of strings, as `"Could not read #{secrets} from ..."` shows them:
/// `["a", "b/c"]`.
pub fn inspect_list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| ruby::inspect(s)).collect();
    format!("[{}]", inner.join(", "))
}

/// Ruby's `String#split(sep)` (a literal separator): empty trailing fields are removed.
pub fn split(s: &str, sep: &str) -> Vec<String> {
    let mut parts: Vec<String> = s.split(sep).map(str::to_string).collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_first_position() {
        let mut r = Results::new();
        r.insert("a", "1");
        r.insert("b", "2");
        r.insert("a", "3");
        assert_eq!(r.into_pairs(), vec![("a".into(), "3".into()), ("b".into(), "2".into())]);
    }

    #[test]
    fn ruby_split() {
        assert_eq!(split("a/b/", "/"), ["a", "b"]);
        assert_eq!(split("/a//b", "/"), ["", "a", "", "b"]);
        assert!(split("", "/").is_empty());
        assert_eq!(split("proj/all", "/all"), ["proj"]);
    }

    #[test]
    fn inspect_lists() {
        assert_eq!(inspect_list(&["a".into(), "b\"c".into()]), r#"["a", "b\"c"]"#);
    }
}
