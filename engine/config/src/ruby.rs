//! Ruby semantics over [`serde_yaml::Value`], as Kamal's code relies on them: `to_s`, `present?` /
//! `blank?`, hash lookups by string key, ActiveSupport's `deep_merge`, `Float#to_s`,
//! `Gem::Version` comparison and `Pathname#absolute?`.

use serde_yaml::{Mapping, Value};
use std::cmp::Ordering;

/// Ruby's `String#blank?`: empty or whitespace only.
pub fn blank_str(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

/// ActiveSupport's `present?` for a YAML value: not nil, not false, not a blank string, not an
/// empty array or hash.
pub fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !blank_str(s),
        Value::Sequence(s) => !s.is_empty(),
        Value::Mapping(m) => !m.is_empty(),
        Value::Number(_) => true,
        Value::Tagged(t) => present(&t.value),
    }
}

/// `present?` for an optional value (absent is blank).
pub fn present_opt(v: Option<&Value>) -> bool {
    v.map(present).unwrap_or(false)
}

/// Ruby truthiness: everything but nil and false.
pub fn truthy(v: Option<&Value>) -> bool {
    !matches!(v, None | Some(Value::Null) | Some(Value::Bool(false)))
}

/// Ruby's `to_s` of a loaded YAML value (nil is `""`, floats as Ruby prints them).
pub fn to_s(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else if let Some(u) = n.as_u64() {
                u.to_string()
            } else {
                float_to_s(n.as_f64().unwrap_or(0.0))
            }
        }
        Value::String(s) => s.clone(),
        Value::Sequence(items) => {
            // Array#to_s is inspect
            let parts: Vec<String> = items.iter().map(inspect).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Mapping(_) => inspect(v),
        Value::Tagged(t) => to_s(&t.value),
    }
}

/// Ruby's `inspect` (approximately) for messages that interpolate arrays or hashes.
pub fn inspect(v: &Value) -> String {
    match v {
        Value::Null => "nil".into(),
        Value::String(s) => format!("{s:?}"),
        Value::Sequence(items) => {
            let parts: Vec<String> = items.iter().map(inspect).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Mapping(m) => {
            let parts: Vec<String> = m.iter().map(|(k, v)| format!("{} => {}", inspect(k), inspect(v))).collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => to_s(other),
    }
}

/// Ruby's `Float#to_s`: shortest round-trip digits, `1.0`, `1.0e+16`, `1.0e-05`, `Infinity`, `NaN`.
pub fn float_to_s(f: f64) -> String {
    wharf_erb::float_to_s(f)
}

/// Looks up a string key in a mapping value (`hash["key"]`); `None` when `v` is not a hash or
/// has no such key.
pub fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Mapping(m) => m.get(key),
        _ => None,
    }
}

/// `hash["key"]` that treats a present nil like an absent key.
pub fn get_some<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    get(v, key).filter(|v| !v.is_null())
}

/// `hash.dig("a", "b")`.
pub fn dig<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for key in path {
        cur = get(cur, key)?;
    }
    Some(cur)
}

/// `hash.dig(...)` as a string (`to_s`), treating nil as absent.
pub fn dig_str(v: &Value, path: &[&str]) -> Option<String> {
    dig(v, path).filter(|v| !v.is_null()).map(to_s)
}

/// `hash.key?("key")`.
pub fn has_key(v: &Value, key: &str) -> bool {
    get(v, key).is_some()
}

/// The mapping inside a value, or an empty one.
pub fn mapping(v: &Value) -> Mapping {
    match v {
        Value::Mapping(m) => m.clone(),
        _ => Mapping::new(),
    }
}

/// ActiveSupport's `Hash#deep_merge`: hashes merge recursively, any other value of `other`
/// replaces the one in `base`. Non-hash `base` is replaced by `other`.
pub fn deep_merge(base: &Value, other: &Value) -> Value {
    match (base, other) {
        (Value::Mapping(a), Value::Mapping(b)) => {
            let mut out = a.clone();
            for (k, v) in b {
                let merged = match (out.get(k), v) {
                    (Some(existing @ Value::Mapping(_)), Value::Mapping(_)) => deep_merge(existing, v),
                    _ => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Mapping(out)
        }
        _ => other.clone(),
    }
}

/// An array of strings from a value: an array's elements (`to_s`), a scalar as one element, nil
/// as none (Ruby's `Array(x)` followed by `to_s`).
pub fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        None | Some(Value::Null) => vec![],
        Some(Value::Sequence(items)) => items.iter().map(to_s).collect(),
        Some(other) => vec![to_s(other)],
    }
}

/// `Pathname.new(path).absolute?`.
pub fn absolute_path(path: &str) -> bool {
    path.starts_with('/')
}

/// `File.join(a, b, ...)`: joins with single slashes.
pub fn file_join(parts: &[&str]) -> String {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            out.push_str(part);
            continue;
        }
        let ends = out.ends_with('/');
        let starts = part.starts_with('/');
        match (ends, starts) {
            (true, true) => out.push_str(&part[1..]),
            (false, false) => {
                out.push('/');
                out.push_str(part)
            }
            _ => out.push_str(part),
        }
    }
    out
}

/// A `Gem::Version`: compares like RubyGems (numeric segments, string segments are pre-releases,
/// trailing zeros ignored).
#[derive(Debug, Clone)]
pub struct GemVersion {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Num(u64),
    Str(String),
}

impl GemVersion {
    /// Parses a version string; `Err` carries RubyGems' message
    /// (`Malformed version number string X`).
    pub fn parse(s: &str) -> Result<GemVersion, String> {
        let t = s.trim();
        let valid = !t.is_empty()
            && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            && t.chars().next().map(|c| c.is_ascii_digit()).unwrap_or(false);
        if !valid {
            return Err(format!("Malformed version number string {s}"));
        }
        let t = t.replace('-', ".pre.");
        let mut segments = vec![];
        for part in t.split('.') {
            let mut cur = String::new();
            let mut cur_digit: Option<bool> = None;
            for c in part.chars() {
                let d = c.is_ascii_digit();
                if cur_digit.is_some() && cur_digit != Some(d) {
                    segments.push(Self::seg(&cur));
                    cur.clear();
                }
                cur_digit = Some(d);
                cur.push(c);
            }
            if !cur.is_empty() {
                segments.push(Self::seg(&cur));
            }
        }
        Ok(GemVersion { segments })
    }

    fn seg(s: &str) -> Segment {
        match s.parse::<u64>() {
            Ok(n) => Segment::Num(n),
            Err(_) => Segment::Str(s.to_string()),
        }
    }

    fn canonical(&self) -> Vec<Segment> {
        // RubyGems drops trailing zeros before the first string segment and at the end.
        let mut segs = self.segments.clone();
        while matches!(segs.last(), Some(Segment::Num(0))) && segs.len() > 1 {
            segs.pop();
        }
        segs
    }
}

impl PartialEq for GemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GemVersion {}

impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let a = self.canonical();
        let b = other.canonical();
        let n = a.len().max(b.len());
        for i in 0..n {
            let x = a.get(i).cloned().unwrap_or(Segment::Num(0));
            let y = b.get(i).cloned().unwrap_or(Segment::Num(0));
            let ord = match (&x, &y) {
                (Segment::Num(p), Segment::Num(q)) => p.cmp(q),
                (Segment::Str(p), Segment::Str(q)) => p.cmp(q),
                (Segment::Num(_), Segment::Str(_)) => Ordering::Greater,
                (Segment::Str(_), Segment::Num(_)) => Ordering::Less,
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_ruby() {
        assert_eq!(float_to_s(0.5), "0.5");
        assert_eq!(float_to_s(1.0), "1.0");
        assert_eq!(float_to_s(100.0), "100.0");
        assert_eq!(float_to_s(1e16), "1.0e+16");
        assert_eq!(float_to_s(1e15), "1000000000000000.0");
        assert_eq!(float_to_s(0.0001), "0.0001");
        assert_eq!(float_to_s(0.00001), "1.0e-05");
        assert_eq!(float_to_s(-2.5), "-2.5");
    }

    #[test]
    fn gem_versions_compare() {
        let v = |s| GemVersion::parse(s).unwrap();
        assert!(v("2.12.0") == v("2.12"));
        assert!(v("10000.0.0") > v("2.12.0"));
        assert!(v("2.12.0.beta1") < v("2.12.0"));
        assert!(v("2.3") < v("2.12.0"));
        assert!(GemVersion::parse("abc").is_err());
    }

    #[test]
    fn joins_paths() {
        assert_eq!(file_join(&[".kamal", "apps"]), ".kamal/apps");
        assert_eq!(file_join(&["a/", "/b"]), "a/b");
    }
}
