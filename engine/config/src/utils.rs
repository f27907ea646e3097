//! Kamal::Utils: how Kamal turns config values into docker arguments (`argumentize`,
//! `optionize`), its shell escaping (`escape_shell_value`, built on Ruby's `String#dump`), and the
//! escaping of `Kamal::EnvFile` lines.

use crate::ruby::{present, to_s};
use serde_yaml::Value;

/// Ruby's `String#dump` of an ASCII string, without the surrounding quotes.
fn dump_inner(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::new();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x0c => out.push_str("\\f"),
            0x0b => out.push_str("\\v"),
            0x08 => out.push_str("\\b"),
            0x07 => out.push_str("\\a"),
            0x1b => out.push_str("\\e"),
            b'#' => {
                // `#{`, `#$` and `#@` would interpolate in a Ruby literal, so dump escapes the `#`
                match bytes.get(i + 1) {
                    Some(b'{') | Some(b'$') | Some(b'@') => out.push_str("\\#"),
                    _ => out.push('#'),
                }
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{:02X}", b)),
        }
    }
    out
}

/// Splits into maximal runs of ASCII and non-ASCII characters
/// (`scan(/[\x00-\x7F]+|[^\x00-\x7F]+/)`).
fn ascii_runs(s: &str) -> Vec<(bool, &str)> {
    let mut runs = vec![];
    let mut start = 0;
    let mut cur: Option<bool> = None;
    for (i, c) in s.char_indices() {
        let a = c.is_ascii();
        if let Some(prev) = cur.filter(|prev| *prev != a) {
            runs.push((prev, &s[start..i]));
            start = i;
        }
        cur = Some(a);
    }
    if let Some(a) = cur {
        runs.push((a, &s[start..]));
    }
    runs
}

/// `Kamal::Utils.escape_shell_value`: each ASCII run is `dump`ed (double-quoted, escaped), with
/// backticks escaped and `$` escaped unless it starts a `${...}` expansion; non-ASCII runs are
/// kept as they are.
pub fn escape_shell_value(value: &str) -> String {
    ascii_runs(value)
        .into_iter()
        .map(|(ascii, part)| if ascii { escape_ascii_shell_value(part) } else { part.to_string() })
        .collect()
}

fn escape_ascii_shell_value(value: &str) -> String {
    let dumped = format!("\"{}\"", dump_inner(value));
    let dumped = dumped.replace('`', "\\`");
    // DOLLAR_SIGN_WITHOUT_SHELL_EXPANSION_REGEX = /\$(?!{[^\}]*\})/
    let chars: Vec<char> = dumped.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '$' {
            let expansion = chars.get(i + 1) == Some(&'{') && chars[i + 2..].iter().position(|&c| c == '}').is_some();
            if !expansion {
                out.push('\\');
            }
        }
        out.push(c);
    }
    out
}

/// `escape_shell_value` of a YAML value (`to_s` first).
pub fn escape_value(value: &Value) -> String {
    escape_shell_value(&to_s(value))
}

/// `argumentize(argument, array)`: each element as `[argument, element]`, unescaped.
pub fn argumentize_list<S: AsRef<str>>(argument: &str, items: &[S]) -> Vec<String> {
    items.iter().flat_map(|i| [argument.to_string(), i.as_ref().to_string()]).collect()
}

/// `argumentize(argument, hash)`: `[argument, "key=<escaped value>"]` for present values,
/// `key=false` for false, and the bare key for nil or blank values.
pub fn argumentize_pairs<'a, I>(argument: &str, pairs: I) -> Vec<String>
where
    I: IntoIterator<Item = (String, &'a Value)>,
{
    let mut out = vec![];
    for (key, value) in pairs {
        out.push(argument.to_string());
        if present(value) {
            out.push(format!("{key}={}", escape_value(value)));
        } else if matches!(value, Value::Bool(false)) {
            out.push(format!("{key}=false"));
        } else {
            out.push(key);
        }
    }
    out
}

/// `argumentize(argument, hash)` for a YAML mapping (keys `to_s`).
pub fn argumentize_mapping(argument: &str, map: &serde_yaml::Mapping) -> Vec<String> {
    argumentize_pairs(argument, map.iter().map(|(k, v)| (to_s(k), v)))
}

/// `optionize(args, with:)`: `--key value` (or `--key=value` with `with = Some("=")`), values
/// escaped; `true` gives a bare `--key`; arrays repeat the option once per element.
pub fn optionize<'a, I>(args: I, with: Option<&str>) -> Vec<String>
where
    I: IntoIterator<Item = (String, &'a Value)>,
{
    let mut out = vec![];
    for (key, value) in args {
        let entries: Vec<&Value> = match value {
            Value::Sequence(items) => items.iter().collect(),
            other => vec![other],
        };
        for v in entries {
            let is_true = matches!(v, Value::Bool(true));
            match with {
                Some(sep) => {
                    if is_true {
                        out.push(format!("--{key}"));
                    } else {
                        out.push(format!("--{key}{sep}{}", escape_value(v)));
                    }
                }
                None => {
                    out.push(format!("--{key}"));
                    if !is_true {
                        out.push(escape_value(v));
                    }
                }
            }
        }
    }
    out
}

/// `optionize` of a YAML mapping (keys `to_s`), without `with`.
pub fn optionize_mapping(map: &serde_yaml::Mapping) -> Vec<String> {
    optionize(map.iter().map(|(k, v)| (to_s(k), v)), None)
}

/// `Kamal::EnvFile`'s escaping of a value: `dump` without the quotes and with `\"` and `\#`
/// unescaped; non-ASCII runs kept.
pub fn escape_docker_env_file_value(value: &str) -> String {
    ascii_runs(value)
        .into_iter()
        .map(
            |(ascii, part)| {
                if ascii {
                    dump_inner(part).replace("\\\"", "\"").replace("\\#", "#")
                } else {
                    part.to_string()
                }
            },
        )
        .collect()
}

/// `Kamal::EnvFile#to_s`: `KEY=value\n` lines, or `"\n"` when there are none.
pub fn env_file<K: AsRef<str>, V: AsRef<str>>(env: &[(K, V)]) -> String {
    let mut out = String::new();
    for (k, v) in env {
        out.push_str(k.as_ref());
        out.push('=');
        out.push_str(&escape_docker_env_file_value(v.as_ref()));
        out.push('\n');
    }
    if out.is_empty() {
        "\n".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_kamal() {
        assert_eq!(escape_shell_value("redis://x/y"), "\"redis://x/y\"");
        assert_eq!(escape_shell_value("a\"b"), "\"a\\\"b\"");
        assert_eq!(escape_shell_value("$HOME"), "\"\\$HOME\"");
        assert_eq!(escape_shell_value("${HOME}"), "\"${HOME}\"");
        assert_eq!(escape_shell_value("`x`"), "\"\\`x\\`\"");
        assert_eq!(escape_shell_value("#{x}"), "\"\\#{x}\"");
        assert_eq!(escape_shell_value("héllo"), "\"h\"é\"llo\"");
    }

    #[test]
    fn env_file_lines() {
        assert_eq!(env_file(&[("A", "secret&\"123")]), "A=secret&\"123\n");
        assert_eq!(env_file(&[("A", "a\nb")]), "A=a\\nb\n");
        assert_eq!(env_file::<&str, &str>(&[]), "\n");
    }
}
