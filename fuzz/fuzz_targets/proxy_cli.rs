//! Fuzz target `proxy_cli`: `kamal-proxy` command lines through the proxy's clap definition
//! (every subcommand and flag, Go booleans and durations, comma lists), cobra-style error
//! messages, then what each command turns into before anything is sent or started: `run`'s
//! ports and connection limits, a client command's request (`deploy`'s checks and service
//! options validation), the request's JSON wire form and back, the target address check the
//! server applies, Go-style duration formatting, and the `list` table.
//!
//! The input is the argument words after the program name, split on NUL when it holds one, else
//! on whitespace (`deploy app --target=web:3000 --host=a.example.com`). No server starts and no
//! socket is opened. `HOME` points at a scratch directory: a deploy without
//! `--tls-acme-cache-path` creates `~/.config/kamal-proxy` for its default.

#![no_main]

use clap::Parser;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::sync::Once;
use wharf_proxy::cli::{self, Cli, Command};
use wharf_proxy::duration;
use wharf_proxy::options::validate_target;
use wharf_proxy::rpc::{Request, ServiceDescription};

fn setup() {
    static SETUP: Once = Once::new();
    SETUP.call_once(|| {
        let home = wharf_fuzz::scratch_dir("proxy-home");
        // single-threaded at this point: nothing else reads the environment yet
        std::env::set_var("HOME", home);
        for key in ["DEBUG", "HTTP_PORT", "HTTPS_PORT", "METRICS_PORT", "MAX_CONNECTIONS", "HTTP_IDLE_TIMEOUT"] {
            std::env::remove_var(key);
            std::env::remove_var(format!("KAMAL_PROXY_{key}"));
        }
    });
}

/// What the server does with a request before acting on it, and what `list` prints.
fn exercise(request: &Request) {
    let json = serde_json::to_vec(request).expect("a request serializes");
    let _ = serde_json::from_slice::<Request>(&json);
    match request {
        Request::Deploy(args) => {
            for target in args.target_urls.iter().chain(&args.reader_urls) {
                let _ = validate_target(target);
            }
            let mut service = args.service_options.clone();
            service.normalize();
            let _ = duration::format(args.deployment_options.deploy_timeout);
            let _ = duration::format(args.target_options.health_check_config.interval);
            let row = ServiceDescription {
                host: service.hosts.join(","),
                path: service.path_prefixes.join(","),
                tls: service.tls_enabled,
                target: args.target_urls.join(","),
                state: "running".into(),
            };
            let _ = cli::format_list(&BTreeMap::from([(args.service.clone(), row)]));
        }
        Request::RolloutDeploy(args) => {
            for target in args.target_urls.iter().chain(&args.reader_urls) {
                let _ = validate_target(target);
            }
        }
        Request::Pause { drain_timeout, pause_timeout, .. } => {
            let _ = (duration::format(*drain_timeout), duration::format(*pause_timeout));
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    setup();
    let Some(text) = wharf_fuzz::text(data) else { return };
    let argv = std::iter::once("kamal-proxy".to_string()).chain(wharf_fuzz::words(text));
    match Cli::try_parse_from(argv) {
        Err(e) => {
            let _ = cli::cobra_error(&e);
        }
        Ok(Cli { command: Command::Run(args) }) => {
            let _ = (args.debug(), args.http_port(), args.https_port(), args.metrics_port());
            let _ = (args.limits(None), args.limits(Some(1000)));
        }
        Ok(Cli { command }) => {
            if let Ok(request) = cli::request_for(command) {
                exercise(&request);
            }
        }
    }
});
