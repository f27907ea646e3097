//! A port of the dotenv gem's parser (3.x, `lib/dotenv/parser.rb` and `lib/dotenv/substitutions/`),
//! the parser Kamal reads `.kamal/secrets` with.
//!
//! What it does, in dotenv's order, for each `KEY=value` line of the input (`\r\n` and `\r` become
//! `\n` first):
//! - Lines are found by dotenv's `LINE` regex: optional `export `, a key of `[A-Za-z0-9_.]`, then
//!   `=` (spaces allowed around it) or `: ` (YAML style), then a single-quoted, double-quoted
//!   (either may span lines) or unquoted value, an optional `# comment`. Anything else is skipped.
//! - The value is stripped; surrounding quotes are removed.
//! - Single-quoted values are taken literally.
//! - Double-quoted values: `\n` and `\r` stay a backslash and a letter, unless
//!   `DOTENV_LINEBREAK_MODE=legacy` (earlier in the file or in the environment) turns them into line
//!   breaks, as dotenv 3 does.
//! - Double-quoted and unquoted values: a backslash escapes any character but `$` (`\"` gives `"`,
//!   `\\` gives `\`); then `$(command)` substitutions run (a preceding backslash, `\$(`, leaves
//!   `$(command)` in the value); then `$VAR` and `${VAR}` expand to the value set earlier in the
//!   same input, else the environment, else an empty string (`\$VAR` gives `$VAR`).
//! - With `overwrite` off, a key present in the environment takes the environment's value (dotenv's
//!   default); Kamal parses with `overwrite: true`, so file values win.
//! - `export KEY` with no value must name a key set earlier, else
//!   `Line "export KEY" has an unset variable`.
//!
//! Commands are not run here: the caller's runner gets each command (as written, and with variables
//! expanded) and its output is chomped into the value. [`CommandSyntax`] picks how `$( ... )` is
//! matched: dotenv's own rule, or Kamal's replacement (`InlineCommandSubstitution`), which also lets
//! a backslash escape a parenthesis.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use thiserror::Error;

use crate::map::{Redacted, SecretMap};
use crate::shell::{chomp, run_shell, ShellError, ShellSplitError};

/// The process environment as the parser sees it (Ruby's `ENV`).
pub type Env = HashMap<String, String>;

/// dotenv's `LINE` regex. Ruby's `\s` is `[ \t\n\v\f\r]`, its `\w` is ASCII, `^`/`$` are line
/// anchors; the regex crate's leftmost-first semantics pick the same match as Onigmo's backtracking.
static LINE: LazyLock<Regex> = LazyLock::new(|| {
    let s = r"[ \t\n\x0B\x0C\r]";
    let pattern = format!(
        r#"(?m)^{s}*(?P<export>export{s}+)?(?P<key>[A-Za-z0-9_.]+)(?:(?:{s}*={s}*?|:{s}+?)(?P<value>{s}*'(?:\\'|[^'])*'|{s}*"(?:\\"|[^"])*"|[^#\n]+)?)?{s}*(?:#.*)?$"#
    );
    Regex::new(&pattern).expect("LINE regex")
});

/// How `$( ... )` is recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CommandSyntax {
    /// dotenv's `Substitutions::Command`: balanced parentheses; a backslash is an ordinary
    /// character.
    #[default]
    Dotenv,
    /// Kamal's `InlineCommandSubstitution`: balanced parentheses, and a backslash escapes the next
    /// character (so `\)` does not close the command).
    Kamal,
}

/// A `$( ... )` substitution handed to the command runner.
pub struct CommandRequest<'a> {
    /// The text between the parentheses, as it stands in the value (after backslash unescaping).
    /// Safe to show in messages: it comes from the file, not from the environment.
    pub command: &'a str,
    /// `command` with `$VAR`/`${VAR}` expanded: what is to be run. May hold secret values.
    pub expanded: &'a str,
}

impl fmt::Debug for CommandRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandRequest").field("command", &self.command).field("expanded", &Redacted).finish()
    }
}

/// Why a command substitution failed.
#[derive(Debug, Error)]
pub enum CommandError {
    /// An in-process command (`kamal secrets ...`) failed; its message is shown as is, as Kamal
    /// lets the error raised by the command through.
    #[error("{0}")]
    Inline(String),
    /// The in-process command line could not be split into words.
    #[error(transparent)]
    Split(#[from] ShellSplitError),
    /// A shell command could not run or failed.
    #[error(transparent)]
    Shell(#[from] ShellError),
}

/// Why parsing failed. Messages never include values.
#[derive(Debug, Error)]
pub enum DotenvError {
    /// `export KEY` (no value) for a key not set earlier. `line` is the whole matched text, shown
    /// with Ruby's `String#inspect` as dotenv does.
    #[error("Line {} has an unset variable", ruby_inspect(line))]
    UnsetVariable {
        /// The matched text.
        line: String,
    },
    /// A `$( ... )` substitution failed.
    #[error("{}", command_message(command, error, None))]
    Command {
        /// The command as written (see [`CommandRequest::command`]).
        command: String,
        /// What went wrong.
        #[source]
        error: CommandError,
    },
}

/// The message of a failed command: an in-process command's own message, else one naming the
/// command (as written) and, when known, the file.
pub(crate) fn command_message(command: &str, error: &CommandError, file: Option<&str>) -> String {
    match error {
        CommandError::Inline(message) => message.clone(),
        other => match file {
            Some(file) => format!("Command `{command}` in {file} {other}"),
            None => format!("Command `{command}` {other}"),
        },
    }
}

/// A dotenv parser: an environment, the overwrite flag and the command syntax.
#[derive(Debug, Clone, Copy)]
pub struct Parser<'e> {
    env: &'e Env,
    overwrite: bool,
    syntax: CommandSyntax,
}

impl<'e> Parser<'e> {
    /// A parser reading `env` as the process environment, with dotenv's defaults: no overwrite,
    /// dotenv's command syntax.
    pub fn new(env: &'e Env) -> Self {
        Parser { env, overwrite: false, syntax: CommandSyntax::Dotenv }
    }

    /// dotenv's `overwrite:`: when false, a key already in the environment keeps the
    /// environment's value (except `DOTENV_LINEBREAK_MODE`).
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// How `$( ... )` is recognised.
    pub fn command_syntax(mut self, syntax: CommandSyntax) -> Self {
        self.syntax = syntax;
        self
    }

    /// Parses `input`, running each command substitution through `run` (whose output is chomped).
    pub fn parse<F>(&self, input: &str, mut run: F) -> Result<SecretMap, DotenvError>
    where
        F: FnMut(&CommandRequest<'_>) -> Result<String, CommandError>,
    {
        let input = input.strip_prefix('\u{feff}').unwrap_or(input);
        let string = input.replace("\r\n", "\n").replace('\r', "\n");
        let mut hash = SecretMap::new();
        for caps in LINE.captures_iter(&string) {
            let key = &caps["key"];
            let value = caps.name("value").map(|m| m.as_str());
            if self.existing(key) {
                hash.insert(key, self.env[key].clone());
            } else if caps.name("export").is_some() && value.is_none() {
                if !hash.contains_key(key) {
                    return Err(DotenvError::UnsetVariable { line: caps[0].to_string() });
                }
            } else {
                let parsed = self.parse_value(value.unwrap_or(""), &hash, &mut run)?;
                hash.insert(key, parsed);
            }
        }
        Ok(hash)
    }

    fn existing(&self, key: &str) -> bool {
        !self.overwrite && key != "DOTENV_LINEBREAK_MODE" && self.env.contains_key(key)
    }

    fn parse_value<F>(&self, value: &str, hash: &SecretMap, run: &mut F) -> Result<String, DotenvError>
    where
        F: FnMut(&CommandRequest<'_>) -> Result<String, CommandError>,
    {
        let stripped = ruby_strip(value);
        // QUOTED_STRING = /\A(['"])(.*)\1\z/m
        let quote = match stripped.as_bytes() {
            [q @ (b'\'' | b'"'), .., last] if last == q => Some(*q),
            _ => None,
        };
        let mut value = match quote {
            Some(_) => stripped[1..stripped.len() - 1].to_string(),
            None => stripped.to_string(),
        };
        if quote == Some(b'"') {
            value = self.expand_newlines(&value, hash);
        }
        if quote != Some(b'\'') {
            value = unescape_characters(&value);
            value = substitute_commands(&value, hash, self.env, self.syntax, run)?;
            value = expand_variables(&value, hash, self.env);
        }
        Ok(value)
    }

    fn expand_newlines(&self, value: &str, hash: &SecretMap) -> String {
        let mode =
            hash.get("DOTENV_LINEBREAK_MODE").or_else(|| self.env.get("DOTENV_LINEBREAK_MODE").map(String::as_str));
        if mode == Some("legacy") {
            value.replace("\\n", "\n").replace("\\r", "\r")
        } else {
            value.replace("\\n", "\\\\n").replace("\\r", "\\\\r")
        }
    }
}

/// Parses `input` as dotenv's `Dotenv::Parser.call(input, overwrite:)` does, running commands
/// with `sh -c` (dotenv's command syntax).
pub fn parse(input: &str, env: &Env, overwrite: bool) -> Result<SecretMap, DotenvError> {
    Parser::new(env).overwrite(overwrite).parse(input, |req| Ok(run_shell(req.expanded, None, env)?))
}

/// Ruby's `String#strip`: NUL and ASCII whitespace off both ends.
fn ruby_strip(s: &str) -> &str {
    s.trim_matches(|c: char| matches!(c, '\0' | ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r'))
}

/// dotenv's `unescape_characters`: `gsub(/\\([^$])/, '\1')`.
pub fn unescape_characters(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&next) = chars.peek() {
                if next != '$' {
                    out.push(next);
                    chars.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

/// The name of `$NAME`, `${NAME}`, `${NAME`, `$NAME}` starting at `start` (just after the `$`):
/// dotenv's `\{?([A-Z0-9_]+)?\}?` (case-insensitive). Returns the end and the name's range.
fn variable_tail(b: &[u8], start: usize) -> (usize, Option<(usize, usize)>) {
    let mut j = start;
    if b.get(j) == Some(&b'{') {
        j += 1;
    }
    let name_start = j;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        j += 1;
    }
    let name = (j > name_start).then_some((name_start, j));
    if b.get(j) == Some(&b'}') {
        j += 1;
    }
    (j, name)
}

/// dotenv's `Substitutions::Variable`: `$VAR` and `${VAR}` become the value from `hash` (keys set
/// earlier in this input), else `env`, else `""`; `\$VAR` becomes `$VAR`; `$(` is left alone.
pub fn expand_variables(value: &str, hash: &SecretMap, env: &Env) -> String {
    let b = value.as_bytes();
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'$') && b.get(i + 2) != Some(&b'(') {
            let (end, _) = variable_tail(b, i + 2);
            out.push_str(&value[copied..i]);
            out.push_str(&value[i + 1..end]);
            i = end;
            copied = end;
        } else if b[i] == b'$' && b.get(i + 1) != Some(&b'(') {
            let (end, name) = variable_tail(b, i + 1);
            out.push_str(&value[copied..i]);
            match name {
                Some((s, e)) => {
                    let name = &value[s..e];
                    out.push_str(hash.get(name).or_else(|| env.get(name).map(String::as_str)).unwrap_or(""));
                }
                None => out.push_str(&value[i..end]),
            }
            i = end;
            copied = end;
        } else {
            i += 1;
        }
    }
    out.push_str(&value[copied..]);
    out
}

/// Matches `\((?:...)+\)` at `pos` (dotenv: `[^()]` or a nested group; Kamal: also `\\.`), returning
/// the index just past the closing parenthesis.
fn match_command(b: &[u8], pos: usize, syntax: CommandSyntax) -> Option<usize> {
    if b.get(pos) != Some(&b'(') {
        return None;
    }
    let mut j = pos + 1;
    let mut items = 0;
    loop {
        match b.get(j)? {
            b')' => return (items > 0).then_some(j + 1),
            b'(' => j = match_command(b, j, syntax)?,
            b'\\' if syntax == CommandSyntax::Kamal => match b.get(j + 1)? {
                b'\n' => return None,
                _ => j += 2,
            },
            _ => j += 1,
        }
        items += 1;
    }
}

/// The command substitution step (Kamal's `InlineCommandSubstitution.call`, or dotenv's
/// `Substitutions::Command.call`): each `$( ... )` is variable-expanded and handed to `run`, and
/// its chomped output replaces it; `\$( ... )` becomes `$( ... )`.
pub fn substitute_commands<F>(
    value: &str,
    hash: &SecretMap,
    env: &Env,
    syntax: CommandSyntax,
    run: &mut F,
) -> Result<String, DotenvError>
where
    F: FnMut(&CommandRequest<'_>) -> Result<String, CommandError>,
{
    let b = value.as_bytes();
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'$') {
            if let Some(end) = match_command(b, i + 2, syntax) {
                out.push_str(&value[copied..i]);
                out.push_str(&value[i + 1..end]);
                i = end;
                copied = end;
                continue;
            }
        }
        if b[i] == b'$' {
            if let Some(end) = match_command(b, i + 1, syntax) {
                out.push_str(&value[copied..i]);
                let command = &value[i + 2..end - 1];
                let expanded = expand_variables(command, hash, env);
                let output = run(&CommandRequest { command, expanded: &expanded })
                    .map_err(|error| DotenvError::Command { command: command.to_string(), error })?;
                out.push_str(chomp(&output));
                i = end;
                copied = end;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&value[copied..]);
    Ok(out)
}

/// Ruby's `String#inspect` for a UTF-8 string.
pub(crate) fn ruby_inspect(s: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '#' if matches!(chars.peek(), Some('{' | '$' | '@')) => out.push_str("\\#"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0C' => out.push_str("\\f"),
            '\x0B' => out.push_str("\\v"),
            '\x08' => out.push_str("\\b"),
            '\x07' => out.push_str("\\a"),
            '\x1B' => out.push_str("\\e"),
            c if c.is_control() => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04X}", c as u32));
                } else {
                    out.push_str(&format!("\\u{{{:X}}}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    //! dotenv's `spec/dotenv/parser_spec.rb`, case by case, plus Kamal's escaped-parenthesis rule.
    use super::*;

    fn no_env() -> Env {
        Env::new()
    }

    fn pairs(map: &SecretMap) -> Vec<(&str, &str)> {
        map.iter().collect()
    }

    /// Parses with the given env and dotenv's defaults, running commands with `sh -c`.
    fn env_with(input: &str, env: &Env) -> SecretMap {
        parse(input, env, false).unwrap()
    }

    fn env(input: &str) -> SecretMap {
        env_with(input, &no_env())
    }

    fn one(input: &str) -> String {
        let map = env(input);
        assert_eq!(map.len(), 1, "{input:?} gave {:?}", map.names().collect::<Vec<_>>());
        let value = map.iter().next().unwrap().1.to_string();
        value
    }

    #[test]
    fn unquoted_values() {
        assert_eq!(pairs(&env("FOO=bar")), [("FOO", "bar")]);
        assert_eq!(one("FOO= bar"), "bar");
        assert_eq!(one("FOO=bar\\ bar"), "bar bar");
        assert_eq!(one("FOO =bar"), "bar");
        assert_eq!(one("  FOO=bar"), "bar");
        assert_eq!(one("FOO=bar  "), "bar");
        assert_eq!(one("foo=bar "), "bar");
    }

    #[test]
    fn quoted_values() {
        assert_eq!(one("FOO=\"bar\""), "bar");
        assert_eq!(one("FOO=\"bar\"  "), "bar");
        assert_eq!(one("FOO='bar'"), "bar");
        assert_eq!(one("FOO='bar'  "), "bar");
        assert_eq!(one(r#"FOO="escaped\"bar""#), "escaped\"bar");
        assert_eq!(one("FOO="), "");
        assert_eq!(one("FOO=''"), "");
        assert_eq!(one("FOO=\"\""), "");
    }

    #[test]
    fn variable_expansion() {
        assert_eq!(pairs(&env("FOO=test\nBAR=$FOO")), [("FOO", "test"), ("BAR", "test")]);
        assert_eq!(env("FOO=test\nBAR=${FOO}bar").get("BAR"), Some("testbar"));
        assert_eq!(one("BAR=$FOO"), "");
        assert_eq!(env("FOO=test\nBAR=\"quote $FOO\"").get("BAR"), Some("quote test"));
        assert_eq!(one("BAR='quote $FOO'"), "quote $FOO");
        // Braces are consumed even when unbalanced, as dotenv's regex does.
        assert_eq!(env("A=x\nB=$A}y ${A z").get("B"), Some("xy x z"));
        // Names are matched case-insensitively but looked up exactly.
        assert_eq!(env("foo=lower\nB=$foo-$FOO").get("B"), Some("lower-"));
    }

    #[test]
    fn variables_from_env() {
        let env = Env::from([("FOO".to_string(), "test".to_string())]);
        assert_eq!(pairs(&env_with("BAR=$FOO", &env)), [("BAR", "test")]);
        // Without overwrite the ENV value wins, for the key and for later references.
        let map = env_with("FOO=development\nBAR=${FOO}", &env);
        assert_eq!(pairs(&map), [("FOO", "test"), ("BAR", "test")]);
        // With overwrite (Kamal) the file value wins.
        let map = parse("FOO=development\nBAR=${FOO}", &env, true).unwrap();
        assert_eq!(pairs(&map), [("FOO", "development"), ("BAR", "development")]);
    }

    #[test]
    fn existing_value_for_redefined_variable() {
        let env = Env::from([("FOO".to_string(), "existing".to_string())]);
        assert_eq!(pairs(&env_with("FOO=bar", &env)), [("FOO", "existing")]);
        assert_eq!(pairs(&parse("FOO=bar", &env, true).unwrap()), [("FOO", "bar")]);
    }

    #[test]
    fn escaped_variables() {
        assert_eq!(one(r#"FOO="foo\$BAR""#), "foo$BAR");
        assert_eq!(one(r#"FOO="foo\${BAR}""#), "foo${BAR}");
        assert_eq!(env("FOO=test\nBAR=\"foo\\${FOO} ${FOO}\"").get("BAR"), Some("foo${FOO} test"));
        assert_eq!(one("FOO=\"bar\\$ \\$\\$\""), "bar$ $$");
        assert_eq!(one("FOO=\"bar $ \""), "bar $ ");
    }

    #[test]
    fn yaml_style_and_export() {
        assert_eq!(pairs(&env("OPTION_A: 1")), [("OPTION_A", "1")]);
        assert_eq!(pairs(&env("export OPTION_A=2")), [("OPTION_A", "2")]);
        assert_eq!(pairs(&env("OPTION_A=2\nexport OPTION_A")), [("OPTION_A", "2")]);
        assert_eq!(pairs(&env("FOO.BAR=foobar")), [("FOO.BAR", "foobar")]);
        assert_eq!(pairs(&env("export=x")), [("export", "x")]);
    }

    #[test]
    fn export_of_unset_variable_is_an_error() {
        let err = parse("OPTION_A=2\nexport OH_NO_NOT_SET", &no_env(), false).unwrap_err();
        assert!(matches!(err, DotenvError::UnsetVariable { .. }));
        assert_eq!(err.to_string(), r#"Line "export OH_NO_NOT_SET" has an unset variable"#);
        // The match starts at a blank line's start and takes the newline with it, as in Ruby.
        let err = parse("A=1\n\nexport B # note", &no_env(), false).unwrap_err();
        assert_eq!(err.to_string(), r#"Line "\nexport B # note" has an unset variable"#);
    }

    #[test]
    fn newlines_in_double_quotes() {
        assert_eq!(one(r#"FOO="bar\nbaz""#), "bar\\nbaz");
        assert_eq!(one(r#"FOO="bar\\nbaz""#), "bar\\nbaz");
        assert_eq!(one(r#"FOO="bar\rbaz""#), "bar\\rbaz");
        let legacy_in_file = "DOTENV_LINEBREAK_MODE=legacy\nFOO=\"bar\\nbaz\\rfizz\"";
        let strict = Env::from([("DOTENV_LINEBREAK_MODE".to_string(), "strict".to_string())]);
        let map = env_with(legacy_in_file, &strict);
        assert_eq!(pairs(&map), [("DOTENV_LINEBREAK_MODE", "legacy"), ("FOO", "bar\nbaz\rfizz")]);
        let legacy = Env::from([("DOTENV_LINEBREAK_MODE".to_string(), "legacy".to_string())]);
        assert_eq!(pairs(&env_with(r#"FOO="bar\nbaz\rfizz""#, &legacy)), [("FOO", "bar\nbaz\rfizz")]);
        // Single quotes never expand.
        assert_eq!(one(r"OPTION_D='\n'"), "\\n");
    }

    #[test]
    fn lines_that_are_not_assignments() {
        assert!(env("lol$wut").is_empty());
        assert_eq!(pairs(&env("\n \t  \nfoo=bar\n \nfizz=buzz")), [("foo", "bar"), ("fizz", "buzz")]);
        assert_eq!(pairs(&env("\n\n\n # HERE GOES FOO \nfoo=bar")), [("foo", "bar")]);
        assert!(env("# HELLO=world\n").is_empty());
        assert!(env("# Uncomment to activate:\n").is_empty());
        assert!(env("foo bar=baz").is_empty());
        // A bare key is an empty value.
        assert_eq!(pairs(&env("BARE")), [("BARE", "")]);
    }

    #[test]
    fn comments() {
        assert_eq!(one("foo=bar # this is foo"), "bar");
        assert_eq!(one("foo=bar#baz"), "bar");
        assert_eq!(one(r#"foo="bar#baz" # comment"#), "bar#baz");
        assert_eq!(one(r#"foo= "bar#baz" # comment"#), "bar#baz");
        assert_eq!(one(r#"foo="ba#r""#), "ba#r");
        assert_eq!(one("foo='ba#r'"), "ba#r");
        assert_eq!(one("foo=\"ba#r\"  "), "ba#r");
        assert_eq!(one("foo='ba#r'  "), "ba#r");
    }

    #[test]
    fn values_without_values() {
        let input = "DATABASE_PASSWORD=\nDATABASE_USERNAME=root\nDATABASE_HOST=/tmp/mysql.sock";
        assert_eq!(
            pairs(&env(input)),
            [("DATABASE_PASSWORD", ""), ("DATABASE_USERNAME", "root"), ("DATABASE_HOST", "/tmp/mysql.sock")]
        );
    }

    #[test]
    fn multi_line_values() {
        assert_eq!(one("FOO=\"a\n\nb\n\nc\""), "a\n\nb\n\nc");
        let single = "OPTION_A=first line\nexport OPTION_B='line 1\nline 2\nline 3'\nOPTION_C=\"last line\"\nOPTION_ESCAPED='line one\nthis is \\'quoted\\'\none more line'";
        assert_eq!(
            pairs(&env(single)),
            [
                ("OPTION_A", "first line"),
                ("OPTION_B", "line 1\nline 2\nline 3"),
                ("OPTION_C", "last line"),
                ("OPTION_ESCAPED", "line one\nthis is \\'quoted\\'\none more line"),
            ]
        );
        let double = "OPTION_A=first line\nexport OPTION_B=\"line 1\nline 2\nline 3\"\nOPTION_C=\"last line\"\nOPTION_ESCAPED=\"line one\nthis is \\\"quoted\\\"\none more line\"";
        assert_eq!(
            pairs(&env(double)),
            [
                ("OPTION_A", "first line"),
                ("OPTION_B", "line 1\nline 2\nline 3"),
                ("OPTION_C", "last line"),
                ("OPTION_ESCAPED", "line one\nthis is \"quoted\"\none more line"),
            ]
        );
    }

    #[test]
    fn carriage_returns_and_bom() {
        assert_eq!(pairs(&env("FOO=bar\rbaz=fbb")), [("FOO", "bar"), ("baz", "fbb")]);
        assert_eq!(pairs(&env("FOO=bar\r\nbaz=fbb")), [("FOO", "bar"), ("baz", "fbb")]);
        assert_eq!(pairs(&env("\u{feff}BOM=UTF-8")), [("BOM", "UTF-8")]);
    }

    #[test]
    fn dotenv_fixture_files() {
        let quoted = "QUOTED=true\nOPTION_A='1'\nOPTION_B='2'\nOPTION_C=''\nOPTION_D='\\n'\nOPTION_E=\"1\"\nOPTION_F=\"2\"\nOPTION_G=\"\"\nOPTION_H=\"\\n\"\n";
        let map = env(quoted);
        assert_eq!(map.get("OPTION_A"), Some("1"));
        assert_eq!(map.get("OPTION_C"), Some(""));
        assert_eq!(map.get("OPTION_D"), Some("\\n"));
        assert_eq!(map.get("OPTION_G"), Some(""));
        assert_eq!(map.get("OPTION_H"), Some("\\n"));
        let plain = "PLAIN=true\nOPTION_A=1\nOPTION_B=2\nOPTION_C= 3\nOPTION_D =4\nOPTION_E = 5\n";
        let map = env(plain);
        assert_eq!(
            map.names().collect::<Vec<_>>(),
            ["PLAIN", "OPTION_A", "OPTION_B", "OPTION_C", "OPTION_D", "OPTION_E"]
        );
        assert_eq!(map.get("OPTION_E"), Some("5"));
    }

    #[test]
    fn shell_commands() {
        assert_eq!(one("echo=$(echo hello)"), "hello");
        assert_eq!(one(r#"echo=$(echo "$(echo "$(echo "$(echo hello)")")")"#), "hello");
        assert_eq!(one(r"echo=escaped-\$(echo hello)"), "escaped-$(echo hello)");
        assert_eq!(one(r#"interp=$(echo "Quotes won\'t be a problem")"#), "Quotes won't be a problem");
        assert_eq!(env("FOO='passwo(rd'\nBAR=$(echo '$FOO')").get("BAR"), Some("passwo(rd"));
        assert_eq!(pairs(&env("FOO=$(echo bar)\nBAR=$(echo $FOO)")), [("FOO", "bar"), ("BAR", "bar")]);
        assert_eq!(env("VAR1=var1\ninterp=$(echo \"VAR1 is $VAR1\")").get("interp"), Some("VAR1 is var1"));
        // Only one trailing newline is chomped.
        assert_eq!(one("X=\"$(printf 'a\\n\\n')\""), "a\n");
        // Not a command: empty, unbalanced.
        assert_eq!(one("X=$()"), "$()");
        assert_eq!(one("X='$(echo no)'"), "$(echo no)");
    }

    /// Runs nothing: records the commands and answers with their expanded text.
    fn recording(input: &str, syntax: CommandSyntax, env: &Env) -> (SecretMap, Vec<(String, String)>) {
        let mut seen = Vec::new();
        let map = Parser::new(env)
            .overwrite(true)
            .command_syntax(syntax)
            .parse(input, |req| {
                seen.push((req.command.to_string(), req.expanded.to_string()));
                Ok(format!("<{}>\n", req.expanded))
            })
            .unwrap();
        (map, seen)
    }

    #[test]
    fn escaped_parentheses_kamal_vs_dotenv() {
        // In the file a doubled backslash survives unescaping as one backslash.
        let line = r#"KEY1=$(kamal secrets extract KEY1 \\{\\"KEY1\\":\\"pass\\)word\\"\\})"#;
        let (map, seen) = recording(line, CommandSyntax::Kamal, &no_env());
        let command = r#"kamal secrets extract KEY1 \{\"KEY1\":\"pass\)word\"\}"#;
        assert_eq!(seen, [(command.to_string(), command.to_string())]);
        assert_eq!(map.get("KEY1").unwrap(), format!("<{command}>"));
        // dotenv's own rule stops at the first `)`.
        let (map, seen) = recording(line, CommandSyntax::Dotenv, &no_env());
        assert_eq!(seen[0].0, r#"kamal secrets extract KEY1 \{\"KEY1\":\"pass\"#);
        assert_eq!(map.get("KEY1").unwrap(), r#"<kamal secrets extract KEY1 \{\"KEY1\":\"pass\>word\"\})"#);
    }

    #[test]
    fn commands_are_variable_expanded_and_outputs_too() {
        let env = Env::from([("HOME_DIR".to_string(), "/h".to_string())]);
        let (map, seen) = recording("A=x y\nB=$(cmd $A ${HOME_DIR} \\$A)", CommandSyntax::Kamal, &env);
        assert_eq!(seen, [("cmd $A ${HOME_DIR} \\$A".to_string(), "cmd x y /h $A".to_string())]);
        // The output goes through variable expansion too: `$A` in it expands.
        assert_eq!(map.get("B"), Some("<cmd x y /h x y>"));
        // Escaped, nested and unterminated forms.
        let (map, seen) = recording(r"C=a\$(b) $(c (d) e) $(f", CommandSyntax::Kamal, &no_env());
        assert_eq!(seen.len(), 1);
        assert_eq!(map.get("C"), Some("a$(b) <c (d) e> $(f"));
    }

    #[test]
    fn command_failures_name_the_command_not_the_values() {
        let env = Env::from([("SECRET".to_string(), "hunter2".to_string())]);
        let err = parse("A=$(exit 7 $SECRET)", &env, true).unwrap_err();
        let DotenvError::Command { command, .. } = &err else { panic!("{err:?}") };
        assert_eq!(command, "exit 7 $SECRET");
        assert_eq!(err.to_string(), "Command `exit 7 $SECRET` failed: exit status 7");
        assert!(!format!("{err:?}").contains("hunter2"));
        let inline = Parser::new(&env).parse("A=$(x)", |_| Err(CommandError::Inline("Could not find secret A".into())));
        assert_eq!(inline.unwrap_err().to_string(), "Could not find secret A");
    }

    #[test]
    fn request_debug_redacts_expansion() {
        let req = CommandRequest { command: "echo $S", expanded: "echo hunter2" };
        assert_eq!(format!("{req:?}"), r#"CommandRequest { command: "echo $S", expanded: [REDACTED] }"#);
    }

    #[test]
    fn inspect_like_ruby() {
        assert_eq!(ruby_inspect("a\"b\\c\n\t#{x} #y \u{1}\u{7f}中"), r#""a\"b\\c\n\t\#{x} #y \u0001\u007F中""#);
    }
}
