//! wharf-proxy's integration tests, in one binary: the real `kamal-proxy` binary
//! (`CARGO_BIN_EXE_kamal-proxy`) driven over real sockets on loopback, with real HTTP backends,
//! and the ACME client against Debian's `pebble` (those tests skip without it).
//!
//! A new test goes in the module of the behaviour it checks; a new area gets its own module,
//! declared below. The proxy, backends, load, raw sockets and pebble come from `support`. Run one
//! module with `cargo test -p wharf-proxy --test suite soak::` (the soak needs `strace` for its
//! slow-disk half and takes minutes).

/// Helpers: the proxy binary on loopback, named backends, `load` (continuous requests), `raw`
/// (HTTP/1.1 byte for byte) and `pebble` (an ACME server and a DNS responder).
mod support;

/// `AcmeManager` against pebble: certificates over HTTP-01 and TLS-ALPN-01 through its public API.
mod acme;
/// The proxy obtains certificates from pebble for both challenge types, then serves them from its
/// cache after a restart with pebble gone.
mod acme_proxy;
/// Deploys under load: zero downtime, health-gated swaps, drain, state surviving a restart.
mod deploy;
/// Routing, buffering, streaming, TLS, rollout, maintenance, logs, metrics and the CLI's output.
mod features;
/// HTTP rules (RFC 9110/9112, nginx) byte for byte over raw sockets: Host headers, chunked bodies.
mod http_rules;
/// Clients that stall (slowloris, idle, half bodies, no reading) cut off after their timeouts;
/// `--max-connections`.
mod slow_clients;
/// 100,000 requests through 20 deploy switches, then on one CPU with a slow disk (strace).
mod soak;
/// HTTPS with a static certificate: HTTP/2 over TLS, redirects, bad certificates refused.
mod tls;
