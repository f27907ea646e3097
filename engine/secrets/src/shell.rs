//! Shell helpers with Ruby's exact semantics: `Shellwords.escape` (`String#shellescape`),
//! `Shellwords.split` (`String#shellsplit`), `String#chomp`, and running a command the way Ruby's
//! backticks do (`sh -c`, stdout captured, stdin and stderr left to the terminal).

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};

use thiserror::Error;

/// `Shellwords.escape`: `''` for an empty string; otherwise every character outside
/// `A-Za-z0-9_-.,:+/@` and newline gets a backslash, and a newline becomes `'\n'`.
pub fn shellescape(s: &str) -> String {
    if s.is_empty() {
        return "''".to_string();
    }
    let mut out = String::with_capacity(s.len() * 2);
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

/// Why [`shellsplit`] refused a line. `Display` is Ruby's message minus the line itself (which can
/// hold secret values): `Unmatched quote at 5` or `Nul character at 5` (a character offset).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ShellSplitError {
    /// A quote (or other character) that starts no complete word, at this character offset.
    #[error("Unmatched quote at {0}")]
    UnmatchedQuote(usize),
    /// A NUL character, at this character offset.
    #[error("Nul character at {0}")]
    NulCharacter(usize),
}

fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r')
}

/// `Shellwords.split` (Ruby 3.2+): words separated by whitespace; `'...'` literal; `"..."` with
/// `\$ \` \" \\ \<newline>` unescaped; a backslash outside quotes escapes the next character
/// (except a newline, kept as is, like Ruby's `/\\(.)/`).
pub fn shellsplit(line: &str) -> Result<Vec<String>, ShellSplitError> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let n = chars.len();
    let mut words = Vec::new();
    let mut field = String::new();
    let mut i = 0;
    loop {
        let begin = i;
        while i < n && is_ruby_space(chars[i].1) {
            i += 1;
        }
        if i >= n {
            break;
        }
        let c = chars[i].1;
        let bad = |c: char| {
            if c == '\0' {
                ShellSplitError::NulCharacter(begin)
            } else {
                ShellSplitError::UnmatchedQuote(begin)
            }
        };
        if c != '\0' && c != '\\' && c != '\'' && c != '"' {
            // ([^\0\s\\\'\"]+)
            while i < n && !matches!(chars[i].1, '\0' | '\\' | '\'' | '"') && !is_ruby_space(chars[i].1) {
                field.push(chars[i].1);
                i += 1;
            }
        } else if c == '\'' {
            // '([^\0\']*)'
            let mut j = i + 1;
            while j < n && chars[j].1 != '\'' && chars[j].1 != '\0' {
                j += 1;
            }
            if j >= n || chars[j].1 != '\'' {
                return Err(bad(c));
            }
            field.extend(chars[i + 1..j].iter().map(|&(_, c)| c));
            i = j + 1;
        } else if c == '"' {
            // "((?:[^\0\"\\]|\\[^\0])*)"
            let mut j = i + 1;
            let mut closed = false;
            while j < n {
                match chars[j].1 {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\0' => break,
                    '\\' => {
                        if j + 1 < n && chars[j + 1].1 != '\0' {
                            j += 2;
                        } else {
                            break;
                        }
                    }
                    _ => j += 1,
                }
            }
            if !closed {
                return Err(bad(c));
            }
            // dq.gsub(/\\([$`"\\\n])/, '\\1')
            let inner = &chars[i + 1..j];
            let mut k = 0;
            while k < inner.len() {
                let ch = inner[k].1;
                if ch == '\\' && k + 1 < inner.len() && matches!(inner[k + 1].1, '$' | '`' | '"' | '\\' | '\n') {
                    field.push(inner[k + 1].1);
                    k += 2;
                } else {
                    field.push(ch);
                    k += 1;
                }
            }
            i = j + 1;
        } else if c == '\\' {
            // (\\[^\0]?) then esc.gsub(/\\(.)/, '\\1')
            if i + 1 < n && chars[i + 1].1 != '\0' {
                let next = chars[i + 1].1;
                if next != '\n' {
                    field.push(next);
                } else {
                    field.push_str("\\\n");
                }
                i += 2;
            } else {
                field.push('\\');
                i += 1;
            }
        } else {
            return Err(bad(c));
        }
        // (\s|\z)?
        if i >= n {
            words.push(std::mem::take(&mut field));
            break;
        }
        if is_ruby_space(chars[i].1) {
            words.push(std::mem::take(&mut field));
            i += 1;
        }
    }
    Ok(words)
}

/// Ruby's `String#chomp`: removes one trailing `\r\n`, `\n` or `\r`.
pub fn chomp(s: &str) -> &str {
    if let Some(t) = s.strip_suffix("\r\n") {
        t
    } else if let Some(t) = s.strip_suffix('\n') {
        t
    } else if let Some(t) = s.strip_suffix('\r') {
        t
    } else {
        s
    }
}

/// Why a shell command failed. Messages never include the command's output.
#[derive(Debug, Error)]
pub enum ShellError {
    /// `sh` could not be started.
    #[error("could not be started: {0}")]
    Spawn(#[source] std::io::Error),
    /// The command exited unsuccessfully: `exit status 1` or `killed by signal 9`.
    #[error("failed: {0}")]
    Status(String),
    /// The command printed bytes that are not UTF-8.
    #[error("printed output that is not valid UTF-8")]
    NotUtf8,
}

/// Runs `command` with `sh -c`, as Ruby's backticks do: stdin and stderr are inherited, stdout is
/// captured and returned whole (not chomped). `dir` is the working directory (the current one when
/// `None`); `env` is set on top of the inherited environment. A non-zero exit is an error (Ruby's
/// backticks ignore it; Wharf does not).
pub fn run_shell(command: &str, dir: Option<&Path>, env: &HashMap<String, String>) -> Result<String, ShellError> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(command).stdin(Stdio::inherit()).stderr(Stdio::inherit()).stdout(Stdio::piped());
    cmd.envs(env);
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let output = cmd.output().map_err(ShellError::Spawn)?;
    if !output.status.success() {
        return Err(ShellError::Status(describe_status(&output.status)));
    }
    String::from_utf8(output.stdout).map_err(|_| ShellError::NotUtf8)
}

fn describe_status(status: &std::process::ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    status.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        shellsplit(s).unwrap()
    }

    #[test]
    fn escape_like_ruby() {
        assert_eq!(shellescape(""), "''");
        assert_eq!(shellescape("abc-_.,:+/@123"), "abc-_.,:+/@123");
        assert_eq!(shellescape(r#"{"A":"B C"}"#), r#"\{\"A\":\"B\ C\"\}"#);
        assert_eq!(shellescape("a\nb"), "a'\n'b");
        assert_eq!(shellescape("中$"), "\\中\\$");
    }

    #[test]
    fn split_like_ruby() {
        assert_eq!(split("  a  b c "), ["a", "b", "c"]);
        assert_eq!(split(r#"a'b c'"d e" f"#), ["ab cd e", "f"]);
        assert_eq!(split(r#""a\"b\$c\x""#), [r#"a"b$c\x"#]);
        assert_eq!(split(r#"\{\"K\":\"pass\)word\"\}"#), [r#"{"K":"pass)word"}"#]);
        assert_eq!(split("''"), [""]);
        assert_eq!(split("a\\"), ["a\\"]);
        assert_eq!(split("\\中\\文"), ["中文"]);
        assert!(split("").is_empty());
    }

    #[test]
    fn split_roundtrips_escape() {
        for s in ["", "plain", "with space", "q'uo\"te", "new\nline", "$(x) `y` \\z", "中文 ✓"] {
            assert_eq!(split(&shellescape(s)), [s], "{s:?}");
        }
    }

    #[test]
    fn split_errors_carry_offsets_not_text() {
        assert_eq!(shellsplit("a 'secret"), Err(ShellSplitError::UnmatchedQuote(2)));
        assert_eq!(shellsplit("ab\"x").unwrap_err().to_string(), "Unmatched quote at 2");
        assert_eq!(shellsplit("a\0"), Err(ShellSplitError::NulCharacter(1)));
    }

    #[test]
    fn chomp_removes_one_line_ending() {
        assert_eq!(chomp("a\n\n"), "a\n");
        assert_eq!(chomp("a\r\n"), "a");
        assert_eq!(chomp("a\r"), "a");
        assert_eq!(chomp("a"), "a");
    }

    #[test]
    fn run_shell_captures_stdout_and_fails_on_status() {
        let env = HashMap::from([("WHARF_T".to_string(), "v".to_string())]);
        assert_eq!(run_shell("echo \"x $WHARF_T\"", None, &env).unwrap(), "x v\n");
        let err = run_shell("exit 3", None, &env).unwrap_err();
        assert_eq!(err.to_string(), "failed: exit status 3");
    }
}
