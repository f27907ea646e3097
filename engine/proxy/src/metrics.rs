//! Prometheus metrics with upstream's names, served on `--metrics-port` when it is set:
//! `kamal_proxy_http_requests_total{service,method,status}`,
//! `kamal_proxy_http_request_duration_seconds{service,method,status}` and
//! `kamal_proxy_http_in_flight_requests{service}`; and Wharf's per cohort (see
//! [`crate::cohort_stats`]): `kamal_proxy_cohort_requests_total{service,cohort,class}` and
//! `kamal_proxy_cohort_request_duration_seconds{service,cohort}`.

use prometheus::{CounterVec, Encoder, GaugeVec, HistogramOpts, HistogramVec, Opts, Registry, TextEncoder};
use std::sync::OnceLock;
use std::time::Duration;

pub struct Metrics {
    registry: Registry,
    requests: CounterVec,
    duration: HistogramVec,
    in_flight: GaugeVec,
    cohort_requests: CounterVec,
    cohort_duration: HistogramVec,
}

static METRICS: OnceLock<Metrics> = OnceLock::new();

/// Turns tracking on (only `run --metrics-port N` does; otherwise every call below is a no-op).
pub fn enable() -> &'static Metrics {
    METRICS.get_or_init(|| {
        let registry = Registry::new();
        let requests = CounterVec::new(
            Opts::new("http_requests_total", "HTTP requests processed, labeled by service, status code and method.")
                .namespace("kamal")
                .subsystem("proxy"),
            &["service", "method", "status"],
        )
        .unwrap();
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Duration of HTTP requests, labeled by service, status code and method.",
            )
            .namespace("kamal")
            .subsystem("proxy"),
            &["service", "method", "status"],
        )
        .unwrap();
        let in_flight = GaugeVec::new(
            Opts::new("http_in_flight_requests", "Number of in-flight HTTP requests, labeled by service.")
                .namespace("kamal")
                .subsystem("proxy"),
            &["service"],
        )
        .unwrap();
        let cohort_requests = CounterVec::new(
            Opts::new(
                "cohort_requests_total",
                "HTTP requests answered, labeled by service, cohort (rollout or main) and status class.",
            )
            .namespace("kamal")
            .subsystem("proxy"),
            &["service", "cohort", "class"],
        )
        .unwrap();
        let cohort_duration = HistogramVec::new(
            HistogramOpts::new(
                "cohort_request_duration_seconds",
                "Time to the response head, labeled by service and cohort (rollout or main).",
            )
            .namespace("kamal")
            .subsystem("proxy")
            .buckets(crate::cohort_stats::LATENCY_BUCKETS.to_vec()),
            &["service", "cohort"],
        )
        .unwrap();
        registry.register(Box::new(requests.clone())).unwrap();
        registry.register(Box::new(duration.clone())).unwrap();
        registry.register(Box::new(in_flight.clone())).unwrap();
        registry.register(Box::new(cohort_requests.clone())).unwrap();
        registry.register(Box::new(cohort_duration.clone())).unwrap();
        Metrics { registry, requests, duration, in_flight, cohort_requests, cohort_duration }
    })
}

pub fn track_request(service: &str, method: &str, status: u16, elapsed: Duration) {
    if let Some(m) = METRICS.get() {
        let method = normalize_method(method);
        let status = status.to_string();
        m.requests.with_label_values(&[service, method, &status]).inc();
        m.duration.with_label_values(&[service, method, &status]).observe(elapsed.as_secs_f64());
    }
}

/// One answered request of `service`'s `cohort` (`rollout` or `main`).
pub fn track_cohort(service: &str, cohort: &str, status: u16, elapsed: Duration) {
    if let Some(m) = METRICS.get() {
        let class = format!("{}xx", (status / 100).clamp(1, 5));
        m.cohort_requests.with_label_values(&[service, cohort, &class]).inc();
        m.cohort_duration.with_label_values(&[service, cohort]).observe(elapsed.as_secs_f64());
    }
}

pub fn add_in_flight(service: &str, delta: f64) {
    if let Some(m) = METRICS.get() {
        m.in_flight.with_label_values(&[service]).add(delta);
    }
}

pub fn render() -> String {
    let Some(m) = METRICS.get() else { return String::new() };
    let mut out = vec![];
    let _ = TextEncoder::new().encode(&m.registry.gather(), &mut out);
    String::from_utf8(out).unwrap_or_default()
}

fn normalize_method(m: &str) -> &str {
    match m {
        "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "CONNECT" | "OPTIONS" | "TRACE" => m,
        _ => "OTHER",
    }
}
