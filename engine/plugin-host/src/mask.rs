//! Masking secret values in everything a plugin says.

use std::borrow::Cow;
use std::sync::Arc;

/// Replaces every known secret value with `[REDACTED]`. Cheap to clone.
///
/// Used on log messages, captured stdout/stderr lines, and error texts coming from the guest.
/// Values shorter than [`Masker::MIN_LEN`] are ignored: masking `1` or `a` everywhere would
/// make the output unreadable and hides nothing.
#[derive(Clone, Debug, Default)]
pub struct Masker {
    values: Arc<Vec<String>>,
}

impl Masker {
    /// What a secret is replaced with (the same mask as the SSH layer's redactor).
    pub const MASK: &'static str = "[REDACTED]";
    /// Shorter values are not masked.
    pub const MIN_LEN: usize = 3;

    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut m = Masker::default();
        m.extend(secrets);
        m
    }

    /// Adds more secret values.
    pub fn extend<I, S>(&mut self, secrets: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut values = self.values.as_ref().clone();
        for s in secrets {
            let s = s.as_ref();
            if s.len() >= Self::MIN_LEN && !values.iter().any(|v| v == s) {
                values.push(s.to_string());
            }
        }
        // Longest first, so a secret that contains another one is masked whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        self.values = Arc::new(values);
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every secret replaced by `[REDACTED]`.
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for v in self.values.iter() {
            if out.contains(v.as_str()) {
                out = Cow::Owned(out.replace(v.as_str(), Self::MASK));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_longest_first_and_ignores_short_values() {
        let m = Masker::new(["hunter2", "hunter2-extended", "x", ""]);
        assert_eq!(m.mask("pw=hunter2-extended and hunter2 and x"), "pw=[REDACTED] and [REDACTED] and x");
        assert!(matches!(m.mask("nothing here"), Cow::Borrowed(_)));
    }
}
