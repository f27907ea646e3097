//! The `secrets` subcommand's logic (Kamal's `Kamal::Cli::Secrets`) as functions that print
//! nothing: `fetch` (adapter lookup, the account check, the JSON result, shell-escaped inline),
//! `extract`, `print`, the `test` adapter, and [`run_inline`] / [`inline_hook`], which run
//! `secrets fetch|extract ... --inline` from an argv as `$(kamal secrets ...)` in a secrets file
//! does.
//!
//! Adapters: [`lookup_adapter`] maps a name to one of Kamal's adapters (aliases `1password`,
//! `lastpass`, `gcp`, `bitwarden-sm`; otherwise ActiveSupport's `camelize` must give one of
//! Kamal's class names), else `Unknown secrets adapter: NAME` unless the fetcher provides a
//! custom adapter of that name. Fetching goes through an [`AdapterFetcher`]; [`BuiltinAdapters`]
//! implements only `test`.

use std::fmt;
use std::sync::Arc;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use thiserror::Error;

use crate::map::SecretMap;
use crate::shell::shellescape;

/// What `fetch` prints (and returns) when an adapter that needs `--account` has none or a blank one.
pub const MISSING_ACCOUNT: &str = "No value provided for required options '--account'";

/// Errors of the `secrets` subcommand, with Kamal's messages.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CliError {
    /// No adapter of that name.
    #[error("Unknown secrets adapter: {0}")]
    UnknownAdapter(String),
    /// `extract` found no such key.
    #[error("Could not find secret {0}")]
    SecretNotFound(String),
    /// `extract`'s second argument is not JSON. The message is serde's (no input text).
    #[error("unexpected token in secrets JSON: {0}")]
    InvalidJson(String),
    /// The adapter failed; its message as is.
    #[error("{0}")]
    Adapter(String),
    /// The arguments could not be parsed (Thor's messages).
    #[error("{0}")]
    Usage(String),
}

/// Kamal's secrets adapters (`lib/kamal/secrets/adapters/*.rb`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Adapter {
    /// `aws_secrets_manager`
    AwsSecretsManager,
    /// `bitwarden`
    Bitwarden,
    /// `bitwarden_secrets_manager` (alias `bitwarden-sm`)
    BitwardenSecretsManager,
    /// `doppler`
    Doppler,
    /// `enpass`
    Enpass,
    /// `gcp_secret_manager` (alias `gcp`)
    GcpSecretManager,
    /// `last_pass` (alias `lastpass`)
    LastPass,
    /// `one_password` (alias `1password`)
    OnePassword,
    /// `passbolt`
    Passbolt,
    /// `test`: each name reversed.
    Test,
}

impl Adapter {
    /// Every adapter.
    pub const ALL: [Adapter; 10] = [
        Adapter::AwsSecretsManager,
        Adapter::Bitwarden,
        Adapter::BitwardenSecretsManager,
        Adapter::Doppler,
        Adapter::Enpass,
        Adapter::GcpSecretManager,
        Adapter::LastPass,
        Adapter::OnePassword,
        Adapter::Passbolt,
        Adapter::Test,
    ];

    /// The canonical name: the adapter's file name, e.g. `one_password`.
    pub fn name(self) -> &'static str {
        match self {
            Adapter::AwsSecretsManager => "aws_secrets_manager",
            Adapter::Bitwarden => "bitwarden",
            Adapter::BitwardenSecretsManager => "bitwarden_secrets_manager",
            Adapter::Doppler => "doppler",
            Adapter::Enpass => "enpass",
            Adapter::GcpSecretManager => "gcp_secret_manager",
            Adapter::LastPass => "last_pass",
            Adapter::OnePassword => "one_password",
            Adapter::Passbolt => "passbolt",
            Adapter::Test => "test",
        }
    }

    /// Kamal's class name, e.g. `OnePassword`.
    pub fn class_name(self) -> &'static str {
        match self {
            Adapter::AwsSecretsManager => "AwsSecretsManager",
            Adapter::Bitwarden => "Bitwarden",
            Adapter::BitwardenSecretsManager => "BitwardenSecretsManager",
            Adapter::Doppler => "Doppler",
            Adapter::Enpass => "Enpass",
            Adapter::GcpSecretManager => "GcpSecretManager",
            Adapter::LastPass => "LastPass",
            Adapter::OnePassword => "OnePassword",
            Adapter::Passbolt => "Passbolt",
            Adapter::Test => "Test",
        }
    }

    /// Whether `fetch` needs `--account` (`requires_account?`).
    pub fn requires_account(self) -> bool {
        !matches!(
            self,
            Adapter::AwsSecretsManager
                | Adapter::BitwardenSecretsManager
                | Adapter::Doppler
                | Adapter::Enpass
                | Adapter::Passbolt
        )
    }
}

impl fmt::Display for Adapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `Kamal::Secrets::Adapters.lookup`: the aliases (case-insensitive), else the name camelized must
/// be a class name; else `Unknown secrets adapter: NAME`.
pub fn lookup_adapter(name: &str) -> Result<Adapter, CliError> {
    let aliased = match name.to_lowercase().as_str() {
        "1password" => "one_password",
        "lastpass" => "last_pass",
        "gcp" => "gcp_secret_manager",
        "bitwarden-sm" => "bitwarden_secrets_manager",
        _ => name,
    };
    let class = camelize(aliased);
    Adapter::ALL
        .into_iter()
        .find(|a| a.class_name() == class)
        .ok_or_else(|| CliError::UnknownAdapter(aliased.to_string()))
}

/// ActiveSupport's `String#camelize` (no acronyms): the leading `[a-z\d]*` run is capitalized,
/// then each `_x`/`/x` run (case-insensitive `[a-z\d]*`) is capitalized (rest downcased), `/`
/// giving `::`.
pub fn camelize(term: &str) -> String {
    fn capitalize(word: &str) -> String {
        let mut chars = word.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect(),
            None => String::new(),
        }
    }
    let lead = term.find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit())).unwrap_or(term.len());
    let mut s = capitalize(&term[..lead]);
    s.push_str(&term[lead..]);
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(i) = rest.find(['_', '/']) {
        out.push_str(&rest[..i]);
        let slash = rest.as_bytes()[i] == b'/';
        let after = &rest[i + 1..];
        let run = after.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(after.len());
        if slash {
            out.push_str("::");
        }
        out.push_str(&capitalize(&after[..run]));
        rest = &after[run..];
    }
    out.push_str(rest);
    out
}

/// Fetches secrets from a vault; implemented by the built-in `test` adapter and, later, plugins.
pub trait AdapterFetcher: Send + Sync {
    /// Kamal's `adapter.fetch(secrets, account:, from:)`: names to values, in order.
    fn fetch(
        &self,
        adapter: Adapter,
        names: &[String],
        account: Option<&str>,
        from: Option<&str>,
    ) -> Result<SecretMap, String>;

    /// Whether `name`, not one of Kamal's adapters, is an adapter this fetcher provides (a
    /// plugin configured by the project). Such an adapter takes `--account` as given.
    fn has_custom(&self, _name: &str) -> bool {
        false
    }

    /// Fetches with the custom adapter `name` (see [`AdapterFetcher::has_custom`]).
    fn fetch_custom(
        &self,
        name: &str,
        _names: &[String],
        _account: Option<&str>,
        _from: Option<&str>,
    ) -> Result<SecretMap, String> {
        Err(format!("Unknown secrets adapter: {name}"))
    }
}

impl<F> AdapterFetcher for F
where
    F: Fn(Adapter, &[String], Option<&str>, Option<&str>) -> Result<SecretMap, String> + Send + Sync,
{
    fn fetch(
        &self,
        adapter: Adapter,
        names: &[String],
        account: Option<&str>,
        from: Option<&str>,
    ) -> Result<SecretMap, String> {
        self(adapter, names, account, from)
    }
}

/// The adapters built into this crate: `test` only; the others answer
/// `Secrets adapter NAME is not available yet`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinAdapters;

impl AdapterFetcher for BuiltinAdapters {
    fn fetch(
        &self,
        adapter: Adapter,
        names: &[String],
        _account: Option<&str>,
        from: Option<&str>,
    ) -> Result<SecretMap, String> {
        match adapter {
            Adapter::Test => Ok(test_adapter(names, from)),
            other => Err(format!("Secrets adapter {} is not available yet", other.name())),
        }
    }
}

/// Kamal's `test` adapter: each name, prefixed `FROM/` when `from` is given, maps to itself with
/// `LPAREN`/`RPAREN` turned into `(`/`)`, reversed (by character). The account is not used.
pub fn test_adapter(names: &[String], from: Option<&str>) -> SecretMap {
    names
        .iter()
        .map(|name| {
            let key = match from {
                Some(from) => format!("{from}/{name}"),
                None => name.clone(),
            };
            let value: String = key.replace("LPAREN", "(").replace("RPAREN", ")").chars().rev().collect();
            (key, value)
        })
        .collect()
}

/// The arguments of `secrets fetch`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchArgs {
    /// `--adapter`/`-a` (required).
    pub adapter: String,
    /// `--account`.
    pub account: Option<String>,
    /// `--from`.
    pub from: Option<String>,
    /// The secret names.
    pub names: Vec<String>,
    /// `--inline` (hidden): return the JSON shell-escaped instead of printing it.
    pub inline: bool,
}

/// What `fetch` gives.
#[derive(Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// The output: the JSON object, shell-escaped when inline. The CLI prints it with a newline.
    Output(String),
    /// The adapter needs an account and none was given: the CLI prints [`MISSING_ACCOUNT`] and
    /// exits 0, as Kamal does.
    MissingAccount,
}

impl fmt::Debug for FetchOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchOutcome::Output(_) => f.write_str("Output([REDACTED])"),
            FetchOutcome::MissingAccount => f.write_str("MissingAccount"),
        }
    }
}

fn is_blank(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

/// `secrets fetch`: looks the adapter up, checks the account, fetches, formats.
pub fn fetch(args: &FetchArgs, fetcher: &dyn AdapterFetcher) -> Result<FetchOutcome, CliError> {
    let adapter = match lookup_adapter(&args.adapter) {
        Ok(a) => a,
        Err(_) if fetcher.has_custom(&args.adapter) => {
            let results = fetcher
                .fetch_custom(&args.adapter, &args.names, args.account.as_deref(), args.from.as_deref())
                .map_err(CliError::Adapter)?;
            return Ok(FetchOutcome::Output(fetch_output(&results, args.inline)));
        }
        Err(e) => return Err(e),
    };
    if adapter.requires_account() && args.account.as_deref().is_none_or(is_blank) {
        return Ok(FetchOutcome::MissingAccount);
    }
    let results = fetcher
        .fetch(adapter, &args.names, args.account.as_deref(), args.from.as_deref())
        .map_err(CliError::Adapter)?;
    Ok(FetchOutcome::Output(fetch_output(&results, args.inline)))
}

/// Ruby's `JSON.dump` of the results: `{"name":"value",...}` in order, no spaces.
pub fn fetch_json(results: &SecretMap) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in results.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(k).expect("string"));
        out.push(':');
        out.push_str(&serde_json::to_string(v).expect("string"));
    }
    out.push('}');
    out
}

/// `fetch`'s output: [`fetch_json`], passed through [`shellescape`] when inline.
pub fn fetch_output(results: &SecretMap, inline: bool) -> String {
    let json = fetch_json(results);
    if inline {
        shellescape(&json)
    } else {
        json
    }
}

/// A JSON object's entries in document order (a repeated key keeps its first position and takes
/// its last value, as Ruby's `JSON.parse` into a `Hash`).
struct OrderedObject(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<OrderedObject>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries: Vec<(String, Value)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    match entries.iter_mut().find(|(key, _)| *key == k) {
                        Some(entry) => entry.1 = v,
                        None => entries.push((k, v)),
                    }
                }
                Ok(Some(OrderedObject(entries)))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(None)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
        }
        deserializer.deserialize_any(V)?.ok_or_else(|| serde::de::Error::custom("not a JSON object"))
    }
}

/// `secrets extract NAME JSON`: the value of key `NAME` (unless null or false), else of the first
/// key ending in `/NAME`, else `Could not find secret NAME`. A string is returned as is; another
/// JSON value as its JSON text (`true`, `12`).
pub fn extract(name: &str, json: &str) -> Result<String, CliError> {
    let object: OrderedObject = serde_json::from_str(json).map_err(|e| {
        if e.to_string().starts_with("not a JSON object") {
            CliError::SecretNotFound(name.to_string())
        } else {
            CliError::InvalidJson(e.to_string())
        }
    })?;
    let truthy = |v: &Value| !matches!(v, Value::Null | Value::Bool(false));
    let suffix = format!("/{name}");
    let value = object
        .0
        .iter()
        .find(|(k, v)| k == name && truthy(v))
        .or_else(|| object.0.iter().find(|(k, _)| k.ends_with(&suffix)))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
        .ok_or_else(|| CliError::SecretNotFound(name.to_string()))?;
    Ok(match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// `secrets print`: `NAME=value` lines, each ended by a newline as Ruby's `puts` does (no second
/// newline when the value already ends with one).
pub fn print_lines(secrets: &SecretMap) -> String {
    let mut out = String::new();
    for (k, v) in secrets.iter() {
        out.push_str(k);
        out.push('=');
        out.push_str(v);
        if !v.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// Kamal's global options (Thor class options): those that take a value, and booleans.
const GLOBAL_VALUE_OPTIONS: &[&str] = &[
    "--version",
    "--hosts",
    "--roles",
    "--config-file",
    "--config_file",
    "--destination",
    "--lock-wait-timeout",
    "--lock-wait-interval",
    "--lock_wait_timeout",
    "--lock_wait_interval",
    "-h",
    "-r",
    "-c",
    "-d",
];
const GLOBAL_FLAGS: &[&str] = &[
    "--verbose",
    "--quiet",
    "--primary",
    "--skip-hooks",
    "--skip_hooks",
    "--lock-wait",
    "--lock_wait",
    "-v",
    "-q",
    "-p",
    "-H",
];

/// `secrets fetch|extract ...` from its argv (the words after `secrets`), parsed as Thor does for
/// Kamal: options anywhere (`--x v`, `--x=v`, `-a v`), `--` ending them, command names
/// abbreviated when unambiguous, Kamal's global options accepted and ignored, unknown options taken
/// as arguments. Returns the output `--inline` gives (the shell-escaped JSON for `fetch`, the value
/// for `extract`); without `--inline`, what would be printed, without the newline.
pub fn run_inline(argv: &[String], fetcher: &dyn AdapterFetcher) -> Result<String, String> {
    let Some(command) = argv.first() else {
        return Err("No secrets command given (fetch, extract, print)".to_string());
    };
    let commands = ["fetch", "extract", "print"];
    let matching: Vec<&str> = commands.iter().copied().filter(|c| c.starts_with(command.as_str())).collect();
    let command = match (commands.contains(&command.as_str()), matching.as_slice()) {
        (true, _) => command.as_str(),
        (false, [one]) => one,
        (false, []) => return Err(format!("Could not find command \"{command}\" in \"secrets\" namespace.")),
        (false, many) => {
            return Err(format!("Ambiguous command {command} matches [{}]", many.join(", ")));
        }
    };
    let parsed = parse_options(&argv[1..], command == "fetch")?;
    match command {
        "fetch" => {
            let Some(adapter) = parsed.adapter else {
                return Err("No value provided for required options '--adapter'".to_string());
            };
            let args = FetchArgs {
                adapter,
                account: parsed.account,
                from: parsed.from,
                names: parsed.positional,
                inline: parsed.inline,
            };
            match fetch(&args, fetcher).map_err(|e| e.to_string())? {
                FetchOutcome::Output(output) => Ok(output),
                FetchOutcome::MissingAccount => Err(MISSING_ACCOUNT.to_string()),
            }
        }
        "extract" => match parsed.positional.as_slice() {
            [name, json] => extract(name, json).map_err(|e| e.to_string()),
            args => Err(format!("\"secrets extract\" was called with {}", describe_arguments(args))),
        },
        _ => Err("\"secrets print\" cannot run inline".to_string()),
    }
}

fn describe_arguments(args: &[String]) -> String {
    if args.is_empty() {
        "no arguments".to_string()
    } else {
        let quoted: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
        format!("arguments [{}]", quoted.join(", "))
    }
}

#[derive(Default)]
struct ParsedOptions {
    adapter: Option<String>,
    account: Option<String>,
    from: Option<String>,
    inline: bool,
    positional: Vec<String>,
}

fn parse_options(args: &[String], fetch: bool) -> Result<ParsedOptions, String> {
    let mut parsed = ParsedOptions::default();
    let mut i = 0;
    let mut options_done = false;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if options_done || !arg.starts_with('-') || arg == "-" {
            parsed.positional.push(arg.clone());
            continue;
        }
        if arg == "--" {
            options_done = true;
            continue;
        }
        let (switch, attached) = match arg.split_once('=') {
            Some((s, v)) => (s, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        let is_switch = |s: &str| s.starts_with('-') && s.len() > 1;
        // The value of a string option: attached, else the next argument unless it is a switch.
        let mut value = |name: &str, required: bool| -> Result<String, String> {
            if let Some(v) = attached.clone() {
                return Ok(v);
            }
            match args.get(i) {
                Some(next) if !is_switch(next) => {
                    i += 1;
                    Ok(next.clone())
                }
                // Thor gives an optional string option with no value its own name.
                _ if !required => Ok(name.to_string()),
                _ => Err(format!("No value provided for option '{switch}'")),
            }
        };
        match switch {
            "--adapter" | "-a" if fetch => parsed.adapter = Some(value("adapter", true)?),
            "--account" if fetch => parsed.account = Some(value("account", false)?),
            "--from" if fetch => parsed.from = Some(value("from", false)?),
            "--inline" => parsed.inline = attached.as_deref() != Some("false"),
            "--no-inline" | "--skip-inline" => parsed.inline = false,
            s if GLOBAL_VALUE_OPTIONS.contains(&s) => {
                value(s.trim_start_matches('-'), false)?;
            }
            s if GLOBAL_FLAGS.contains(&s) => {}
            _ => parsed.positional.push(arg.clone()),
        }
    }
    Ok(parsed)
}

/// Runs `kamal secrets ...` / `wharf secrets ...` in process. It gets the words after `secrets`,
/// with `--inline` appended (as Kamal appends it), e.g. `["fetch", "--adapter", "test", "A",
/// "--inline"]`, and returns what the command returns inline (for `fetch`, the shell-escaped JSON;
/// see [`fetch`]); the output is chomped. An `Err` is the command's error message, shown as is.
pub type InlineHook = Box<dyn Fn(&[String]) -> Result<String, String> + Send + Sync>;

/// An [`InlineHook`] running [`run_inline`] with `fetcher`.
pub fn inline_hook(fetcher: Arc<dyn AdapterFetcher>) -> InlineHook {
    Box::new(move |argv: &[String]| run_inline(argv, fetcher.as_ref()))
}

#[cfg(test)]
mod tests {
    //! Kamal's `test/cli/secrets_test.rb` and the adapter lookup.
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    fn fetch_args(adapter: &str, account: Option<&str>, from: Option<&str>, names: &[&str], inline: bool) -> FetchArgs {
        FetchArgs {
            adapter: adapter.to_string(),
            account: account.map(str::to_string),
            from: from.map(str::to_string),
            names: strings(names),
            inline,
        }
    }

    #[test]
    fn fetch_prints_json_in_order() {
        let args = fetch_args("test", Some("myaccount"), None, &["foo", "bar", "baz"], false);
        assert_eq!(
            fetch(&args, &BuiltinAdapters).unwrap(),
            FetchOutcome::Output(r#"{"foo":"oof","bar":"rab","baz":"zab"}"#.to_string())
        );
    }

    #[test]
    fn fetch_without_account() {
        let args = fetch_args("test", None, None, &["foo"], false);
        assert_eq!(fetch(&args, &BuiltinAdapters).unwrap(), FetchOutcome::MissingAccount);
        let blank = fetch_args("test", Some("  "), None, &["foo"], false);
        assert_eq!(fetch(&blank, &BuiltinAdapters).unwrap(), FetchOutcome::MissingAccount);
        assert_eq!(MISSING_ACCOUNT, "No value provided for required options '--account'");
        // Adapters without accounts go on to fetch.
        let doppler = fetch_args("doppler", None, None, &["foo"], false);
        assert_eq!(
            fetch(&doppler, &BuiltinAdapters).unwrap_err().to_string(),
            "Secrets adapter doppler is not available yet"
        );
    }

    #[test]
    fn fetch_from_prefixes_names_and_inline_escapes() {
        let args = fetch_args("test", Some("x"), Some("vault/item"), &["A1", "B(2"], true);
        let FetchOutcome::Output(out) = fetch(&args, &BuiltinAdapters).unwrap() else { panic!() };
        assert_eq!(out, r#"\{\"vault/item/A1\":\"1A/meti/tluav\",\"vault/item/B\(2\":\"2\(B/meti/tluav\"\}"#);
    }

    #[test]
    fn test_adapter_reverses_and_maps_parens() {
        let map = test_adapter(&strings(&["INTERPOLATED_LPARENRPAREN", "INTERPOLATED_中文", "A", "A"]), None);
        assert_eq!(
            map.into_vec(),
            [
                ("INTERPOLATED_LPARENRPAREN".to_string(), ")(_DETALOPRETNI".to_string()),
                ("INTERPOLATED_中文".to_string(), "文中_DETALOPRETNI".to_string()),
                ("A".to_string(), "A".to_string()),
            ]
        );
    }

    #[test]
    fn fetch_json_escapes_like_ruby() {
        let map: SecretMap = [("K", "a\"b\\c\nd\u{1}/é")].into_iter().collect();
        assert_eq!(fetch_json(&map), r#"{"K":"a\"b\\c\nd\u0001/é"}"#);
        assert_eq!(fetch_json(&SecretMap::new()), "{}");
    }

    #[test]
    fn extract_exact_then_suffix() {
        assert_eq!(extract("foo", r#"{"foo":"oof", "bar":"rab", "baz":"zab"}"#).unwrap(), "oof");
        assert_eq!(extract("foo", r#"{"abc/foo":"oof", "bar":"rab", "baz":"zab"}"#).unwrap(), "oof");
        // The first key (in document order) ending in /NAME.
        assert_eq!(extract("foo", r#"{"z/foo":"first", "a/foo":"second"}"#).unwrap(), "first");
        // Exact key wins over an earlier suffix match.
        assert_eq!(extract("foo", r#"{"a/foo":"suffix", "foo":"exact"}"#).unwrap(), "exact");
        // `afoo` does not end in `/foo`.
        assert_eq!(extract("foo", r#"{"afoo":"x"}"#), Err(CliError::SecretNotFound("foo".into())));
        assert_eq!(extract("foo", r#"{"bar":"x"}"#).unwrap_err().to_string(), "Could not find secret foo");
        // null and false fall through to the suffix search, as `||` does in Ruby.
        assert_eq!(extract("foo", r#"{"foo":null, "a/foo":"s"}"#).unwrap(), "s");
        assert_eq!(extract("foo", r#"{"foo":false, "a/foo":false}"#).unwrap(), "false");
        assert_eq!(extract("n", r#"{"n":12}"#).unwrap(), "12");
        // A repeated key keeps its first position, last value.
        assert_eq!(extract("x", r#"{"a/x":"1","b/x":"2","a/x":"3"}"#).unwrap(), "3");
    }

    #[test]
    fn extract_bad_json() {
        assert!(matches!(extract("foo", "{nope"), Err(CliError::InvalidJson(_))));
        assert_eq!(extract("foo", r#"["foo"]"#), Err(CliError::SecretNotFound("foo".into())));
    }

    #[test]
    fn print_like_puts() {
        let map: SecretMap = [("SECRET1", "ABC"), ("SECRET2", "ABCDEF"), ("NL", "x\n")].into_iter().collect();
        assert_eq!(print_lines(&map), "SECRET1=ABC\nSECRET2=ABCDEF\nNL=x\n");
        assert_eq!(print_lines(&SecretMap::new()), "");
    }

    #[test]
    fn adapter_lookup() {
        let ok = |n: &str| lookup_adapter(n).unwrap();
        assert_eq!(ok("1password"), Adapter::OnePassword);
        assert_eq!(ok("1Password"), Adapter::OnePassword);
        assert_eq!(ok("one_password"), Adapter::OnePassword);
        assert_eq!(ok("OnePassword"), Adapter::OnePassword);
        assert_eq!(ok("one_PASSWORD"), Adapter::OnePassword);
        assert_eq!(ok("lastpass"), Adapter::LastPass);
        assert_eq!(ok("LASTPASS"), Adapter::LastPass);
        assert_eq!(ok("last_pass"), Adapter::LastPass);
        assert_eq!(ok("gcp"), Adapter::GcpSecretManager);
        assert_eq!(ok("bitwarden-sm"), Adapter::BitwardenSecretsManager);
        assert_eq!(ok("bitwarden_secrets_manager"), Adapter::BitwardenSecretsManager);
        assert_eq!(ok("bitwarden"), Adapter::Bitwarden);
        assert_eq!(ok("aws_secrets_manager"), Adapter::AwsSecretsManager);
        assert_eq!(ok("doppler"), Adapter::Doppler);
        assert_eq!(ok("enpass"), Adapter::Enpass);
        assert_eq!(ok("passbolt"), Adapter::Passbolt);
        assert_eq!(ok("test"), Adapter::Test);
        assert_eq!(ok("Test"), Adapter::Test);
        for name in Adapter::ALL {
            assert_eq!(ok(name.name()), name);
        }
        let unknown = |n: &str| lookup_adapter(n).unwrap_err().to_string();
        assert_eq!(unknown("x"), "Unknown secrets adapter: x");
        assert_eq!(unknown("TEST"), "Unknown secrets adapter: TEST");
        assert_eq!(unknown("one-password"), "Unknown secrets adapter: one-password");
        assert_eq!(unknown("bitwarden_sm"), "Unknown secrets adapter: bitwarden_sm");
        assert_eq!(unknown(""), "Unknown secrets adapter: ");
    }

    #[test]
    fn camelize_like_active_support() {
        assert_eq!(camelize("one_password"), "OnePassword");
        assert_eq!(camelize("Last_Pass"), "LastPass");
        assert_eq!(camelize("TEST"), "TEST");
        assert_eq!(camelize("tEST"), "TEST");
        assert_eq!(camelize("test_"), "Test");
        assert_eq!(camelize("aws/secrets_manager"), "Aws::SecretsManager");
        assert_eq!(camelize("1password"), "1password");
    }

    #[test]
    fn requires_account() {
        let needs: Vec<&str> = Adapter::ALL.into_iter().filter(|a| a.requires_account()).map(Adapter::name).collect();
        assert_eq!(needs, ["bitwarden", "gcp_secret_manager", "last_pass", "one_password", "test"]);
    }

    #[test]
    fn run_inline_fetch_and_extract() {
        let argv = strings(&["fetch", "--adapter", "test", "--account", "x", "A1", "B2", "--inline"]);
        let out = run_inline(&argv, &BuiltinAdapters).unwrap();
        assert_eq!(out, r#"\{\"A1\":\"1A\",\"B2\":\"2B\"\}"#);
        // Thor's forms: -a v, --x=v, options after names, abbreviations, global options.
        let argv = strings(&["fet", "A1", "-a", "test", "--account=x", "-c", "config/deploy.yml", "-v", "--from", "f"]);
        assert_eq!(run_inline(&argv, &BuiltinAdapters).unwrap(), r#"{"f/A1":"1A/f"}"#);
        let json = r#"{"f/A1":"1A/f"}"#.to_string();
        let argv = vec!["extract".to_string(), "A1".to_string(), json, "--inline".to_string()];
        assert_eq!(run_inline(&argv, &BuiltinAdapters).unwrap(), "1A/f");
    }

    #[test]
    fn run_inline_errors() {
        let run = |words: &[&str]| run_inline(&strings(words), &BuiltinAdapters).unwrap_err();
        assert_eq!(run(&["fetch", "--adapter", "nope", "A"]), "Unknown secrets adapter: nope");
        assert_eq!(run(&["fetch", "--adapter", "test", "A"]), MISSING_ACCOUNT);
        assert_eq!(run(&["fetch", "A", "--inline"]), "No value provided for required options '--adapter'");
        assert_eq!(run(&["fetch", "A", "--adapter"]), "No value provided for option '--adapter'");
        assert_eq!(run(&["extract", "A", "{}", "--inline"]), "Could not find secret A");
        assert_eq!(run(&["extract", "A"]), "\"secrets extract\" was called with arguments [\"A\"]");
        assert_eq!(run(&["zap"]), "Could not find command \"zap\" in \"secrets\" namespace.");
        // An account with no value is Thor's `--account` -> "account".
        let out = run_inline(&strings(&["fetch", "-a", "test", "A", "--account"]), &BuiltinAdapters).unwrap();
        assert_eq!(out, r#"{"A":"A"}"#);
    }

    #[test]
    fn fetcher_closures_are_adapters() {
        let seen = std::sync::Mutex::new(Vec::new());
        let fetcher = |adapter: Adapter, names: &[String], account: Option<&str>, from: Option<&str>| {
            seen.lock().unwrap().push(format!("{adapter} {names:?} {account:?} {from:?}"));
            Ok::<SecretMap, String>(names.iter().map(|n| (n.clone(), "v".to_string())).collect())
        };
        let argv = strings(&["fetch", "-a", "1password", "--account", "acct", "--from", "V/I", "X"]);
        assert_eq!(run_inline(&argv, &fetcher).unwrap(), r#"{"X":"v"}"#);
        assert_eq!(seen.lock().unwrap().as_slice(), [r#"one_password ["X"] Some("acct") Some("V/I")"#]);
    }

    #[test]
    fn outcome_debug_redacts() {
        assert_eq!(format!("{:?}", FetchOutcome::Output("{\"A\":\"secret\"}".into())), "Output([REDACTED])");
    }

    #[test]
    fn a_custom_adapter_of_the_fetcher_answers_names_kamal_does_not_know() {
        struct Custom;
        impl AdapterFetcher for Custom {
            fn fetch(&self, a: Adapter, n: &[String], acc: Option<&str>, f: Option<&str>) -> Result<SecretMap, String> {
                BuiltinAdapters.fetch(a, n, acc, f)
            }
            fn has_custom(&self, name: &str) -> bool {
                name == "vault"
            }
            fn fetch_custom(
                &self,
                name: &str,
                n: &[String],
                _: Option<&str>,
                f: Option<&str>,
            ) -> Result<SecretMap, String> {
                Ok(n.iter().map(|k| (format!("{}/{k}", f.unwrap_or(name)), format!("v-{k}"))).collect())
            }
        }
        let args = |adapter: &str| FetchArgs {
            adapter: adapter.into(),
            account: Some("acct".into()),
            from: Some("kv".into()),
            names: vec!["A".into()],
            ..FetchArgs::default()
        };
        let FetchOutcome::Output(out) = fetch(&args("vault"), &Custom).unwrap() else { panic!() };
        assert_eq!(out, r#"{"kv/A":"v-A"}"#);
        // Kamal's names still go to Kamal's adapters; other names are unknown.
        let FetchOutcome::Output(out) = fetch(&args("test"), &Custom).unwrap() else { panic!() };
        assert_eq!(out, r#"{"kv/A":"A/vk"}"#);
        assert_eq!(fetch(&args("nope"), &Custom).unwrap_err().to_string(), "Unknown secrets adapter: nope");
    }
}
