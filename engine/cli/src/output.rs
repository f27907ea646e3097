//! What Wharf prints: Kamal's step messages (magenta), host-prefixed progress and command echo
//! (`-v`), and the red error line.

pub fn say(message: &str) {
    println!("\x1b[35m{message}\x1b[0m");
}

pub fn say_red(message: &str) {
    println!("\x1b[31m{message}\x1b[0m");
}

pub fn info(host: &str, message: &str) {
    println!("  INFO [{host}] {message}");
}

pub fn debug(host: &str, message: &str) {
    println!("  DEBUG [{host}] \t{message}");
}

/// `puts_by_host`: a host header, then its output.
pub fn by_host(host: &str, text: &str, quiet: bool) {
    if !quiet {
        println!("App Host: {host}");
    }
    println!("{text}\n");
}

pub fn error(class: &str, message: &str) {
    eprintln!("  \x1b[31mERROR ({class}): {message}\x1b[0m");
}
