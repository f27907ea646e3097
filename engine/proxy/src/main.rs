//! `kamal-proxy`: run the proxy server, or drive a running one.

use clap::Parser;
use wharf_proxy::cli::{self, Cli, Command};
use wharf_proxy::{logging, paths, rpc, server};

/// mimalloc: the proxy allocates per request on every worker thread; musl's and glibc's
/// allocators both cost noticeably more there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            let _ = e.print();
            std::process::exit(0)
        }
        Err(e) => {
            eprintln!("Error: {}", cli::cobra_error(&e));
            std::process::exit(1)
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Run(args) => run(args).await,
            other => cli::run_client(other).await,
        }
    });
    std::process::exit(code);
}

async fn run(args: cli::RunArgs) -> i32 {
    logging::set_debug(args.debug());
    if args.http3 {
        wharf_proxy::log_warn!("HTTP/3 is not supported by this proxy; serving HTTP/1.1 and HTTP/2");
    }
    let fd_budget = wharf_proxy::limits::raise_file_limit();
    let limits = args.limits(fd_budget);
    if let Some(budget) = fd_budget.filter(|b| limits.max_connections == 0 || limits.max_connections > *b) {
        wharf_proxy::log_warn!("The open-files limit allows fewer connections than --max-connections", "connections" => budget, "max_connections" => limits.max_connections);
    }
    let config = server::RunConfig {
        bind: String::from("0.0.0.0"),
        http_port: args.http_port(),
        https_port: args.https_port(),
        metrics_port: args.metrics_port(),
        state_path: paths::state_path(),
        socket_path: rpc::socket_path(),
        limits,
    };
    let running = match server::start(config).await {
        Ok(r) => r,
        Err(e) => {
            logging::flush();
            eprintln!("Error: {e}");
            return 1;
        }
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    running.stop().await;
    logging::flush();
    0
}
