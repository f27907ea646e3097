//! JSON log lines on stdout, as upstream's slog JSON handler writes them: `time`, `level`, `msg`,
//! then the attributes in order. Lines are handed to one writer thread that batches them into
//! few writes under load and flushes as soon as it is idle, so logging never blocks a request on
//! a syscall.

use serde_json::Value;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Mutex, OnceLock};

static DEBUG: AtomicBool = AtomicBool::new(false);

pub fn set_debug(on: bool) {
    DEBUG.store(on, Ordering::Relaxed);
}

pub fn debug_enabled() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

#[derive(Clone, Copy)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

enum Message {
    Line(Vec<u8>),
    Flush(SyncSender<()>),
}

fn sender() -> Sender<Message> {
    static SENDER: OnceLock<Mutex<Sender<Message>>> = OnceLock::new();
    SENDER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel();
            std::thread::Builder::new().name("log-writer".into()).spawn(move || write_loop(rx)).expect("log thread");
            Mutex::new(tx)
        })
        .lock()
        .unwrap()
        .clone()
}

thread_local! {
    static SENDER_CACHE: Sender<Message> = sender();
}

fn write_loop(rx: Receiver<Message>) {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Line(line) => {
                    let _ = out.write_all(&line);
                }
                Message::Flush(done) => {
                    let _ = out.flush();
                    let _ = done.send(());
                }
            }
            next = rx.try_recv().ok();
        }
        let _ = out.flush();
        // Batch: under load many lines arrive in the next few milliseconds; sleeping here means
        // senders rarely have to wake this thread (one write per batch, not per request).
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

fn send(line: Vec<u8>) {
    SENDER_CACHE.with(|s| {
        let _ = s.send(Message::Line(line));
    });
}

/// Waits until every line logged so far has been written (call before exiting).
pub fn flush() {
    let (tx, rx) = mpsc::sync_channel(1);
    if sender().send(Message::Flush(tx)).is_ok() {
        let _ = rx.recv_timeout(std::time::Duration::from_secs(2));
    }
}

/// Builds one JSON object line, keys in the order they are added.
pub struct Line {
    buf: Vec<u8>,
}

impl Line {
    pub fn new(level: Level, msg: &str) -> Self {
        let mut buf = Vec::with_capacity(512);
        buf.extend_from_slice(b"{\"time\":\"");
        buf.extend_from_slice(now_rfc3339().as_bytes());
        buf.extend_from_slice(b"\",\"level\":\"");
        buf.extend_from_slice(level.as_str().as_bytes());
        buf.extend_from_slice(b"\",\"msg\":");
        let _ = serde_json::to_writer(&mut buf, msg);
        Line { buf }
    }

    fn key(&mut self, key: &str) {
        self.buf.push(b',');
        let _ = serde_json::to_writer(&mut self.buf, key);
        self.buf.push(b':');
    }

    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        let _ = serde_json::to_writer(&mut self.buf, value);
        self
    }

    pub fn num(&mut self, key: &str, value: impl itoa::Integer) -> &mut Self {
        self.key(key);
        self.buf.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
        self
    }

    pub fn value(&mut self, key: &str, value: &Value) -> &mut Self {
        self.key(key);
        let _ = serde_json::to_writer(&mut self.buf, value);
        self
    }

    pub fn emit(mut self) {
        self.buf.extend_from_slice(b"}\n");
        send(self.buf);
    }
}

pub fn log(level: Level, msg: &str, attrs: &[(&str, Value)]) {
    if matches!(level, Level::Debug) && !debug_enabled() {
        return;
    }
    let mut line = Line::new(level, msg);
    for (k, v) in attrs {
        line.value(k, v);
    }
    line.emit();
}

/// RFC 3339 with nanoseconds in UTC, as Go's slog writes times.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

#[macro_export]
macro_rules! log_info {
    ($msg:expr $(, $k:expr => $v:expr)* $(,)?) => {
        $crate::logging::log($crate::logging::Level::Info, $msg, &[$(($k, serde_json::json!($v))),*])
    };
}

#[macro_export]
macro_rules! log_warn {
    ($msg:expr $(, $k:expr => $v:expr)* $(,)?) => {
        $crate::logging::log($crate::logging::Level::Warn, $msg, &[$(($k, serde_json::json!($v))),*])
    };
}

#[macro_export]
macro_rules! log_error {
    ($msg:expr $(, $k:expr => $v:expr)* $(,)?) => {
        $crate::logging::log($crate::logging::Level::Error, $msg, &[$(($k, serde_json::json!($v))),*])
    };
}

#[macro_export]
macro_rules! log_debug {
    ($msg:expr $(, $k:expr => $v:expr)* $(,)?) => {
        if $crate::logging::debug_enabled() {
            $crate::logging::log($crate::logging::Level::Debug, $msg, &[$(($k, serde_json::json!($v))),*])
        }
    };
}
