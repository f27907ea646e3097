//! The live view of a long run on a terminal: below Kamal's lines, one line per server with its
//! phase, what it is running and for how long, then an overall line (the phase, servers busy,
//! failed, elapsed). A server whose command failed turns red and says which command. Kamal's
//! lines still print, above the view, so nothing is lost.
//!
//! Only on a terminal, and never with `-v`, `-q` or `--output json`: then the output is exactly
//! Kamal's (see [`enable`]). `NO_COLOR` keeps the view, without colours. Fed by
//! [`crate::events`].

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct HostLine {
    host: String,
    phase: String,
    doing: String,
    since: Instant,
    failed: Option<String>,
}

struct View {
    command: String,
    phase: String,
    started: Instant,
    hosts: Vec<HostLine>,
    /// Lines of the view on screen now (to move back over them).
    drawn: usize,
    colour: bool,
}

static VIEW: Mutex<Option<View>> = Mutex::new(None);

/// Whether colours are allowed: not when `NO_COLOR` is set to anything non-empty
/// (<https://no-color.org>).
pub fn colours_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Starts the view for `command` on `hosts` when stdout is a terminal and neither `-v`, `-q`
/// nor the JSON stream is on (`WHARF_PROGRESS=0` turns it off; `=1` forces it, for tests).
pub fn enable(command: &str, hosts: &[String], verbose: bool, quiet: bool, json: bool) {
    let forced = std::env::var("WHARF_PROGRESS").ok();
    let wanted = match forced.as_deref() {
        Some("0") => false,
        Some("1") => !json,
        _ => std::io::stdout().is_terminal() && !verbose && !quiet && !json,
    };
    if !wanted || hosts.is_empty() {
        return;
    }
    let now = Instant::now();
    let view = View {
        command: command.to_string(),
        phase: "starting".into(),
        started: now,
        hosts: hosts
            .iter()
            .map(|h| HostLine {
                host: h.clone(),
                phase: String::new(),
                doing: "waiting".into(),
                since: now,
                failed: None,
            })
            .collect(),
        drawn: 0,
        colour: colours_allowed(),
    };
    *VIEW.lock().unwrap_or_else(|e| e.into_inner()) = Some(view);
    // Elapsed times move on their own.
    std::thread::spawn(|| loop {
        std::thread::sleep(Duration::from_millis(250));
        let mut guard = VIEW.lock().unwrap_or_else(|e| e.into_inner());
        match guard.as_mut() {
            Some(view) => redraw(view),
            None => return,
        }
    });
}

fn with_view(f: impl FnOnce(&mut View)) {
    if let Some(view) = VIEW.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        f(view);
        redraw(view);
    }
}

pub(crate) fn phase(id: &str) {
    with_view(|v| v.phase = id.to_string());
}

pub(crate) fn host_step(host: &str, phase: &str, command: &str) {
    with_view(|v| {
        if let Some(line) = v.hosts.iter_mut().find(|l| l.host == host) {
            line.phase = phase.to_string();
            line.doing = command.lines().next().unwrap_or("").to_string();
            line.since = Instant::now();
        }
    });
}

pub(crate) fn host_failed(host: &str, command: &str) {
    with_view(|v| {
        if let Some(line) = v.hosts.iter_mut().find(|l| l.host == host) {
            line.failed = Some(command.lines().next().unwrap_or("").to_string());
        }
    });
}

/// Prints Kamal's `text` above the view; false when there is no view (print it as usual).
pub fn print_above(text: &str) -> bool {
    let mut guard = VIEW.lock().unwrap_or_else(|e| e.into_inner());
    let Some(view) = guard.as_mut() else { return false };
    let mut out = std::io::stdout().lock();
    clear(view, &mut out);
    let _ = writeln!(out, "{text}");
    draw(view, &mut out);
    true
}

/// Ends the view: it is replaced by the summary (time per phase, then per server).
pub fn finish(summary: Option<&crate::events::Summary>) {
    let Some(mut view) = VIEW.lock().unwrap_or_else(|e| e.into_inner()).take() else { return };
    let mut out = std::io::stdout().lock();
    clear(&mut view, &mut out);
    if let Some(s) = summary {
        let phases: Vec<String> = s.phases.iter().map(|(p, d)| format!("{p} {:.1}s", d.as_secs_f64())).collect();
        let _ = writeln!(out, "{}", paint(view.colour, "2", &format!("  Phases: {}", phases.join(", "))));
        let _ = writeln!(out, "{}", paint(view.colour, "2", "  Servers:"));
        let name_width = s.hosts.iter().map(|h| h.host.len()).max().unwrap_or(0).min(30);
        for h in &s.hosts {
            let phases: Vec<String> = h.phases.iter().map(|(p, d)| format!("{p} {:.1}s", d.as_secs_f64())).collect();
            let line = format!(
                "    {:<name_width$}  {:.1}s{}  ({})",
                h.host,
                h.busy.as_secs_f64(),
                if h.failed { " failed" } else { "" },
                phases.join(", ")
            );
            let _ = writeln!(out, "{}", paint(view.colour, if h.failed { "31" } else { "2" }, &line));
        }
    }
    let _ = out.flush();
}

fn paint(colour: bool, code: &str, text: &str) -> String {
    if colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn width() -> usize {
    // SAFETY: TIOCGWINSZ fills a winsize struct we own; a failure leaves it zeroed.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    if ok && size.ws_col > 20 {
        size.ws_col as usize
    } else {
        100
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut t: String = text.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

fn clear(view: &mut View, out: &mut impl Write) {
    if view.drawn > 0 {
        let _ = write!(out, "\x1b[{}A\r\x1b[J", view.drawn);
        view.drawn = 0;
    }
}

fn draw(view: &mut View, out: &mut impl Write) {
    let cols = width() - 1;
    let name_width = view.hosts.iter().map(|l| l.host.len()).max().unwrap_or(0).min(30);
    let mut lines = vec![];
    for l in &view.hosts {
        let elapsed = format!("{:>5.1}s", l.since.elapsed().as_secs_f64());
        let text = match &l.failed {
            Some(cmd) => format!("  ✗ {:<name_width$}  {:<16} failed: {cmd}", l.host, l.phase),
            None => format!("  ● {:<name_width$}  {:<16} {elapsed}  {}", l.host, l.phase, l.doing),
        };
        let text = truncate(&text, cols);
        lines.push(if l.failed.is_some() { paint(view.colour, "31", &text) } else { text });
    }
    let failed = view.hosts.iter().filter(|l| l.failed.is_some()).count();
    let overall = format!(
        "  {} · {} · {} servers{} · {:.1}s",
        view.command,
        view.phase,
        view.hosts.len(),
        if failed > 0 { format!(" · {failed} failed") } else { String::new() },
        view.started.elapsed().as_secs_f64()
    );
    lines.push(paint(view.colour, "1", &truncate(&overall, cols)));
    for line in &lines {
        let _ = writeln!(out, "{line}");
    }
    view.drawn = lines.len();
    let _ = out.flush();
}

fn redraw(view: &mut View) {
    let mut out = std::io::stdout().lock();
    clear(view, &mut out);
    draw(view, &mut out);
}
