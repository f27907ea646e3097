//! Rollout split: a request whose `kamal-rollout` cookie is on the allow-list, or hashes (FNV-1a,
//! 32 bit) under the percentage split point, goes to the rollout targets. Same hash as upstream,
//! so a cookie lands in the same group with either proxy.

use serde::{Deserialize, Serialize};

pub const ROLLOUT_COOKIE_NAME: &str = "kamal-rollout";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RolloutController {
    pub percentage: u8,
    pub percentage_split_point: f64,
    pub allowlist: Vec<String>,
}

impl RolloutController {
    pub fn new(percentage: u8, allowlist: Vec<String>) -> Self {
        let split = f64::from(u32::MAX) * (f64::from(percentage) / 100.0);
        Self { percentage, percentage_split_point: split, allowlist }
    }

    /// `cookie_value` is the `kamal-rollout` cookie, if the request has one.
    pub fn uses_rollout_group(&self, cookie_value: Option<&str>) -> bool {
        let Some(value) = cookie_value.filter(|v| !v.is_empty()) else {
            return false;
        };
        self.allowlist.iter().any(|a| a == value) || f64::from(fnv1a32(value)) <= self.percentage_split_point
    }
}

fn fnv1a32(value: &str) -> u32 {
    let mut hash: u32 = 0x811c9dc5;
    for b in value.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x01000193);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_and_percentage() {
        let none = RolloutController::new(0, vec!["beta".into()]);
        assert!(none.uses_rollout_group(Some("beta")));
        assert!(!none.uses_rollout_group(Some("other")));
        assert!(!none.uses_rollout_group(None));
        let all = RolloutController::new(100, vec![]);
        assert!(all.uses_rollout_group(Some("anyone")));
        // Known FNV-1a vector: "a" -> 0xe40c292c
        assert_eq!(fnv1a32("a"), 0xe40c292c);
        let half = RolloutController::new(50, vec![]);
        let inside = (0..1000).filter(|i| half.uses_rollout_group(Some(&format!("user-{i}")))).count();
        assert!((400..600).contains(&inside), "{inside}");
    }
}
