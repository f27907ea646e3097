//! Masking secret values in anything the crate logs or puts in an error.

use std::borrow::Cow;
use std::sync::Arc;

/// Masks secret values. Commands are echoed, and appear in errors, only after going through
/// the pool's `Redactor`; streamed output lines too. Captured [`Output`](crate::Output) is raw.
///
/// Besides the literal value, the shell-quoted forms a command builder may produce are masked:
/// `'...'` with `'\''` escapes and backslash-escaped (Ruby `Shellwords.escape`) form.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    patterns: Arc<Vec<String>>,
}

impl Redactor {
    pub const MASK: &'static str = "[REDACTED]";

    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut r = Redactor::default();
        r.extend(secrets);
        r
    }

    /// Adds more secrets.
    pub fn extend<I, S>(&mut self, secrets: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut patterns: Vec<String> = self.patterns.as_ref().clone();
        for s in secrets {
            let s = s.as_ref();
            if s.is_empty() {
                continue;
            }
            for form in [s.to_string(), s.replace('\'', r"'\''"), shellwords_escape(s)] {
                if !form.is_empty() && !patterns.contains(&form) {
                    patterns.push(form);
                }
            }
        }
        // Longest first, so a secret containing another one is masked whole.
        patterns.sort_by_key(|p| std::cmp::Reverse(p.len()));
        self.patterns = Arc::new(patterns);
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// `text` with every secret replaced by `[REDACTED]`.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for p in self.patterns.iter() {
            if out.contains(p.as_str()) {
                out = Cow::Owned(out.replace(p.as_str(), Self::MASK));
            }
        }
        out
    }
}

/// Ruby's `Shellwords.escape` (what Kamal uses to build commands).
fn shellwords_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\n' {
            out.push_str("'\n'");
        } else if c.is_ascii_alphanumeric() || "_-.,:+/@".contains(c) || !c.is_ascii() {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_plain_and_quoted_forms() {
        let r = Redactor::new(["s3cr3t", "it's", ""]);
        assert_eq!(r.redact("echo s3cr3t"), "echo [REDACTED]");
        assert_eq!(r.redact(r"echo 'it'\''s'"), "echo '[REDACTED]'");
        assert_eq!(r.redact(r"echo it\'s"), "echo [REDACTED]");
        assert_eq!(r.redact("nothing here"), "nothing here");
        assert!(Redactor::default().is_empty());
    }
}
