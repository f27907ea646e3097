//! The Ruby string functions Kamal's adapters build their command lines and messages with.

/// Ruby's `String#shellescape` (`Shellwords.escape`): `''` for an empty string, else every
/// character outside `A-Za-z0-9_-.,:+/@` and newline backslash-escaped, and a newline as `'\n'`.
pub fn shellescape(s: &str) -> String {
    if s.is_empty() {
        return "''".to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '_' | '-' | '.' | ',' | ':' | '+' | '/' | '@' => out.push(c),
            '\n' => out.push_str("'\n'"),
            _ => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    out
}

/// Ruby's `String#dump` of an ASCII string: double-quoted, with `"`, `\`, control characters
/// and `#{`/`#$`/`#@` escaped.
pub fn dump_ascii(s: &str) -> String {
    let mut out = String::from("\"");
    escape_into(&mut out, s, true);
    out.push('"');
    out
}

/// Ruby's `String#inspect` of a UTF-8 string: like `dump`, but printable non-ASCII characters
/// are kept as they are.
pub fn inspect(s: &str) -> String {
    let mut out = String::from("\"");
    escape_into(&mut out, s, false);
    out.push('"');
    out
}

fn escape_into(out: &mut String, s: &str, dump: bool) {
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            '\u{8}' => out.push_str("\\b"),
            '\u{7}' => out.push_str("\\a"),
            '\u{1b}' => out.push_str("\\e"),
            '#' if matches!(chars.get(i + 1), Some('{') | Some('$') | Some('@')) => out.push_str("\\#"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                if dump {
                    out.push_str(&format!("\\x{:02X}", c as u32));
                } else {
                    out.push_str(&format!("\\u{:04X}", c as u32));
                }
            }
            c if dump && !c.is_ascii() => {
                let n = c as u32;
                if n > 0xffff {
                    out.push_str(&format!("\\u{{{n:X}}}"));
                } else {
                    out.push_str(&format!("\\u{n:04X}"));
                }
            }
            c => out.push(c),
        }
    }
}

/// Kamal's `Kamal::Utils.escape_shell_value`: ASCII runs `dump`ed (backquotes escaped, and `$`
/// unless it starts `${...}`), non-ASCII runs as they are.
pub fn escape_shell_value(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        let ascii = rest.chars().next().is_some_and(|c| c.is_ascii());
        let end = rest.find(|c: char| c.is_ascii() != ascii).unwrap_or(rest.len());
        let (part, tail) = rest.split_at(end);
        if ascii {
            let dumped = dump_ascii(part).replace('`', "\\`");
            out.push_str(&escape_dollars(&dumped));
        } else {
            out.push_str(part);
        }
        rest = tail;
    }
    out
}

/// `gsub(/\$(?!{[^\}]*\})/, '\$')`.
fn escape_dollars(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        if c == '$' {
            let after = &s[i + 1..];
            let braced = after.starts_with('{') && after[1..].contains('}');
            if !braced {
                out.push('\\');
            }
        }
        out.push(c);
    }
    out
}

/// Kamal's `Kamal::Utils.optionize(options)` joined with spaces, for the given `(key, value)`
/// pairs in order: `--key "value"`, or `--key` alone for `true` (`None` here).
pub fn optionize(options: &[(&str, Option<&str>)]) -> String {
    let mut words = vec![];
    for (k, v) in options {
        words.push(format!("--{k}"));
        if let Some(v) = v {
            words.push(escape_shell_value(v));
        }
    }
    words.join(" ")
}

/// The message of the `JSON::ParserError` Ruby's `JSON.parse` (json 2.10 and later, as in
/// Kamal 2.11) raises on `text`, given where serde_json stopped (1-based `line` and `column`):
/// `unexpected end of input at line 1 column 1`, `unexpected character: 'garbage' at line 1
/// column 1`, `unexpected token 'tru}' at line 1 column 9`.
pub fn json_parse_error(text: &str, line: usize, column: usize) -> String {
    let line_start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    let mut pos = (line_start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    // serde_json stops after the offending word: go back to its start.
    while pos > line_start && text[..pos].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
        pos -= 1;
    }
    if text[pos..].trim().is_empty() {
        let end = text.trim_end();
        let (l, c) = line_col(text, end.len());
        return format!("unexpected end of input at line {l} column {c}");
    }
    let rest = text[pos..].trim_start();
    pos = text.len() - rest.len();
    let word: String = rest.chars().take_while(|c| !c.is_whitespace()).take(32).collect();
    let (l, c) = line_col(text, pos);
    if word.starts_with(|c: char| c.is_ascii_digit() || matches!(c, 't' | 'f' | 'n' | 'N' | 'I' | '-')) {
        format!("unexpected token '{word}' at line {l} column {c}")
    } else {
        format!("unexpected character: '{word}' at line {l} column {c}")
    }
}

/// The 1-based line and column (in characters) of byte offset `pos`.
fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = &text[..pos];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shellescape_like_ruby() {
        assert_eq!(shellescape(""), "''");
        assert_eq!(shellescape("myitem"), "myitem");
        assert_eq!(shellescape("a b'c"), "a\\ b\\'c");
        assert_eq!(shellescape("x\ny"), "x'\n'y");
        assert_eq!(shellescape("é"), "\\é");
        assert_eq!(shellescape("op://v/i"), "op://v/i");
    }

    #[test]
    fn escape_shell_value_like_kamal() {
        assert_eq!(escape_shell_value("myaccount"), "\"myaccount\"");
        assert_eq!(escape_shell_value("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(escape_shell_value("a`b$c${D}"), "\"a\\`b\\$c${D}\"");
        assert_eq!(escape_shell_value("tok\n"), "\"tok\\n\"");
        assert_eq!(escape_shell_value("#{x}"), "\"\\#{x}\"");
        assert_eq!(escape_shell_value("aé b"), "\"a\"é\" b\"");
        assert_eq!(optionize(&[("account", Some("a")), ("force", None)]), "--account \"a\" --force");
    }

    #[test]
    fn json_errors_like_ruby() {
        let msg = |t: &str| {
            let e = serde_json::from_str::<serde_json::Value>(t).unwrap_err();
            json_parse_error(t, e.line(), e.column())
        };
        assert_eq!(msg(""), "unexpected end of input at line 1 column 1");
        assert_eq!(msg("garbage here\nline2\n"), "unexpected character: 'garbage' at line 1 column 1");
        assert_eq!(msg("  {\"a\": tru}"), "unexpected token 'tru}' at line 1 column 9");
    }

    #[test]
    fn inspect_like_ruby() {
        assert_eq!(inspect("SECRET1"), "\"SECRET1\"");
        assert_eq!(inspect("a\\ b"), "\"a\\\\ b\"");
        assert_eq!(inspect("é\u{1}"), "\"é\\u0001\"");
    }
}
