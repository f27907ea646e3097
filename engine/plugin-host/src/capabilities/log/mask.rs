//! Masking secret values in everything a plugin says.
//!
//! What masking is for: stopping *accidental* leaks, a plugin printing a token it was given, in
//! the forms it is commonly printed. It is not a barrier against a plugin that wants to leak a
//! secret it can read (it could print it one character per line, or encrypted); the barrier
//! against that is not giving the plugin the secret (see `Grant::secrets` in the engine) and
//! not granting it a way out (hosts, programs).
//!
//! Each secret is masked as written and in its common encodings: lower and upper case, base64
//! (standard and URL-safe, with or without padding, at each of the three alignments a value can
//! have inside a longer base64 text), hex (lower and upper), percent-encoding, and reversed.
//! Matching is one Aho-Corasick pass over the text, linear in the text whatever the number of
//! secrets.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// Replaces every known secret value (and its common encodings) with `[REDACTED]`. Cheap to
/// clone.
///
/// Values shorter than [`Masker::MIN_LEN`] are ignored: masking `1` or `a` everywhere would
/// make the output unreadable and hides nothing.
#[derive(Clone, Default)]
pub struct Masker {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The secret values as given.
    values: Vec<String>,
    matcher: Option<AhoCorasick>,
    /// The longest pattern, in bytes (how much of a text's end may hold the start of one).
    longest: usize,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masker").field("values", &self.inner.values.len()).finish()
    }
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
        let mut seen: HashSet<String> = self.inner.values.iter().cloned().collect();
        let mut values = self.inner.values.clone();
        let mut added = false;
        for s in secrets {
            let s = s.as_ref();
            if s.len() >= Self::MIN_LEN && seen.insert(s.to_string()) {
                values.push(s.to_string());
                added = true;
            }
        }
        if !added {
            return;
        }
        let mut forms: HashSet<String> = HashSet::new();
        for v in &values {
            for f in encodings(v) {
                if f.len() >= Self::MIN_LEN {
                    forms.insert(f);
                }
            }
        }
        let mut patterns: Vec<String> = forms.into_iter().collect();
        patterns.sort();
        let longest = patterns.iter().map(String::len).max().unwrap_or(0);
        // Leftmost-longest: a secret that contains another one is masked whole.
        let matcher = AhoCorasickBuilder::new().match_kind(MatchKind::LeftmostLongest).build(&patterns).ok();
        self.inner = Arc::new(Inner { values, matcher, longest });
    }

    pub fn is_empty(&self) -> bool {
        self.inner.values.is_empty()
    }

    /// How many secret values are masked.
    pub fn len(&self) -> usize {
        self.inner.values.len()
    }

    /// The longest form masked, in bytes.
    pub fn longest(&self) -> usize {
        self.inner.longest
    }

    /// `text` with every secret (in any of its forms) replaced by `[REDACTED]`.
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.spans(text).as_slice() {
            [] => Cow::Borrowed(text),
            spans => Cow::Owned(replace(text, spans)),
        }
    }

    /// Byte ranges of `text` holding a secret.
    pub fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        let Some(m) = &self.inner.matcher else { return vec![] };
        m.find_iter(text).map(|x| (x.start(), x.end())).collect()
    }
}

/// `text` with the given (sorted, disjoint) byte ranges replaced by the mask, widened to
/// character boundaries.
pub(crate) fn replace(text: &str, spans: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for &(mut a, mut b) in spans {
        while a > 0 && !text.is_char_boundary(a) {
            a -= 1;
        }
        while b < text.len() && !text.is_char_boundary(b) {
            b += 1;
        }
        if a < last {
            a = last;
        }
        if b <= a {
            continue;
        }
        out.push_str(&text[last..a]);
        out.push_str(Masker::MASK);
        last = b;
    }
    out.push_str(&text[last..]);
    out
}

/// Values shorter than this are masked only as written and in other case: the encodings of a
/// short value are short and common (the hex of `abc` is in many a commit hash).
const MIN_ENCODED_LEN: usize = 8;

/// The forms a value is commonly printed in.
fn encodings(v: &str) -> Vec<String> {
    let bytes = v.as_bytes();
    let mut out = vec![v.to_string(), v.to_lowercase(), v.to_uppercase()];
    if bytes.len() < MIN_ENCODED_LEN {
        return out;
    }
    out.push(v.chars().rev().collect());
    out.push(hex(bytes, false));
    out.push(hex(bytes, true));
    out.push(percent(bytes));
    // base64 of the value, at each alignment it can have inside a longer base64 text: the
    // characters that depend only on the value's own bytes
    for shift in 0..3usize {
        let mut padded = vec![0u8; shift];
        padded.extend_from_slice(bytes);
        for alphabet in [STANDARD, URL_SAFE] {
            let enc = base64(&padded, alphabet);
            // drop the characters that mix in the unknown bytes before and after
            let skip = match shift {
                0 => 0,
                1 => 2,
                _ => 3,
            };
            let stop = (padded.len() / 3) * 4;
            if stop > skip {
                out.push(enc[skip..stop].to_string());
            }
            if shift == 0 {
                // the whole encoding, with and without padding
                out.push(enc.clone());
                out.push(enc.trim_end_matches('=').to_string());
            }
        }
    }
    out
}

// The two base64 alphabets, padded.
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::engine::GeneralPurpose;

fn base64(data: &[u8], engine: GeneralPurpose) -> String {
    base64::Engine::encode(&engine, data)
}

fn hex(data: &[u8], upper: bool) -> String {
    let digits: &[u8; 16] = if upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
    let mut out = String::with_capacity(data.len() * 2);
    for b in data {
        out.push(digits[(b >> 4) as usize] as char);
        out.push(digits[(b & 15) as usize] as char);
    }
    out
}

fn percent(data: &[u8]) -> String {
    let mut out = String::new();
    for &b in data {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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

    #[test]
    fn masks_common_encodings() {
        let secret = "S3cr3t-Tok/en+99";
        let m = Masker::new([secret]);
        let b64 = base64(secret.as_bytes(), STANDARD);
        for leak in [
            secret.to_string(),
            secret.to_lowercase(),
            secret.to_uppercase(),
            secret.chars().rev().collect(),
            hex(secret.as_bytes(), false),
            hex(secret.as_bytes(), true),
            percent(secret.as_bytes()),
            b64.clone(),
            b64.trim_end_matches('=').to_string(),
            base64(secret.as_bytes(), URL_SAFE),
            // inside a longer base64 text, at each alignment
            base64(format!("user:{secret}").as_bytes(), STANDARD),
            base64(format!("x:{secret}:y").as_bytes(), STANDARD),
            base64(format!("ab:{secret}").as_bytes(), URL_SAFE),
        ] {
            let text = format!("before {leak} after");
            let masked = m.mask(&text);
            assert!(masked.contains(Masker::MASK), "{leak} was not masked: {masked}");
            assert!(!masked.contains(&leak), "{leak} survived: {masked}");
        }
    }

    #[test]
    fn many_values_mask_in_linear_time() {
        // 20,000 values: building and masking stay cheap (each value is seen once).
        let values: Vec<String> = (0..20_000).map(|i| format!("value-{i:08}")).collect();
        let m = Masker::new(&values);
        assert_eq!(m.len(), 20_000);
        let text = "a line with value-00019999 and value-00000001 in it".repeat(100);
        let masked = m.mask(&text);
        assert!(!masked.contains("value-000"), "{}", &masked[..200]);
    }
}
