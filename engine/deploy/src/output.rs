//! What Wharf prints: Kamal's step messages (magenta), host-prefixed progress and command echo
//! (`-v`), and the red error line. Everything goes through [`line`], which a test can redirect
//! with [`capture`] to assert the exact lines a command prints.

use std::cell::RefCell;
use std::io::IsTerminal;
use std::sync::OnceLock;

thread_local! {
    /// While [`capture`] runs on this thread: the lines printed, instead of stdout.
    static CAPTURED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Runs `f` with everything this thread prints through this module collected instead of
/// printed (colours off); returns `f`'s answer and the lines. For tests (run futures on a
/// current-thread runtime so that they stay on this thread).
pub fn capture<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    CAPTURED.with(|c| *c.borrow_mut() = Some(vec![]));
    let answer = f();
    let lines = CAPTURED.with(|c| c.borrow_mut().take()).unwrap_or_default();
    (answer, lines)
}

fn capturing() -> bool {
    CAPTURED.with(|c| c.borrow().is_some())
}

/// Prints `text` (one or more lines) on stdout, or into the current capture.
pub fn line(text: &str) {
    let kept = CAPTURED.with(|c| match c.borrow_mut().as_mut() {
        Some(lines) => {
            lines.extend(text.split('\n').map(str::to_string));
            true
        }
        None => false,
    });
    if !kept {
        println!("{text}");
    }
}

/// Prints `text` exactly as it is (it ends its own lines).
pub fn raw(text: &str) {
    let kept = CAPTURED.with(|c| match c.borrow_mut().as_mut() {
        Some(lines) => {
            lines.extend(text.split_terminator('\n').map(str::to_string));
            true
        }
        None => false,
    });
    if !kept {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

/// Colours only when stdout is a terminal (Thor's `say` does the same).
fn colour(code: &str, message: &str) -> String {
    static TTY: OnceLock<bool> = OnceLock::new();
    if !capturing() && *TTY.get_or_init(|| std::io::stdout().is_terminal()) {
        format!("\x1b[{code}m{message}\x1b[0m")
    } else {
        message.to_string()
    }
}

pub fn say(message: &str) {
    line(&colour("35", message));
}

pub fn say_red(message: &str) {
    line(&colour("31", message));
}

pub fn info(host: &str, message: &str) {
    line(&format!("  INFO [{host}] {message}"));
}

/// SSHKit's warning line.
pub fn warn(host: &str, message: &str) {
    line(&format!("  WARN [{host}] {message}"));
}

pub fn debug(host: &str, message: &str) {
    line(&format!("  DEBUG [{host}] \t{message}"));
}

/// `puts_by_host`: a host header (`App Host: H`, `Proxy Host: H`, `Accessory db Host: H`), then
/// its output.
pub fn by_host(host: &str, text: &str, quiet: bool) {
    by_host_labelled("App", host, text, quiet);
}

pub fn by_host_labelled(label: &str, host: &str, text: &str, quiet: bool) {
    if !quiet {
        line(&format!("{label} Host: {host}"));
    }
    line(&format!("{text}\n"));
}

/// The error line, on stderr.
pub fn error(class: &str, message: &str) {
    eprintln!("  \x1b[31mERROR ({class}): {message}\x1b[0m");
}
