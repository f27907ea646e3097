//! The `log` capability: what a plugin says (`wharf:plugin/log`, and WASI's stdout and
//! stderr), with secret values masked.
//!
//! - Nothing to declare or grant: every plugin may log. What bounds it is the call's output
//!   limit ([`Limits::output`](crate::Limits::output), [`Grant::output`](crate::Grant::output)).
//! - The check is the output accounting: everything said about a call counts against its
//!   output limit (the guest's log lines, stdout and stderr, and the host's own lines about it:
//!   denials, the programs it runs), so a plugin cannot make Wharf print, or keep in memory,
//!   more than its limit (`plugin X exceeded its output limit (1 MiB)`).
//! - Implemented by `log::Host`, and by the guest's stdout and stderr ([`GuestPipe`], [`wasi`]),
//!   logged line by line. Records pass one behind: a secret written in two pieces by
//!   consecutive writes is masked in both ([`mask`] matches the values and their encodings).

pub mod mask;

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};

use wasmtime::component::{HasSelf, Linker};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};
use wasmtime_wasi::WasiCtxBuilder;

use self::mask::Masker;
use crate::bindings::v0_1::imports::wharf::plugin::log as wit;
use crate::state::{Call, State};

// ---- log records and where they go (nothing to declare or grant) ----

/// Severity of a plugin's log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Where a log line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stream {
    /// The `log` import.
    Log,
    /// The guest's stdout (logged at `info`).
    Stdout,
    /// The guest's stderr (logged at `warn`).
    Stderr,
    /// The host, about the plugin (for example each program it runs, at `debug`).
    Host,
}

/// One line a plugin said, with secret values already masked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    pub plugin: String,
    pub level: Level,
    pub stream: Stream,
    pub message: String,
}

/// Where log records go. Called synchronously from the call's task: keep it quick.
pub type LogSink = Arc<dyn Fn(&LogRecord) + Send + Sync>;

/// The default sink: `info` and above to stderr, as `[plugin] message`.
pub fn stderr_sink() -> LogSink {
    Arc::new(|r: &LogRecord| {
        if r.level >= Level::Info {
            eprintln!("[{}] {}", r.plugin, r.message);
        }
    })
}

/// The output limit was hit (the call is being stopped).
#[derive(Debug)]
pub(crate) struct OutputLimitHit;

impl std::fmt::Display for OutputLimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("output limit exceeded")
    }
}

impl std::error::Error for OutputLimitHit {}

// ---- the output accounting, and masking ----

/// What a call said so far: the bytes counted against its output limit, the unterminated
/// stdout and stderr lines, the last stderr lines.
#[derive(Default)]
pub(crate) struct Output {
    used: usize,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// The last few stderr lines (masked), to explain a crash.
    stderr_tail: std::collections::VecDeque<String>,
}

/// How many stderr lines are kept for a crash message.
const STDERR_TAIL: usize = 4;

impl Call {
    /// Counts `n` bytes against the output limit.
    fn charge(&self, out: &mut Output, n: usize) -> Result<(), OutputLimitHit> {
        if out.used.saturating_add(n) > self.limits.output {
            self.output_exceeded.store(true, Ordering::SeqCst);
            return Err(OutputLimitHit);
        }
        out.used += n;
        Ok(())
    }

    /// Passes a record on (held, or to the sink one record behind, masked).
    pub(crate) fn emit(&self, level: Level, stream: Stream, message: &str) {
        let record = LogRecord { plugin: self.plugin.clone(), level, stream, message: message.to_string() };
        if let Some(held) = &self.held {
            held.lock().unwrap().push(record);
            return;
        }
        let ready = {
            let mut pending = self.pending.lock().unwrap();
            let (ready, carried) = match pending.take() {
                Some((prev, prev_extra)) => {
                    let (prev_masked, carried) = mask_pair(&self.masker, &prev.message, &prev_extra, &record.message);
                    (Some(LogRecord { message: prev_masked, ..prev }), carried)
                }
                None => (None, vec![]),
            };
            *pending = Some((record, carried));
            ready
        };
        if let Some(r) = ready {
            (self.sink)(&r);
        }
    }

    /// Passes on the record still pending (at the end of the call).
    fn emit_pending(&self) {
        let last = self.pending.lock().unwrap().take();
        if let Some((r, extra)) = last {
            let message = mask_with(&self.masker, &r.message, &extra);
            (self.sink)(&LogRecord { message, ..r });
        }
    }

    /// Passes on the held records, masking `extra` secret values too.
    pub fn release(&self, extra: &[String]) {
        self.emit_pending();
        let Some(held) = &self.held else { return };
        let records = std::mem::take(&mut *held.lock().unwrap());
        if records.is_empty() {
            return;
        }
        let mut masker = self.masker.clone();
        masker.extend(extra);
        let mut carried = vec![];
        for i in 0..records.len() {
            let next = records.get(i + 1).map(|r| r.message.as_str()).unwrap_or("");
            let (message, next_extra) = mask_pair(&masker, &records[i].message, &carried, next);
            carried = next_extra;
            (self.sink)(&LogRecord { message, ..records[i].clone() });
        }
    }

    /// Drops the held records (they may hold values the host refused to take, so cannot
    /// mask) and says so in a host line instead.
    pub fn discard(&self, why: &str) {
        if let Some(held) = &self.held {
            let dropped = std::mem::take(&mut *held.lock().unwrap()).len();
            if dropped > 0 {
                let lines = if dropped == 1 { "line" } else { "lines" };
                let message = format!("plugin {}: {dropped} {lines} of its output withheld ({why})", self.plugin);
                (self.sink)(&LogRecord {
                    plugin: self.plugin.clone(),
                    level: Level::Warn,
                    stream: Stream::Host,
                    message,
                });
            }
        }
    }

    /// A message from the `log` import.
    pub fn log(&self, level: Level, message: &str) -> Result<(), OutputLimitHit> {
        self.charge(&mut self.output.lock().unwrap(), message.len())?;
        self.emit(level, Stream::Log, message);
        Ok(())
    }

    /// A line from the host about the call (a denial, a program it ran), counted against the
    /// call's output limit like the plugin's own lines: past the limit it is dropped and the
    /// call is stopped.
    pub fn host_line(&self, level: Level, message: &str) {
        if self.charge(&mut self.output.lock().unwrap(), message.len()).is_err() {
            return;
        }
        self.emit(level, Stream::Host, message);
    }

    /// A note from the host about the call (at `debug`).
    pub fn note(&self, message: &str) {
        self.host_line(Level::Debug, message);
    }

    /// Bytes the guest wrote to stdout or stderr: logged line by line.
    fn write(&self, stream: Stream, bytes: &[u8]) -> Result<(), OutputLimitHit> {
        let mut lines = vec![];
        {
            let mut out = self.output.lock().unwrap();
            self.charge(&mut out, bytes.len())?;
            let buf = if stream == Stream::Stdout { &mut out.stdout } else { &mut out.stderr };
            buf.extend_from_slice(bytes);
            while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = buf.drain(..=pos).collect();
                lines.push(String::from_utf8_lossy(&line[..pos]).trim_end_matches('\r').to_string());
            }
        }
        let level = if stream == Stream::Stdout { Level::Info } else { Level::Warn };
        for line in lines {
            if stream == Stream::Stderr {
                self.remember_stderr(&line);
            }
            self.emit(level, stream, &line);
        }
        Ok(())
    }

    fn remember_stderr(&self, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        let mut out = self.output.lock().unwrap();
        if out.stderr_tail.len() == STDERR_TAIL {
            out.stderr_tail.pop_front();
        }
        out.stderr_tail.push_back(self.masker.mask(line).into_owned());
    }

    /// The last lines the guest wrote to stderr (masked), oldest first.
    pub fn stderr_tail(&self) -> Vec<String> {
        self.output.lock().unwrap().stderr_tail.iter().cloned().collect()
    }

    /// Logs what is left of unterminated stdout/stderr lines, and the record still pending
    /// (at the end of the call).
    pub fn flush(&self) {
        let (o, e) = {
            let mut out = self.output.lock().unwrap();
            (std::mem::take(&mut out.stdout), std::mem::take(&mut out.stderr))
        };
        if !o.is_empty() {
            self.emit(Level::Info, Stream::Stdout, &String::from_utf8_lossy(&o));
        }
        if !e.is_empty() {
            let line = String::from_utf8_lossy(&e);
            self.remember_stderr(&line);
            self.emit(Level::Warn, Stream::Stderr, &line);
        }
        self.emit_pending();
    }
}

/// `text` masked, with the byte ranges `extra` masked too.
fn mask_with(masker: &Masker, text: &str, extra: &[(usize, usize)]) -> String {
    let mut spans = masker.spans(text);
    if spans.is_empty() && extra.is_empty() {
        return text.to_string();
    }
    spans.extend_from_slice(extra);
    spans.sort();
    mask::replace(text, &spans)
}

/// Masks `text` knowing the text that follows it: a secret that starts in `text` and ends in
/// `next` is masked in both. Returns `text` masked and the ranges of `next` to mask for it.
fn mask_pair(masker: &Masker, text: &str, extra: &[(usize, usize)], next: &str) -> (String, Vec<(usize, usize)>) {
    let mut own = extra.to_vec();
    let mut carried = vec![];
    if !next.is_empty() && masker.longest() > 1 {
        // only the end of `text` and the start of `next` can hold a secret split between them
        let reach = masker.longest() - 1;
        let mut from = text.len().saturating_sub(reach);
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        let mut to = reach.min(next.len());
        while !next.is_char_boundary(to) {
            to += 1;
        }
        let joined = format!("{}{}", &text[from..], &next[..to]);
        let cut = text.len() - from;
        for (a, b) in masker.spans(&joined) {
            if a < cut && b > cut {
                own.push((from + a, text.len()));
                carried.push((0, b - cut));
            }
        }
    }
    (mask_with(masker, text, &own), carried)
}

// ---- the host implementation (`wharf:plugin/log`, the guest's stdout and stderr) ----

/// Adds `wharf:plugin/log` to the linker.
pub(crate) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    wit::add_to_linker::<State, HasSelf<State>>(linker, |s| s)
}

/// Sends the guest's stdout and stderr to the call's log.
pub(crate) fn wasi(wasi: &mut WasiCtxBuilder, call: &Arc<Call>) {
    wasi.stdout(GuestPipe { call: call.clone(), stream: Stream::Stdout })
        .stderr(GuestPipe { call: call.clone(), stream: Stream::Stderr });
}

impl wit::Host for State {
    async fn log(&mut self, level: wit::Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            wit::Level::Trace => Level::Trace,
            wit::Level::Debug => Level::Debug,
            wit::Level::Info => Level::Info,
            wit::Level::Warn => Level::Warn,
            wit::Level::Error => Level::Error,
        };
        self.call.log(level, &message).map_err(|e: OutputLimitHit| wasmtime::Error::new(e))
    }
}

/// The guest's stdout or stderr: captured into the call's log, line by line.
pub(crate) struct GuestPipe {
    pub call: Arc<Call>,
    pub stream: Stream,
}

impl IsTerminal for GuestPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(GuestWriter { call: self.call.clone(), stream: self.stream })
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(GuestWriter { call: self.call.clone(), stream: self.stream })
    }
}

struct GuestWriter {
    call: Arc<Call>,
    stream: Stream,
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestWriter {
    async fn ready(&mut self) {}
}

impl OutputStream for GuestWriter {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.call.write(self.stream, &bytes).map_err(|e| StreamError::Trap(wasmtime::Error::new(e)))
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for GuestWriter {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Poll::Ready(match self.call.write(self.stream, buf) {
            Ok(()) => Ok(buf.len()),
            Err(e) => Err(std::io::Error::other(e)),
        })
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
