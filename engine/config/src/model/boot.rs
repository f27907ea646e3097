//! `Kamal::Configuration::Boot`: how many hosts boot at once (`limit`, an integer or a
//! percentage of all hosts), the `wait` between groups, and `parallel_roles`.

use crate::ruby::{get, to_s};
use serde_yaml::Value;

/// The `boot` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Boot {
    config: Value,
    host_count: usize,
}

impl Boot {
    pub(crate) fn new(config: Option<&Value>, host_count: usize) -> Boot {
        Boot { config: config.cloned().unwrap_or(Value::Null), host_count }
    }

    /// The number of hosts over which the limit's percentage is taken (all hosts).
    pub fn host_count(&self) -> usize {
        self.host_count
    }

    /// `limit`: an integer as given, or `"25%"` of the host count (at least 1).
    pub fn limit(&self) -> Option<usize> {
        let limit = get(&self.config, "limit").filter(|v| !v.is_null())?;
        let s = to_s(limit);
        if s.ends_with('%') {
            let pct = ruby_to_i(&s);
            Some(((self.host_count as i64 * pct) / 100).max(1) as usize)
        } else {
            match limit {
                Value::Number(n) => n.as_u64().map(|n| n as usize).or_else(|| n.as_f64().map(|f| f as usize)),
                _ => s.trim().parse().ok(),
            }
        }
    }

    /// `wait` (seconds between groups).
    pub fn wait(&self) -> Option<u64> {
        match get(&self.config, "wait") {
            Some(Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
            Some(v @ Value::String(_)) => to_s(v).trim().parse().ok(),
            _ => None,
        }
    }

    /// `parallel_roles`.
    pub fn parallel_roles(&self) -> Option<bool> {
        match get(&self.config, "parallel_roles") {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }
}

fn ruby_to_i(s: &str) -> i64 {
    let s = s.trim_start();
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().unwrap_or(0)
}
