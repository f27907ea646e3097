//! [`SecretMap`]: an insertion-ordered map of secret names to values, the shape of a Ruby `Hash`
//! as Kamal builds it (a key set again keeps its first position and takes the new value).
//!
//! Order matters: `kamal secrets print` and `fetch`'s JSON list entries in this order. `Debug`
//! shows the names only, never the values.

use std::fmt;

use indexmap::IndexMap;

/// Names to values, in insertion order, with values redacted from `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretMap {
    entries: IndexMap<String, String>,
}

impl SecretMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`, like `hash[name] = value`: a new name goes last, an existing one
    /// keeps its position.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.entries.insert(name.into(), value.into());
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries.get(name).map(String::as_str)
    }

    /// Whether `name` is set (to anything, even an empty string).
    pub fn contains_key(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// How many names are set.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no name is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// `(name, value)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Ruby's `merge!`: every entry of `other` is set in `self`, in `other`'s order.
    pub fn merge(&mut self, other: SecretMap) {
        for (k, v) in other.entries {
            self.entries.insert(k, v);
        }
    }

    /// The pairs, in order.
    pub fn into_vec(self) -> Vec<(String, String)> {
        self.entries.into_iter().collect()
    }
}

impl fmt::Debug for SecretMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.entries.keys().map(|k| (k, Redacted))).finish()
    }
}

/// Stands in for a value in `Debug` output.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for SecretMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = SecretMap::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl IntoIterator for SecretMap {
    type Item = (String, String);
    type IntoIter = indexmap::map::IntoIter<String, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_first_position_and_last_value() {
        let mut map: SecretMap = [("A", "1"), ("B", "2")].into_iter().collect();
        map.insert("A", "3");
        assert_eq!(map.into_vec(), vec![("A".into(), "3".into()), ("B".into(), "2".into())]);
    }

    #[test]
    fn merge_overrides_in_place_and_appends() {
        let mut a: SecretMap = [("X", "1"), ("Y", "2")].into_iter().collect();
        a.merge([("Z", "3"), ("X", "4")].into_iter().collect());
        assert_eq!(a.names().collect::<Vec<_>>(), ["X", "Y", "Z"]);
        assert_eq!(a.get("X"), Some("4"));
    }

    #[test]
    fn debug_redacts_values() {
        let map: SecretMap = [("TOKEN", "hunter2")].into_iter().collect();
        let debug = format!("{map:?}");
        assert_eq!(debug, r#"{"TOKEN": [REDACTED]}"#);
        assert!(!debug.contains("hunter2"));
    }
}
