//! How `/bin/sh` splits the command lines Kamal's adapters run with backticks.
//!
//! Enough of POSIX shell for those lines: blanks separate words; `'...'` is literal; in
//! `"..."` a backslash escapes only `$`, `` ` ``, `"`, `\` and newline; outside quotes a
//! backslash escapes any character; leading `NAME=value` words are assignments (the program's
//! environment); `N> target` / `N>target` redirections are dropped. Parameter expansion is not
//! done (`$` stays literal): Kamal's escaping never leaves an unescaped `$` except in
//! `${...}`, which a vault name or account does not contain in practice.

/// A command line split into its assignments and its words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Line {
    pub env: Vec<(String, String)>,
    pub words: Vec<String>,
    /// Whether stderr was redirected (`2> /dev/null`).
    pub stderr_redirected: bool,
}

/// Splits `command` as `sh` does (see the module docs).
pub fn parse(command: &str) -> Line {
    let mut line = Line::default();
    let chars: Vec<char> = command.chars().collect();
    let mut i = 0;
    // The word being read: its text, whether any of it was quoted or escaped, and the length
    // of its leading unquoted part (for `NAME=` assignments and `2>` redirections).
    let mut word: Option<String> = None;
    let mut quoted = false;
    let mut unquoted_len = 0usize;
    let mut skip_next_word = false;

    let finish =
        |line: &mut Line, word: &mut Option<String>, quoted: &mut bool, unquoted_len: &mut usize, skip: &mut bool| {
            if let Some(w) = word.take() {
                if *skip {
                    *skip = false;
                } else if line.words.is_empty() && is_assignment(&w, *unquoted_len) {
                    let (k, v) = w.split_once('=').expect("assignment");
                    line.env.push((k.to_string(), v.to_string()));
                } else {
                    line.words.push(w);
                }
            }
            *quoted = false;
            *unquoted_len = 0;
        };

    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' => {
                finish(&mut line, &mut word, &mut quoted, &mut unquoted_len, &mut skip_next_word);
                i += 1;
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                quoted = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    w.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                quoted = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() && matches!(chars[i + 1], '$' | '`' | '"' | '\\' | '\n')
                    {
                        if chars[i + 1] != '\n' {
                            w.push(chars[i + 1]);
                        }
                        i += 2;
                    } else {
                        w.push(chars[i]);
                        i += 1;
                    }
                }
                i += 1;
            }
            '\\' => {
                if i + 1 < chars.len() {
                    if chars[i + 1] != '\n' {
                        word.get_or_insert_with(String::new).push(chars[i + 1]);
                        quoted = true;
                    }
                    i += 2;
                } else {
                    word.get_or_insert_with(String::new).push('\\');
                    i += 1;
                }
            }
            '>' | '<' => {
                // A redirection: an all-digit unquoted word before it is the descriptor.
                let fd =
                    word.as_deref().is_some_and(|w| !quoted && !w.is_empty() && w.chars().all(|c| c.is_ascii_digit()));
                if fd {
                    if word.as_deref() == Some("2") {
                        line.stderr_redirected = true;
                    }
                    word = None;
                    quoted = false;
                    unquoted_len = 0;
                } else {
                    finish(&mut line, &mut word, &mut quoted, &mut unquoted_len, &mut skip_next_word);
                }
                i += 1;
                while i < chars.len() && matches!(chars[i], '>' | '&' | '|') {
                    i += 1;
                }
                skip_next_word = true;
                // `2>&1`-style targets and `2>/dev/null` are read as the next word.
            }
            c => {
                let w = word.get_or_insert_with(String::new);
                w.push(c);
                if !quoted {
                    unquoted_len = w.len();
                }
                i += 1;
            }
        }
    }
    finish(&mut line, &mut word, &mut quoted, &mut unquoted_len, &mut skip_next_word);
    line
}

/// Whether `word` is `NAME=value` with `NAME=` unquoted and a valid name.
fn is_assignment(word: &str, unquoted_len: usize) -> bool {
    let Some(eq) = word.find('=') else { return false };
    eq < unquoted_len
        && eq > 0
        && !word.starts_with(|c: char| c.is_ascii_digit())
        && word[..eq].chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        parse(s).words
    }

    #[test]
    fn splits_like_sh() {
        assert_eq!(words("op --version 2> /dev/null"), ["op", "--version"]);
        assert!(parse("op --version 2> /dev/null").stderr_redirected);
        assert!(!parse("op --version").stderr_redirected);
        assert_eq!(words("op --version 2>/dev/null"), ["op", "--version"]);
        assert_eq!(
            words(r#"op item get my\ item --vault "my\"vault" --fields "label=a.b,label=c""#),
            ["op", "item", "get", "my item", "--vault", "my\"vault", "--fields", "label=a.b,label=c"]
        );
        assert_eq!(words("doppler secrets get A B --json "), ["doppler", "secrets", "get", "A", "B", "--json"]);
        assert_eq!(words("x ''"), ["x", ""]);
        assert_eq!(words("x 'a'\\''b'"), ["x", "a'b"]);
        assert_eq!(words("x a'\n'b"), ["x", "a\nb"]);
        assert_eq!(words(r#"x "\n\$\`\#""#), ["x", "\\n$`\\#"]);
        assert_eq!(
            words(r#"passbolt list resources --filter 'Name == "S1" || Name == "S2"'  --json"#),
            ["passbolt", "list", "resources", "--filter", "Name == \"S1\" || Name == \"S2\"", "--json"]
        );
    }

    #[test]
    fn assignments() {
        let l = parse("BW_SESSION=abc\\ d bw status");
        assert_eq!(l.env, [("BW_SESSION".to_string(), "abc d".to_string())]);
        assert_eq!(l.words, ["bw", "status"]);
        let l = parse("bw X=1");
        assert!(l.env.is_empty());
        assert_eq!(l.words, ["bw", "X=1"]);
        let l = parse("'A=1' bw");
        assert_eq!(l.words, ["A=1", "bw"]);
    }
}
