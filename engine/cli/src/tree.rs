//! `wharf tree`: Thor's `tree` command (what `kamal tree` prints), drawn from the clap command
//! tree. The top level's commands, then each command group's, each list sorted by name as Thor
//! spells it (`stale_containers`), with its description; hidden commands, `help` and `tree` itself
//! are left out, as Thor leaves them out. Thor heads each list with its class's namespace
//! (`kamal:cli:main`, `kamal:cli:app`); Wharf's are `wharf:cli:main`, `wharf:cli:app`.

use crate::thor::thor_name;
use clap::Command;

/// The whole tree, one line per command and per group heading.
pub fn render(cli: &Command) -> String {
    let mut out = String::new();
    section(&mut out, cli, "main", 0);
    out
}

/// A group's heading, its commands, then its groups' sections one level further in.
fn section(out: &mut String, group: &Command, name: &str, depth: usize) {
    let indent = "  ".repeat(depth);
    out.push_str(&format!("{indent}wharf:cli:{name}\n"));
    let commands = listed(group);
    for (i, (name, command)) in commands.iter().enumerate() {
        let branch = if i + 1 == commands.len() { "└─" } else { "├─" };
        let about = command.get_about().map(|a| a.to_string()).unwrap_or_default();
        out.push_str(&format!("{indent}  {branch} {name} ({})\n", about.lines().next().unwrap_or("")));
    }
    for (name, command) in commands.iter().filter(|(_, c)| c.has_subcommands()) {
        section(out, command, name, depth + 1);
    }
}

/// The commands of `group` that Thor's tree shows, by their Thor names, sorted.
fn listed(group: &Command) -> Vec<(String, &Command)> {
    let mut commands: Vec<(String, &Command)> = group
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && !matches!(c.get_name(), "help" | "tree"))
        .map(|c| (thor_name(c), c))
        .collect();
    commands.sort_by(|a, b| a.0.cmp(&b.0));
    commands
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Cli;
    use clap::CommandFactory;

    #[test]
    fn lists_every_group_as_kamals_tree_does() {
        let tree = render(&Cli::command());
        let lines: Vec<&str> = tree.lines().collect();
        assert_eq!(lines[0], "wharf:cli:main");
        assert_eq!(lines[1], "  ├─ accessory (Manage accessories (db/redis/search))");
        assert!(
            tree.contains("\n  wharf:cli:app\n    ├─ boot (Boot app on servers (or reboot app if already running))\n")
        );
        assert!(tree.contains("\n    ├─ stale_containers (Detect app stale containers)\n"), "{tree}");
        assert!(tree.contains("\n    └─ exec (Run a custom command on the server (use --help to show options))\n"));
        // Hidden commands, help and tree are not listed.
        assert!(!tree.contains("remove_container") && !tree.contains(" help (") && !tree.contains(" tree ("));
        // Each list ends with └─, and only there.
        for (i, line) in lines.iter().enumerate() {
            let next_is_sibling = lines.get(i + 1).is_some_and(|n| n.find('─') == line.find('─'));
            if line.contains('─') {
                assert_eq!(line.contains("└─"), !next_is_sibling, "{line}");
            }
        }
    }
}
