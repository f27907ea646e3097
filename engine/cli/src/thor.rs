//! Thor's ways of writing options (Kamal's CLI is built on Thor), turned into what clap parses,
//! before it parses them. Scripts written for `kamal` keep working:
//!
//! - `--image_version`: Thor turns `_` into `-` in every `--switch` name (before any `=`).
//! - Booleans: `--no-X` and `--skip-X` set `X` to false (unless `--no-X` is an option of its own,
//!   as `--no-cache` is), `--X=true` and `--X=false` (also `--X true`, `--X false`, and Thor's
//!   other words for them: `t`, `T`, `TRUE`, `f`, `F`, `FALSE`) set it; the last one given wins.
//!   For the options that take Thor's `true`/`false` as a value (`proxy boot_config`'s
//!   `--publish`), `--no-X` is `--X=false`.
//! - Commands shortened to the start of exactly one command's name (`kamal vers`, `kamal app
//!   cont`) are spelt out. A start shared by several is refused as Thor refuses it (`Ambiguous
//!   command de matches [deploy, details]`), and so is a word that names no command of a group
//!   (`Could not find command "zz".`); both on stderr, with exit status 1. (At the top level a
//!   word that names no command may be one of deploy.yml's aliases: it is left to the dispatch.)
//! - Hashes: `app exec -e A:1 B:2 'bin/rails c'` (Thor's `type: :hash`): the words after `-e` or
//!   `--env` that hold a `:` and do not start with `-` are its `KEY:VALUE` pairs; the first one
//!   that does not is where the command starts.
//!
//! The command line is walked against the clap command tree (`Cli::command()`), so each option
//! is read as the subcommand it follows defines it, an option's value is never taken for an
//! option, and nothing after `--` or inside the command of `app exec`, `accessory exec` and
//! `server exec` (their trailing arguments) is touched.

use clap::{Arg, ArgAction, Command};

/// `argv` (the program's name first) with Thor's forms rewritten into clap's; `Err` with Thor's
/// message for a command line it refuses before running anything.
pub fn normalize(cli: &Command, argv: Vec<String>) -> Result<Vec<String>, String> {
    let mut argv = argv.into_iter();
    let mut out: Vec<String> = argv.next().into_iter().collect();
    let rest: Vec<String> = argv.collect();
    let mut current = cli;
    let mut positionals = 0;
    let mut i = 0;
    while i < rest.len() {
        let word = &rest[i];
        i += 1;
        if word == "--" {
            out.extend(rest[i - 1..].iter().cloned());
            break;
        }
        if let Some(switch) = word.strip_prefix("--").filter(|s| !s.is_empty()) {
            let (name, value) = match switch.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (switch, None),
            };
            if !is_switch_name(name) {
                out.push(word.clone());
                continue;
            }
            let name = name.replace('_', "-");
            match find_long(cli, current, &name) {
                Some(arg) if is_env_hash(current, arg) => {
                    i = take_hash(&rest, i, value, &mut out);
                }
                Some(arg) if is_flag(arg) => match value.or_else(|| bool_word(rest.get(i))) {
                    None => out.push(format!("--{name}")),
                    Some(v) => {
                        if value.is_none() {
                            i += 1; // `--X true`: the word was the flag's
                        }
                        match thor_bool(v) {
                            Some(true) => out.push(format!("--{name}")),
                            Some(false) => unset(&mut out, arg),
                            // Not a boolean: clap names the option and the value.
                            None => out.push(switch_word(&name, Some(v))),
                        }
                    }
                },
                Some(arg) => {
                    out.push(switch_word(&name, value));
                    if value.is_none() && needs_value(arg) {
                        i = take_value(&rest, i, &mut out);
                    }
                }
                None => {
                    let negated = name.strip_prefix("no-").or_else(|| name.strip_prefix("skip-"));
                    match negated.and_then(|x| find_long(cli, current, x).map(|arg| (x, arg))) {
                        Some((_, arg)) if is_flag(arg) && value.is_none() => unset(&mut out, arg),
                        Some((x, arg)) if takes_thor_bool(arg) && value.is_none() => out.push(format!("--{x}=false")),
                        // Unknown here: clap says so.
                        _ => out.push(switch_word(&name, value)),
                    }
                }
            }
            continue;
        }
        if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            // `-e` of `app exec` (alone: Thor's hash), or a cluster of short flags (`-vy`), or a
            // short option and its value (`-d staging`, `-dstaging`).
            let first = shorts.chars().next().and_then(|c| find_short(cli, current, c));
            match first {
                Some(arg) if shorts.len() == 1 && is_env_hash(current, arg) => {
                    i = take_hash(&rest, i, None, &mut out);
                }
                Some(arg) if shorts.len() == 1 && needs_value(arg) => {
                    out.push(word.clone());
                    i = take_value(&rest, i, &mut out);
                }
                _ => out.push(word.clone()),
            }
            continue;
        }
        // A word: a subcommand of the current command, or one of its positional arguments.
        if positionals == 0 && current.has_subcommands() {
            match find_subcommand(current, word) {
                Found::Exact(sub) => {
                    current = sub;
                    out.push(word.clone());
                    continue;
                }
                // A shortened name, spelt out.
                Found::Shortened(sub) => {
                    current = sub;
                    out.push(sub.get_name().to_string());
                    continue;
                }
                Found::Help => {
                    out.push("help".to_string());
                    out.extend(rest[i..].iter().cloned());
                    break;
                }
                Found::Ambiguous(names) => {
                    return Err(format!("Ambiguous command {word} matches [{}]", names.join(", ")));
                }
                Found::Nothing if !std::ptr::eq(current, cli) => {
                    return Err(format!("Could not find command \"{}\".", word.replace('-', "_")));
                }
                Found::Nothing => {}
            }
        }
        out.push(word.clone());
        let trailing = current.get_positionals().nth(positionals).is_some_and(|a| a.is_trailing_var_arg_set());
        positionals += 1;
        // (Only the top level takes external subcommands: the aliases.)
        if trailing || current.is_allow_external_subcommands_set() {
            // The command of `app exec` (and the rest of an alias): the user's words.
            out.extend(rest[i..].iter().cloned());
            break;
        }
    }
    Ok(out)
}

/// `--name`, or `--name=value`.
fn switch_word(name: &str, value: Option<&str>) -> String {
    match value {
        Some(v) => format!("--{name}={v}"),
        None => format!("--{name}"),
    }
}

/// An option's value: the word at `i`, if there is one, passed on as it is. Returns where the
/// words after it start.
fn take_value(rest: &[String], i: usize, out: &mut Vec<String>) -> usize {
    match rest.get(i) {
        Some(v) => {
            out.push(v.clone());
            i + 1
        }
        None => i,
    }
}

/// A `--switch` name as Thor reads one (letters, digits, `-` and `_`).
fn is_switch_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The option `--name` of `current`, or a global one.
fn find_long<'a>(cli: &'a Command, current: &'a Command, name: &str) -> Option<&'a Arg> {
    let named = |a: &&Arg| a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|al| al.contains(&name));
    current.get_arguments().find(named).or_else(|| cli.get_arguments().filter(|a| a.is_global_set()).find(named))
}

/// The option `-c` of `current`, or a global one.
fn find_short<'a>(cli: &'a Command, current: &'a Command, c: char) -> Option<&'a Arg> {
    let named = |a: &&Arg| a.get_short() == Some(c);
    current.get_arguments().find(named).or_else(|| cli.get_arguments().filter(|a| a.is_global_set()).find(named))
}

/// What a word in a command's place names among `current`'s subcommands.
enum Found<'a> {
    /// A subcommand by its name or one of its aliases.
    Exact(&'a Command),
    /// The one command (not hidden) whose name starts with the word.
    Shortened(&'a Command),
    /// Thor's `help` (clap's help subcommand), in full or shortened.
    Help,
    /// Several commands start with the word: their names as Thor spells them, sorted.
    Ambiguous(Vec<String>),
    Nothing,
}

/// The subcommand `word` names, as Thor finds it: by its name or an alias, else by the start of
/// the names of the commands not hidden as Thor spells them (`stale_`, not `stale-`; Thor's
/// `help` among them), which must be one command.
fn find_subcommand<'a>(current: &'a Command, word: &str) -> Found<'a> {
    let names = |c: &'a Command| std::iter::once(c.get_name()).chain(c.get_all_aliases());
    if let Some(exact) = current.get_subcommands().find(|c| names(c).any(|n| n == word)) {
        return Found::Exact(exact);
    }
    let help = !current.is_disable_help_subcommand_set();
    if help && word == "help" {
        return Found::Help;
    }
    let mut matching: Vec<(String, Option<&'a Command>)> = current
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| (thor_name(c), Some(c)))
        .filter(|(name, _)| name.starts_with(word))
        .collect();
    if help && "help".starts_with(word) {
        matching.push(("help".to_string(), None));
    }
    matching.sort_by(|a, b| a.0.cmp(&b.0));
    match matching.as_slice() {
        [] => Found::Nothing,
        [(_, Some(only))] => Found::Shortened(only),
        [(_, None)] => Found::Help,
        _ => Found::Ambiguous(matching.into_iter().map(|(name, _)| name).collect()),
    }
}

/// A command's name as Thor spells it: `stale_containers` (clap's alias of `stale-containers`).
pub fn thor_name(command: &Command) -> String {
    let underscored = command.get_name().replace('-', "_");
    match command.get_all_aliases().any(|a| a == underscored) {
        true => underscored,
        false => command.get_name().to_string(),
    }
}

/// A flag: present or not (clap's `SetTrue`, taking no value).
fn is_flag(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::SetTrue) && arg.get_num_args().is_none_or(|n| n.max_values() == 0)
}

/// An option that must be given a value (`--hosts HOSTS`), as opposed to a flag or one whose
/// value may be left out (`--publish [true|false]`).
fn needs_value(arg: &Arg) -> bool {
    arg.get_action().takes_values() && arg.get_num_args().is_none_or(|n| n.min_values() > 0)
}

/// An option whose value is Thor's `true` or `false` (`--publish`, `--debug` of `proxy
/// boot_config`): those take a value that may be left out.
fn takes_thor_bool(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::SetTrue)
        && arg.get_num_args().is_some_and(|n| n.min_values() == 0 && n.max_values() == 1)
}

/// `app exec`'s `--env`: Thor's hash.
fn is_env_hash(current: &Command, arg: &Arg) -> bool {
    current.get_name() == "exec" && arg.get_id() == "env"
}

/// Thor's words for true and false.
fn thor_bool(word: &str) -> Option<bool> {
    match word {
        "true" | "TRUE" | "t" | "T" => Some(true),
        "false" | "FALSE" | "f" | "F" => Some(false),
        _ => None,
    }
}

/// The next word, if it is one of Thor's words for true and false (which Thor takes as the
/// boolean's value: `--verbose T`).
fn bool_word(word: Option<&String>) -> Option<&str> {
    word.map(String::as_str).filter(|w| thor_bool(w).is_some())
}

/// The flag `arg` set to false: its earlier occurrences are taken back (Thor: the last wins).
fn unset(out: &mut Vec<String>, arg: &Arg) {
    let long = arg.get_long().map(|l| format!("--{l}"));
    let short = arg.get_short().map(|s| format!("-{s}"));
    out.retain(|w| Some(w) != long.as_ref() && Some(w) != short.as_ref());
}

/// Thor's hash after `-e`/`--env` (its first pair already in `first`, from `--env=A:1`): each
/// following word with a `:` that does not start with `-`, as one `--env=KEY:VALUE` each. Returns
/// where the words after it start.
fn take_hash(rest: &[String], mut i: usize, first: Option<&str>, out: &mut Vec<String>) -> usize {
    if let Some(pair) = first {
        out.push(format!("--env={pair}"));
    }
    while let Some(pair) = rest.get(i).filter(|w| w.contains(':') && !w.starts_with('-')) {
        out.push(format!("--env={pair}"));
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Cli;
    use clap::CommandFactory;

    /// `wharf WORDS` (split at spaces) through [`normalize`].
    fn normalize_words(words: &str) -> Result<Vec<String>, String> {
        let argv = std::iter::once("wharf").chain(words.split(' ')).map(str::to_string).collect();
        normalize(&Cli::command(), argv)
    }

    fn normalized(words: &str) -> String {
        normalize_words(words).unwrap()[1..].join(" ")
    }

    #[test]
    fn underscores_become_dashes_before_any_equals_sign_and_nothing_after_a_double_dash_changes() {
        assert_eq!(
            normalized("proxy boot_config set --image_version 0.9.9 --log_max_size=1_0m -- --keep_me"),
            "proxy boot_config set --image-version 0.9.9 --log-max-size=1_0m -- --keep_me"
        );
    }

    #[test]
    fn booleans_take_thors_negations_and_values_and_the_last_one_wins() {
        assert_eq!(normalized("remove --no-confirmed"), "remove");
        assert_eq!(normalized("remove -y --skip-confirmed"), "remove");
        assert_eq!(normalized("remove --confirmed=true"), "remove --confirmed");
        assert_eq!(normalized("remove --confirmed=false"), "remove");
        assert_eq!(normalized("deploy --skip-push=true --verbose false"), "deploy --skip-push");
        assert_eq!(normalized("docs --verbose T"), "docs --verbose");
        assert_eq!(normalized("docs --verbose F proxy"), "docs proxy");
        assert_eq!(normalized("docs --verbose yes"), "docs --verbose yes");
        assert_eq!(normalized("deploy --no-verbose -v"), "deploy -v");
        // `--skip-push` and `--no-cache` are options of their own, negated in turn.
        assert_eq!(normalized("deploy --skip-push --no-cache"), "deploy --skip-push --no-cache");
        assert_eq!(normalized("deploy --no-cache --no-no-cache --skip-push --no-skip-push"), "deploy");
        // Thor's true/false options: `--no-X` is `--X=false`.
        assert_eq!(normalized("proxy boot_config set --no-publish"), "proxy boot_config set --publish=false");
        // `--canary [PERCENT]` is not a boolean.
        assert_eq!(normalized("deploy --no-canary"), "deploy --no-canary");
        // Not a boolean: left for clap to refuse.
        assert_eq!(normalized("remove --confirmed=maybe"), "remove --confirmed=maybe");
        assert_eq!(normalized("deploy --no-such-thing"), "deploy --no-such-thing");
    }

    #[test]
    fn an_options_value_is_never_read_as_an_option_or_a_command() {
        assert_eq!(normalized("-d skip-push deploy --hosts --no-verbose"), "-d skip-push deploy --hosts --no-verbose");
        assert_eq!(normalized("-c lock deploy"), "-c lock deploy");
    }

    #[test]
    fn app_exec_env_is_thors_hash_and_the_command_is_left_alone() {
        assert_eq!(
            normalized("app exec -e A:1 B:2 bin/rails --no-verbose A:3"),
            "app exec --env=A:1 --env=B:2 bin/rails --no-verbose A:3"
        );
        assert_eq!(normalized("app exec --env=A:1 B:2 -i ls"), "app exec --env=A:1 --env=B:2 -i ls");
        assert_eq!(normalized("app exec -i --reuse=false ls -e x:y"), "app exec -i ls -e x:y");
        assert_eq!(normalized("server exec --no-interactive docker ps --no-trunc"), "server exec docker ps --no-trunc");
    }

    #[test]
    fn app_exec_parses_kamals_env_hash_and_command() {
        use crate::args::{AppCommand, Command};
        use clap::Parser;
        let argv = ["wharf", "app", "exec", "-e", "A:1", "B:x y", "--reuse", "bin/rails", "c", "-e", "C:2"];
        let argv = normalize(&Cli::command(), argv.map(str::to_string).to_vec()).unwrap();
        let cli = Cli::try_parse_from(argv).unwrap();
        let Command::App(AppCommand::Exec { env, reuse, cmd, .. }) = cli.command else { panic!("not app exec") };
        assert_eq!(env, ["A:1", "B:x y"]);
        assert!(reuse);
        assert_eq!(cmd, ["bin/rails", "c", "-e", "C:2"]);
    }

    #[test]
    fn commands_may_be_shortened_to_a_unique_start_as_thor_allows() {
        assert_eq!(normalized("app cont --skip-hooks"), "app containers --skip-hooks");
        assert_eq!(normalized("acc exec db --no-reuse ls"), "accessory exec db ls");
        assert_eq!(normalized("vers"), "version");
        assert_eq!(normalized("app stale --stop"), "app stale-containers --stop");
        // Hidden commands are not counted (`app remove_container`...): `rem` is `remove`.
        assert_eq!(normalized("app rem -y"), "app remove -y");
        assert_eq!(normalized("app h"), "app help");
        assert_eq!(normalized("he"), "help");
        assert_eq!(normalized("app help"), "app help");
    }

    #[test]
    fn ambiguous_and_unknown_commands_are_refused_with_thors_messages() {
        let refused = |words: &str| normalize_words(words).unwrap_err();
        assert_eq!(refused("de"), "Ambiguous command de matches [deploy, details]");
        assert_eq!(refused("app st"), "Ambiguous command st matches [stale_containers, start, stop]");
        assert_eq!(refused("accessory re"), "Ambiguous command re matches [reboot, remove, restart]");
        assert_eq!(refused("app zz"), "Could not find command \"zz\".");
        assert_eq!(refused("app stale-"), "Could not find command \"stale_\".");
        assert_eq!(refused("-d staging lock zz"), "Could not find command \"zz\".");
    }

    #[test]
    fn a_word_at_the_top_level_that_names_no_command_is_left_for_the_aliases() {
        assert_eq!(normalized("console --reuse"), "console --reuse");
    }
}
