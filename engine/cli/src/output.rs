//! What Wharf prints: Kamal's step messages (magenta), host-prefixed progress and command echo
//! (`-v`), and the red error line.

use std::io::IsTerminal;
use std::sync::OnceLock;

/// Colours only when stdout is a terminal (Thor's `say` does the same).
fn colour(code: &str, message: &str) -> String {
    static TTY: OnceLock<bool> = OnceLock::new();
    if *TTY.get_or_init(|| std::io::stdout().is_terminal()) {
        format!("\x1b[{code}m{message}\x1b[0m")
    } else {
        message.to_string()
    }
}

pub fn say(message: &str) {
    println!("{}", colour("35", message));
}

pub fn say_red(message: &str) {
    println!("{}", colour("31", message));
}

pub fn info(host: &str, message: &str) {
    println!("  INFO [{host}] {message}");
}

/// SSHKit's warning line.
pub fn warn(host: &str, message: &str) {
    println!("  WARN [{host}] {message}");
}

pub fn debug(host: &str, message: &str) {
    println!("  DEBUG [{host}] \t{message}");
}

/// `puts_by_host`: a host header (`App Host: H`, `Proxy Host: H`, `Accessory db Host: H`), then
/// its output.
pub fn by_host(host: &str, text: &str, quiet: bool) {
    by_host_labelled("App", host, text, quiet);
}

pub fn by_host_labelled(label: &str, host: &str, text: &str, quiet: bool) {
    if !quiet {
        println!("{label} Host: {host}");
    }
    println!("{text}\n");
}

pub fn error(class: &str, message: &str) {
    eprintln!("  \x1b[31mERROR ({class}): {message}\x1b[0m");
}
