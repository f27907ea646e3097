//! `wharf`: Kamal's CLI as one binary. Parses the command line (expanding deploy.yml aliases)
//! and hands the command to [`dispatch`]; errors print Kamal's `ERROR (<Class>): <message>` and
//! exit 1. Everything else lives in the `wharf-deploy` library.

mod aliases;
mod args;
mod dispatch;
mod thor;
mod tree;

use args::Cli;
use clap::{CommandFactory, FromArgMatches};
use wharf_deploy::{events, output, progress};

pub const WHARF_VERSION: &str = env!("CARGO_PKG_VERSION");

fn main() {
    // One command tree, built once: the Thor rewrite walks it, then clap parses with it.
    let mut command = Cli::command();
    let argv = match thor::normalize(&command, aliases::expand(std::env::args().collect())) {
        Ok(argv) => argv,
        // Thor's refusals (an ambiguous or unknown command): its message alone, on stderr.
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(1);
        }
    };
    let parsed = command
        .try_get_matches_from_mut(&argv)
        .and_then(|mut m| Cli::from_arg_matches_mut(&mut m).map_err(|e| e.format(&mut command)));
    let cli = match parsed {
        Ok(c) => c,
        // As Kamal: a command group without a command lists its commands, on stdout.
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            print!("{}", e.render());
            std::process::exit(0);
        }
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let verbose = cli.global.verbose;
    let result = runtime.block_on(dispatch::run(cli));
    // The end of a long command's events (`run_finished`), and of its live view (the summary).
    let exit_code = match &result {
        Ok(()) => 0,
        Err(e) => e.exit_code.unwrap_or(1),
    };
    let summary = events::finish_run(result.as_ref().err().map(|e| (e.class.as_ref(), e.message.as_str())), exit_code);
    progress::finish(summary.as_ref());
    match result {
        Ok(()) => std::process::exit(0),
        Err(e) if e.exit_code.is_some() => std::process::exit(e.exit_code.unwrap_or(1)),
        Err(e) if e.uncaught => {
            eprintln!("{} ({})", e.message, e.class);
            std::process::exit(1);
        }
        Err(e) => {
            output::error(&e.class, &e.message);
            if verbose {
                eprintln!("  (run with the same arguments to retry)");
            }
            std::process::exit(1);
        }
    }
}
