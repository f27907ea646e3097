//! Fuzz target `dotenv`: `.kamal/secrets` text through wharf-secrets' port of the dotenv parser
//! (the `LINE` regex, quoting, backslash escapes, `$VAR`/`${VAR}` expansion, `$(command)`
//! matching in both syntaxes, `export`, `DOTENV_LINEBREAK_MODE`), then the parsed values through
//! `secrets print` and `secrets extract`, and each command through Ruby's `shellsplit` (what
//! Kamal does to an inline `kamal secrets` command).
//!
//! The first byte picks the parser's settings (overwrite, command syntax, whether commands fail,
//! legacy line breaks in the environment); the rest is the file. Commands never run: the runner
//! returns a fixed text (or an error) without starting anything.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use wharf_secrets::dotenv::{CommandError, CommandSyntax, Parser};
use wharf_secrets::{cli, shell};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let Some(text) = wharf_fuzz::text(rest) else { return };
    let mut env: HashMap<String, String> = [("HOME", "/home/app"), ("A", "1"), ("EMPTY", ""), ("SECRET", "s3cr3t")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if flags & 8 != 0 {
        env.insert("DOTENV_LINEBREAK_MODE".into(), "legacy".into());
    }
    let syntax = if flags & 2 != 0 { CommandSyntax::Kamal } else { CommandSyntax::Dotenv };
    let fail = flags & 4 != 0;
    let parser = Parser::new(&env).overwrite(flags & 1 != 0).command_syntax(syntax);
    let parsed = parser.parse(text, |req| {
        // what the in-process `kamal secrets ...` runner does first, then a fixed answer
        let words = shell::shellsplit(req.expanded)?;
        if fail {
            return Err(CommandError::Inline(format!("no command runs here ({} words)", words.len())));
        }
        Ok(format!("out {}\n", words.len()))
    });
    match parsed {
        Ok(secrets) => {
            let _ = cli::print_lines(&secrets);
            // `kamal secrets extract NAME $SECRETS`: a value is often a fetch's JSON
            for (name, value) in secrets.iter() {
                let _ = cli::extract(name, value);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
