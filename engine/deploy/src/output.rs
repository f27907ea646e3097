//! What Wharf prints: Kamal's step messages (magenta), host-prefixed progress and command echo
//! (`-v`), and the red error line. Everything goes through [`line`], which a test can redirect
//! with [`capture`] to assert the exact lines a command prints. With the JSON stream on
//! (`--output json`), these lines go to stderr (stdout is the stream's); with the live view on a
//! terminal, above it ([`crate::progress`]). `NO_COLOR` turns colours off.

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
        if crate::events::json_enabled() {
            eprintln!("{text}");
        } else if !crate::progress::print_above(text) {
            println!("{text}");
        }
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
        if crate::events::json_enabled() {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
            return;
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

/// Writes a command's output byte for byte (`exec --raw`: for piping, so not even UTF-8 is
/// assumed).
pub fn raw_bytes(bytes: &[u8]) {
    if capturing() {
        raw(&String::from_utf8_lossy(bytes));
        return;
    }
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

/// Colours only when stdout is a terminal (Thor's `say` does the same) and `NO_COLOR` is not set.
fn colour(code: &str, message: &str) -> String {
    static TTY: OnceLock<bool> = OnceLock::new();
    let wanted = || std::io::stdout().is_terminal() && crate::progress::colours_allowed();
    if !capturing() && *TTY.get_or_init(wanted) {
        format!("\x1b[{code}m{message}\x1b[0m")
    } else {
        message.to_string()
    }
}

pub fn say(message: &str) {
    crate::events::said(message);
    line(&colour("35", message));
}

pub fn say_red(message: &str) {
    crate::events::said(message);
    line(&colour("31", message));
}

pub fn info(host: &str, message: &str) {
    line(&format!("  INFO [{host}] {message}"));
}

/// SSHKit's warning line.
pub fn warn(host: &str, message: &str) {
    crate::events::warning(Some(host), message);
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

/// The error line, on stderr (red unless `NO_COLOR` is set).
pub fn error(class: &str, message: &str) {
    if crate::progress::colours_allowed() {
        eprintln!("  \x1b[31mERROR ({class}): {message}\x1b[0m");
    } else {
        eprintln!("  ERROR ({class}): {message}");
    }
}
