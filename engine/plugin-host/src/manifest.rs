//! `plugin.toml`: what a plugin is and what it needs.
//!
//! ```toml
//! name = "rust-notify"            # [a-z0-9_-], unique among the plugins of a project
//! version = "0.1.0"               # the plugin's own version
//! world = "hook"                  # hook | secrets-adapter | builder
//! api = "0.1.0"                   # the wharf:plugin WIT version the component was built against
//! description = "Says that a deploy finished"   # optional
//! component = "rust_notify.wasm"  # optional: the component, relative to this file
//!                                 # (default: NAME.wasm beside it)
//!
//! [capabilities]                  # optional; every list defaults to empty
//! # Programs the plugin may run through `process`, with one pattern per argument (see
//! # "Argument patterns" below).
//! programs = [{ program = "git", args = ["rev-parse", "--short", "*"] }]
//! # Directories the plugin may read (through `files` and WASI, read-only). Relative paths are
//! # relative to the grant's working directory (the project); `~/` is the user's home.
//! directories = ["."]
//! # Hosts the plugin may reach over wasi:http (reserved: no network is offered yet).
//! # `*.example.com` matches any subdomain.
//! hosts = ["hooks.slack.com"]
//! ```
//!
//! Declaring a capability grants nothing: the user's [`Grant`](crate::Grant) must allow it
//! too, and only what both allow is available.
//!
//! # Argument patterns
//!
//! Each pattern matches one argument: literal text, with `*` (any run of characters) and `?`
//! (one character) inside it. Options are safe by construction: an argument that starts with
//! `-` is matched only by a pattern that starts with `-` too (`--format=*`, `-n`), never by a
//! wildcard, so `git log *` cannot become `git log --output=/some/file`. A final `**` matches
//! any number of remaining *operands* (arguments not starting with `-`); after an argument
//! `--` every argument is an operand. A final `**unchecked` matches any remaining arguments,
//! options included: the program can then be made to do anything its options allow (`git -c`,
//! `docker run -v /:/host`), so it is for programs the user trusts the plugin with entirely
//! (Wharf's built-in plugins use it for the vendor CLIs they drive). A program that runs its
//! operands as commands (`sh -c`, `env`, `xargs`, `find -exec`) grants running anything
//! whatever the patterns.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::PluginError;

/// The kind of plugin: which WIT world its component implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    /// `wharf:plugin/hook`: a deploy hook.
    Hook,
    /// `wharf:plugin/secrets-adapter`: a secrets adapter.
    SecretsAdapter,
    /// `wharf:plugin/builder`: an image builder.
    Builder,
}

impl World {
    /// The world's WIT name (`hook`, `secrets-adapter`, `builder`).
    pub fn as_str(self) -> &'static str {
        match self {
            World::Hook => "hook",
            World::SecretsAdapter => "secrets-adapter",
            World::Builder => "builder",
        }
    }
}

impl std::fmt::Display for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A program the plugin may run, with patterns for its arguments (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramRule {
    /// A bare name (`git`, looked up on `PATH`) or an absolute path.
    pub program: String,
    /// One pattern per argument (see "Argument patterns" in the module docs).
    pub args: Vec<String>,
}

impl ProgramRule {
    pub fn new<I, S>(program: impl Into<String>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ProgramRule { program: program.into(), args: args.into_iter().map(Into::into).collect() }
    }

    /// Whether this rule allows running `program` with `args`.
    pub fn allows(&self, program: &str, args: &[String]) -> bool {
        self.program == program && args_match(&self.args, args)
    }
}

/// What a plugin asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    #[serde(default)]
    pub programs: Vec<ProgramRule>,
    #[serde(default)]
    pub directories: Vec<String>,
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Environment variables the plugin may read (its WASI environment holds those that are
    /// granted and set) and set on the programs it runs.
    #[serde(default)]
    pub env: Vec<String>,
    /// Whether programs it runs may be given the user's terminal (to prompt for a login).
    #[serde(default)]
    pub terminal: bool,
}

/// A parsed `plugin.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub world: World,
    pub api: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub component: Option<String>,
    #[serde(default)]
    pub capabilities: Capabilities,
}

/// The API versions of `wharf:plugin` this host can run.
pub const SUPPORTED_APIS: &[&str] = &["0.1.0"];

impl Manifest {
    /// Parses and validates a manifest. `origin` names it in errors (a path, or a plugin name).
    pub fn from_toml(text: &str, origin: &str) -> Result<Manifest, PluginError> {
        let m: Manifest = toml::from_str(text)
            .map_err(|e| PluginError::Manifest { plugin: origin.to_string(), message: e.to_string() })?;
        m.validate()?;
        Ok(m)
    }

    /// Reads `path` (a `plugin.toml`) and returns the manifest with the path of its component.
    pub fn from_file(path: &Path) -> Result<(Manifest, PathBuf), PluginError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| PluginError::Manifest { plugin: origin.clone(), message: format!("cannot read: {e}") })?;
        let m = Manifest::from_toml(&text, &origin)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let component = dir.join(m.component.clone().unwrap_or_else(|| format!("{}.wasm", m.name)));
        Ok((m, component))
    }

    fn validate(&self) -> Result<(), PluginError> {
        let err = |message: String| Err(PluginError::Manifest { plugin: self.name.clone(), message });
        if self.name.is_empty()
            || !self.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return err(format!("name {:?} must be non-empty and use only a-z, 0-9, - and _", self.name));
        }
        if !SUPPORTED_APIS.iter().any(|v| api_compatible(v, &self.api)) {
            return err(format!("api {:?} is not supported (this host runs {})", self.api, SUPPORTED_APIS.join(", ")));
        }
        for rule in &self.capabilities.programs {
            if rule.program.is_empty() || (rule.program.contains('/') && !rule.program.starts_with('/')) {
                return err(format!("program {:?} must be a bare name or an absolute path", rule.program));
            }
            if let Some(pos) = rule.args.iter().position(|a| a == "**") {
                if pos + 1 != rule.args.len() {
                    return err(format!("program {:?}: `**` may only be the last argument pattern", rule.program));
                }
            }
        }
        for d in &self.capabilities.directories {
            if d.is_empty() {
                return err("an empty directory".into());
            }
        }
        for v in &self.capabilities.env {
            if !valid_env_name(v) {
                return err(format!("env {v:?} is not a variable name (A-Z, a-z, 0-9, _)"));
            }
        }
        Ok(())
    }
}

/// A portable variable name: letters, digits and `_`, not starting with a digit.
pub(crate) fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether a component built against WIT version `built` runs on a host that offers `offered`:
/// same major version, and for 0.x the same minor version, with `built` not newer.
pub(crate) fn api_compatible(offered: &str, built: &str) -> bool {
    let parse = |v: &str| -> Option<(u64, u64, u64)> {
        let mut it = v.split('.').map(|p| p.parse::<u64>().ok());
        Some((it.next()??, it.next()??, it.next()??))
    };
    match (parse(offered), parse(built)) {
        (Some(o), Some(b)) => {
            if o.0 == 0 {
                b.0 == 0 && o.1 == b.1 && b.2 <= o.2
            } else {
                o.0 == b.0 && (b.1, b.2) <= (o.1, o.2)
            }
        }
        _ => false,
    }
}

/// A final pattern matching any remaining arguments, options included.
pub const ANY_ARGUMENTS: &str = "**unchecked";

/// Matches arguments against patterns (see "Argument patterns" in the module docs).
pub(crate) fn args_match(patterns: &[String], args: &[String]) -> bool {
    let (fixed, rest) = match patterns.split_last() {
        Some((last, init)) if last == "**" || last == ANY_ARGUMENTS => (init, Some(last.as_str())),
        _ => (patterns, None),
    };
    if args.len() < fixed.len() || (rest.is_none() && args.len() != fixed.len()) {
        return false;
    }
    let mut operands_only = false;
    for (p, a) in fixed.iter().zip(args) {
        let ok = if operands_only { glob_match(p, a) } else { arg_match(p, a) };
        if !ok {
            return false;
        }
        if a == "--" && p == "--" {
            operands_only = true;
        }
    }
    match rest {
        None => true,
        Some(ANY_ARGUMENTS) => true,
        Some(_) => {
            for a in &args[fixed.len()..] {
                if operands_only {
                    continue;
                }
                if a == "--" {
                    operands_only = true;
                } else if a.starts_with('-') {
                    return false;
                }
            }
            true
        }
    }
}

/// One argument against one pattern: an option only by a pattern that is an option too.
fn arg_match(pattern: &str, arg: &str) -> bool {
    if arg.starts_with('-') && !pattern.starts_with('-') {
        return false;
    }
    glob_match(pattern, arg)
}

/// `*` matches any run of characters, `?` one character; everything else is literal.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parses_the_documented_example() {
        let m = Manifest::from_toml(
            r#"
name = "rust-notify"
version = "0.1.0"
world = "hook"
api = "0.1.0"
description = "Says that a deploy finished"

[capabilities]
programs = [{ program = "git", args = ["rev-parse", "--short", "*"] }]
directories = ["."]
hosts = ["hooks.slack.com"]
"#,
            "test",
        )
        .unwrap();
        assert_eq!(m.world, World::Hook);
        assert_eq!(m.capabilities.programs[0], ProgramRule::new("git", ["rev-parse", "--short", "*"]));
        assert_eq!(m.capabilities.directories, ["."]);
    }

    #[test]
    fn rejects_bad_manifests() {
        let base = "version = \"1\"\nworld = \"hook\"\n";
        let e = Manifest::from_toml(&format!("name = \"Bad Name\"\n{base}api = \"0.1.0\""), "t").unwrap_err();
        assert!(e.to_string().contains("must be non-empty"), "{e}");
        let e = Manifest::from_toml(&format!("name = \"a\"\n{base}api = \"0.2.0\""), "t").unwrap_err();
        assert!(e.to_string().contains("not supported"), "{e}");
        let e = Manifest::from_toml(&format!("name = \"a\"\n{base}api = \"0.1.0\"\nworld2 = 1"), "t").unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
        let e = Manifest::from_toml(
            &format!("name = \"a\"\n{base}api = \"0.1.0\"\n[capabilities]\nprograms = [{{ program = \"git\", args = [\"**\", \"x\"] }}]"),
            "t",
        )
        .unwrap_err();
        assert!(e.to_string().contains("last argument pattern"), "{e}");
    }

    #[test]
    fn api_versions() {
        assert!(api_compatible("0.1.0", "0.1.0"));
        assert!(api_compatible("0.1.2", "0.1.0"));
        assert!(!api_compatible("0.1.0", "0.1.1"));
        assert!(!api_compatible("0.2.0", "0.1.0"));
        assert!(api_compatible("1.2.0", "1.1.5"));
        assert!(!api_compatible("1.2.0", "2.0.0"));
    }

    #[test]
    fn argument_patterns() {
        assert!(args_match(&s(&["rev-parse", "*"]), &s(&["rev-parse", "HEAD"])));
        assert!(!args_match(&s(&["rev-parse", "*"]), &s(&["rev-parse"])));
        assert!(!args_match(&s(&["rev-parse", "*"]), &s(&["rev-parse", "HEAD", "x"])));
        assert!(args_match(&s(&["log", "**"]), &s(&["log"])));
        // wildcards never match options: they must be written out
        assert!(!args_match(&s(&["log", "**"]), &s(&["log", "-1", "--oneline"])));
        assert!(!args_match(&s(&["log", "**"]), &s(&["log", "--output=/tmp/x"])));
        assert!(!args_match(&s(&["log", "*"]), &s(&["log", "--output=/tmp/x"])));
        assert!(args_match(&s(&["log", "--format=*", "**"]), &s(&["log", "--format=%H", "main"])));
        assert!(!args_match(&s(&["log", "--format=*", "**"]), &s(&["log", "--output=x", "main"])));
        // after `--`, everything is an operand
        assert!(args_match(&s(&["rm", "--", "**"]), &s(&["rm", "--", "-rf"])));
        assert!(args_match(&s(&["log", "**"]), &s(&["log", "main", "--", "--odd-file-name"])));
        // the explicit escape hatch
        assert!(args_match(&s(&["**unchecked"]), &s(&["--anything", "-x", "y"])));
        assert!(!args_match(&s(&["log", "**"]), &s(&["push"])));
        assert!(args_match(&s(&["**"]), &s(&[])));
        assert!(args_match(&s(&[]), &s(&[])));
        assert!(!args_match(&s(&[]), &s(&["x"])));
        assert!(glob_match("--format=*", "--format=%H"));
        assert!(glob_match("v?.*", "v1.2"));
        assert!(!glob_match("v?.*", "v12.2"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("a*b", "acd"));
    }
}
