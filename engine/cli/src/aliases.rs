//! Kamal's aliases: a first word that is not a command but an alias in deploy.yml (`aliases:`)
//! is replaced by the alias's words before the command line is parsed.

use std::path::PathBuf;

/// Options that take a value: the word after them is not the command.
const WITH_VALUE: [&str; 12] = [
    "-c",
    "--config-file",
    "-d",
    "--destination",
    "-h",
    "--hosts",
    "-r",
    "--roles",
    "--version",
    "--lock-wait-timeout",
    "--lock-wait-interval",
    "-m",
];

pub fn expand(argv: Vec<String>) -> Vec<String> {
    // The first word that is neither an option nor an option's value.
    let mut first = None;
    let mut i = 1;
    while i < argv.len() {
        if WITH_VALUE.contains(&argv[i].as_str()) {
            i += 2;
            continue;
        }
        if !argv[i].starts_with('-') {
            first = Some(i);
            break;
        }
        i += 1;
    }
    let Some(first) = first else { return argv };
    let word = &argv[first];
    if wharf_config::validate::BUILT_IN_COMMANDS.contains(&word.as_str()) || word == "help" {
        return argv;
    }
    // -c / -d among the arguments say which configuration to read.
    let mut config_file = "config/deploy.yml".to_string();
    let mut destination = None;
    let mut i = 1;
    while i < argv.len() {
        match argv[i].as_str() {
            "-c" | "--config-file" if i + 1 < argv.len() => config_file = argv[i + 1].clone(),
            "-d" | "--destination" if i + 1 < argv.len() => destination = Some(argv[i + 1].clone()),
            a if a.starts_with("--config-file=") => config_file = a["--config-file=".len()..].to_string(),
            a if a.starts_with("--destination=") => destination = Some(a["--destination=".len()..].to_string()),
            _ => {}
        }
        i += 1;
    }
    let Some(words) = wharf_deploy::load::alias_words(&PathBuf::from(config_file), destination, word) else {
        return argv;
    };
    let mut out: Vec<String> = argv[..first].to_vec();
    out.extend(words);
    out.extend(argv[first + 1..].iter().cloned());
    out
}
