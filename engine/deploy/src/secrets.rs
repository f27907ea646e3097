//! Kamal's `secrets` commands (cli/secrets.rb): `fetch` from a vault adapter, `extract` one
//! value from fetched output, `print` the project's resolved secrets.

use crate::error::{CliError, Result};
use crate::load::{load_raw, make_secrets, raw_extension};
use crate::options::GlobalOptions;
use crate::output;
use crate::plugins::{self, secret_adapters};
use std::path::Path;
use wharf_secrets::cli;

/// `secrets fetch -a ADAPTER [--account A] [--from F] [--inline] NAMES...`.
pub fn fetch(global: &GlobalOptions, dir: &Path, args: &cli::FetchArgs) -> Result<()> {
    let fetcher = plugins::ConfiguredAdapters::new(dir, raw_extension(global, dir)?);
    match cli::fetch(args, &fetcher).map_err(secret_adapters::cli_error)? {
        cli::FetchOutcome::Output(s) => output::line(&s),
        cli::FetchOutcome::MissingAccount => output::line(cli::MISSING_ACCOUNT),
    }
    Ok(())
}

/// `secrets extract NAME SECRETS`.
pub fn extract(name: &str, secrets: &str) -> Result<()> {
    output::line(&cli::extract(name, secrets).map_err(|e| CliError::runtime(e.to_string()))?);
    Ok(())
}

/// `secrets print`: every secret of `.kamal/secrets[-common]` (with `-d`), resolved.
pub fn print(global: &GlobalOptions, dir: &Path) -> Result<()> {
    let raw = load_raw(global, dir)?;
    let path = wharf_config::model::secrets_path_of(&raw);
    let ext = wharf_config::extension::WharfExtension::parse(&raw)?;
    let secrets = make_secrets(dir, &path, global.destination.as_deref(), &ext);
    output::raw(&cli::print_lines(&secrets.to_map()?));
    Ok(())
}
