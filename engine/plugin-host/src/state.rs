//! What one call's `Store` holds: WASI, the limiter, and the call's shared state (identity,
//! grant, limits, output accounting, log sink).
//!
//! Everything said about a call counts against its output limit: the guest's log lines,
//! stdout and stderr, and the host's own lines about it (denials, the programs it runs), so a
//! plugin cannot make Wharf print, or keep in memory, more than its limit. Records pass one
//! behind: a secret written in two pieces by consecutive writes is masked in both.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::grant::{Effective, Limits};
use crate::mask::Masker;

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

/// The wall-clock deadline passed.
#[derive(Debug)]
pub(crate) struct DeadlineHit;

impl std::fmt::Display for DeadlineHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("deadline exceeded")
    }
}

impl std::error::Error for DeadlineHit {}

/// State shared by the store, the WASI output streams and the host functions of one call.
pub(crate) struct Call {
    pub plugin: String,
    pub masker: Masker,
    pub sink: LogSink,
    pub caps: Effective,
    pub limits: Limits,
    pub deadline: Instant,
    output: Mutex<Output>,
    pub timed_out: AtomicBool,
    pub output_exceeded: AtomicBool,
    pub memory_exceeded: AtomicBool,
    /// Records held back until the call returns (secrets adapters: so that the values they
    /// return are masked in what they logged while fetching them).
    held: Option<Mutex<Vec<LogRecord>>>,
    /// The last record, not yet passed on (unmasked), and the byte ranges at its start that
    /// belong to a secret begun in the record before it.
    pending: Mutex<Option<(LogRecord, Vec<(usize, usize)>)>>,
}

#[derive(Default)]
struct Output {
    used: usize,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// The last few stderr lines (masked), to explain a crash.
    stderr_tail: std::collections::VecDeque<String>,
}

/// What a table element is counted as against the memory limit (a reference, with room).
const TABLE_ELEMENT_BYTES: usize = 16;

/// How many stderr lines are kept for a crash message.
const STDERR_TAIL: usize = 4;

impl Call {
    /// `hold`: keep log records until [`Call::release`] instead of passing them on at once.
    pub fn new(plugin: String, masker: Masker, sink: LogSink, caps: Effective, limits: Limits, hold: bool) -> Call {
        Call {
            held: hold.then(|| Mutex::new(vec![])),
            plugin,
            masker,
            sink,
            caps,
            limits,
            // (a timeout too long to add is as good as none)
            deadline: Instant::now()
                .checked_add(limits.timeout)
                .unwrap_or_else(|| Instant::now() + std::time::Duration::from_secs(100 * 365 * 24 * 3600)),
            output: Mutex::new(Output::default()),
            pending: Mutex::new(None),
            timed_out: AtomicBool::new(false),
            output_exceeded: AtomicBool::new(false),
            memory_exceeded: AtomicBool::new(false),
        }
    }

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
                (self.sink)(&LogRecord { plugin: self.plugin.clone(), level: Level::Warn, stream: Stream::Host, message });
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

    /// Time left before the deadline.
    pub fn remaining(&self) -> std::time::Duration {
        self.deadline.saturating_duration_since(Instant::now())
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
    crate::mask::replace(text, &spans)
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

/// Memory limiter: [`StoreLimits`] for counts and tables, plus a limit on all linear memories
/// and tables of the store together that records when it refused to grow.
pub(crate) struct Limiter {
    inner: StoreLimits,
    limit: usize,
    total: usize,
    call: Arc<Call>,
}

impl Limiter {
    pub fn new(limit: u64, call: Arc<Call>) -> Limiter {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Limiter {
            inner: StoreLimitsBuilder::new().memory_size(limit).instances(64).tables(64).memories(64).build(),
            limit,
            total: 0,
            call,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let grow = desired.saturating_sub(current);
        let allowed =
            self.inner.memory_growing(current, desired, maximum)? && self.total.saturating_add(grow) <= self.limit;
        if allowed {
            self.total += grow;
        } else if maximum.is_none_or(|m| desired <= m) {
            // Refused by our limit, not by the memory's own declared maximum.
            self.call.memory_exceeded.store(true, Ordering::SeqCst);
        }
        Ok(allowed)
    }

    /// Tables count against the same limit as memories (with the on-demand allocator nothing
    /// else bounds them), at 16 bytes an element.
    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let grow = desired.saturating_sub(current).saturating_mul(TABLE_ELEMENT_BYTES);
        let allowed = self.inner.table_growing(current, desired, maximum)? && self.total.saturating_add(grow) <= self.limit;
        if allowed {
            self.total += grow;
        } else {
            // The maximum here may be the pooling allocator's slot size as well as the
            // table's own: either way, a refusal is the host's limit as far as the user goes.
            self.call.memory_exceeded.store(true, Ordering::SeqCst);
        }
        Ok(allowed)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// The data of a call's `Store`.
pub(crate) struct State {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limiter: Limiter,
    pub call: Arc<Call>,
    pub http: crate::http::HttpState,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
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
