//! `Kamal::Tags`: the details of an action (when, who, destination, version, service, plus
//! extra details such as the role or the hook's hosts), printed in audit lines as
//! `[value] [value] ...` and given to hooks as `KAMAL_*` variables.
//!
//! The clock and the performer are inputs ([`Stamp`]) so that the output is deterministic: Kamal
//! takes them from `Time.now.utc.iso8601` and from `git config user.email` (or `whoami`).

use wharf_config::Configuration;

/// When and by whom: `recorded_at` (ISO 8601, UTC, seconds: `2024-05-01T12:00:00Z`) and the
/// `performer` (the git user's email, else the login name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// `Time.now.utc.iso8601`.
    pub recorded_at: String,
    /// `Kamal::Git.email.presence || whoami`.
    pub performer: String,
}

impl Stamp {
    /// A stamp.
    pub fn new(recorded_at: impl Into<String>, performer: impl Into<String>) -> Stamp {
        Stamp { recorded_at: recorded_at.into(), performer: performer.into() }
    }

    /// A stamp at `unix_seconds` (see [`iso8601`]).
    pub fn at(unix_seconds: i64, performer: impl Into<String>) -> Stamp {
        Stamp::new(iso8601(unix_seconds), performer)
    }
}

/// Ruby's `Time#utc.iso8601` of a Unix time: `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso8601(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let secs = unix_seconds.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Extra details (Ruby keyword arguments, in order; `None` is Ruby's `nil`, which removes a tag).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details(Vec<(String, Option<String>)>);

impl Details {
    /// No details.
    pub fn new() -> Details {
        Details::default()
    }

    /// Adds (or replaces, keeping its place) a detail.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Details {
        self.set(key.into(), Some(value.into()));
        self
    }

    /// Adds (or replaces) a detail that may be `nil`.
    pub fn with_opt(mut self, key: impl Into<String>, value: Option<impl Into<String>>) -> Details {
        self.set(key.into(), value.map(Into::into));
        self
    }

    /// Ruby's `Hash#merge`: `other`'s values win, new keys go to the end.
    pub fn merge(&self, other: &Details) -> Details {
        let mut out = self.clone();
        for (k, v) in &other.0 {
            out.set(k.clone(), v.clone());
        }
        out
    }

    fn set(&mut self, key: String, value: Option<String>) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// The details, in order.
    pub fn entries(&self) -> &[(String, Option<String>)] {
        &self.0
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Details {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Details {
        let mut d = Details::new();
        for (k, v) in iter {
            d.set(k.into(), Some(v.into()));
        }
        d
    }
}

/// A set of tags (nil values already removed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags {
    tags: Vec<(String, String)>,
}

impl Tags {
    /// `Kamal::Tags.new(**tags)`: the tags without nils.
    pub fn new(details: &Details) -> Tags {
        Tags { tags: details.0.iter().filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v))).collect() }
    }

    /// `Kamal::Tags.default_tags(config)`: recorded_at, performer, destination, version,
    /// service_version (`<service>@<abbreviated version>`), service.
    pub fn default_tags(config: &Configuration, stamp: &Stamp) -> Details {
        let version = config.has_version().then(|| config.version());
        let mut service_version = vec![config.service()];
        if config.has_version() {
            service_version.push(config.abbreviated_version());
        }
        Details::new()
            .with("recorded_at", stamp.recorded_at.clone())
            .with("performer", stamp.performer.clone())
            .with_opt("destination", config.destination())
            .with_opt("version", version)
            .with("service_version", service_version.join("@"))
            .with("service", config.service())
    }

    /// `Kamal::Tags.from_config(config, **extra)`.
    pub fn from_config(config: &Configuration, stamp: &Stamp, extra: &Details) -> Tags {
        Tags::new(&Tags::default_tags(config, stamp).merge(extra))
    }

    /// The tags, in order.
    pub fn entries(&self) -> &[(String, String)] {
        &self.tags
    }

    /// `env`: `KAMAL_<KEY>` → value.
    pub fn env(&self) -> Vec<(String, String)> {
        self.tags.iter().map(|(k, v)| (format!("KAMAL_{}", k.to_uppercase()), v.clone())).collect()
    }

    /// `except(*keys)`.
    pub fn except(&self, keys: &[&str]) -> Tags {
        Tags { tags: self.tags.iter().filter(|(k, _)| !keys.contains(&k.as_str())).cloned().collect() }
    }
}

/// `to_s`: `[value] [value] ...`.
impl std::fmt::Display for Tags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.tags.iter().map(|(_, v)| format!("[{v}]")).collect();
        f.write_str(&parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_714_564_800), "2024-05-01T12:00:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59Z");
    }
}
