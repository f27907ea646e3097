//! Wharf's proxy: a drop-in replacement for basecamp/kamal-proxy. The `kamal-proxy` binary runs
//! the server (`run`) and drives it (`deploy`, `remove`, `list`, `pause`, `stop`, `resume`,
//! `rollout ...`) over a Unix socket, with upstream's flags, output and exit codes.
//!
//! Data plane: `server` (listeners, request log; `connections`, `tracked_io` and `limits` for
//! client connections, `request_host`) -> `service_map` (host and path routing) ->
//! `service` (redirects, pause, rollout) -> `load_balancer` (round robin, health) -> `target`
//! (forwarding, drain). Control plane: `commands` (socket) -> `router` (deploy semantics, state).

pub mod acme;
pub mod body;
pub mod cli;
pub mod client_body;
pub mod cohort_stats;
pub mod commands;
pub mod connections;
pub mod cookies;
pub mod duration;
pub mod forwarded;
pub mod health;
pub mod limits;
pub mod load_balancer;
pub mod logging;
pub mod metrics;
pub mod options;
pub mod pages;
pub mod paths;
pub mod pause;
pub mod request_host;
pub mod rollout;
pub mod router;
pub mod rpc;
pub mod server;
pub mod service;
pub mod service_map;
pub mod stall;
pub mod state;
pub mod target;
pub mod tls;
pub mod tracked_io;
