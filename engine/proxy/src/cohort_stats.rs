//! What a service's targets answered, per cohort: `rollout` (requests the rollout split sent to
//! the rollout targets) and `main` (every other request), so that a canary can be judged by live
//! traffic against the rest. Per cohort: requests by status class and a latency histogram (time
//! to the response head), counted since the service was created. Counters only grow: a reader
//! takes two snapshots and compares (`kamal-proxy stats`, Wharf's canary gate). Always on: a few
//! atomic additions per request.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds (Prometheus' defaults); one more bucket
/// takes the rest.
pub const LATENCY_BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Which cohort a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cohort {
    Main,
    Rollout,
}

impl Cohort {
    pub fn as_str(self) -> &'static str {
        match self {
            Cohort::Main => "main",
            Cohort::Rollout => "rollout",
        }
    }
}

#[derive(Default)]
struct Counters {
    /// 1xx..5xx at 0..=4.
    by_class: [AtomicU64; 5],
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    latency_micros: AtomicU64,
}

/// One service's counters.
#[derive(Default)]
pub struct CohortStats {
    main: Counters,
    rollout: Counters,
}

/// A cohort's counters at one moment, as `kamal-proxy stats` prints them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CohortSnapshot {
    pub requests: u64,
    /// Requests per status class: `1xx` .. `5xx`.
    pub status: std::collections::BTreeMap<String, u64>,
    /// Requests per latency bucket: `le` (upper bound in seconds, `null` for the last) and count
    /// (not cumulative).
    pub latency_buckets: Vec<(Option<f64>, u64)>,
    pub latency_sum_seconds: f64,
}

/// A service's cohorts at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceSnapshot {
    pub main: CohortSnapshot,
    pub rollout: CohortSnapshot,
}

impl CohortStats {
    /// Counts one answered request.
    pub fn record(&self, cohort: Cohort, status: u16, latency: Duration) {
        let c = match cohort {
            Cohort::Main => &self.main,
            Cohort::Rollout => &self.rollout,
        };
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        c.by_class[class].fetch_add(1, Ordering::Relaxed);
        let seconds = latency.as_secs_f64();
        let bucket = LATENCY_BUCKETS.iter().position(|le| seconds <= *le).unwrap_or(LATENCY_BUCKETS.len());
        c.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        c.latency_micros.fetch_add(latency.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> ServiceSnapshot {
        ServiceSnapshot { main: snapshot(&self.main), rollout: snapshot(&self.rollout) }
    }
}

fn snapshot(c: &Counters) -> CohortSnapshot {
    let status: std::collections::BTreeMap<String, u64> =
        (0..5).map(|i| (format!("{}xx", i + 1), c.by_class[i].load(Ordering::Relaxed))).collect();
    let latency_buckets = c
        .buckets
        .iter()
        .enumerate()
        .map(|(i, n)| (LATENCY_BUCKETS.get(i).copied(), n.load(Ordering::Relaxed)))
        .collect();
    CohortSnapshot {
        requests: status.values().sum(),
        status,
        latency_buckets,
        latency_sum_seconds: c.latency_micros.load(Ordering::Relaxed) as f64 / 1e6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_per_cohort_class_and_bucket() {
        let stats = CohortStats::default();
        stats.record(Cohort::Main, 200, Duration::from_millis(3));
        stats.record(Cohort::Main, 503, Duration::from_millis(40));
        stats.record(Cohort::Rollout, 500, Duration::from_secs(20));
        let s = stats.snapshot();
        assert_eq!(s.main.requests, 2);
        assert_eq!((s.main.status["2xx"], s.main.status["5xx"], s.main.status["4xx"]), (1, 1, 0));
        assert_eq!(s.main.latency_buckets[0], (Some(0.005), 1));
        assert_eq!(s.main.latency_buckets[3], (Some(0.05), 1));
        assert_eq!(s.rollout.requests, 1);
        assert_eq!(*s.rollout.latency_buckets.last().unwrap(), (None, 1), "beyond the last bound");
        assert!((s.main.latency_sum_seconds - 0.043).abs() < 1e-9);
    }
}
